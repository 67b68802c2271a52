#pragma once
/// A set of unsigned 64-bit numbers stored as disjoint inclusive ranges, so
/// millions of consecutive sequence numbers cost one map node. The number of
/// ranges is bounded; values that would need a new range past the bound are
/// counted as untracked instead of stored.
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace plant::watch {

class interval_set {
 public:
  /// What insert() did with a value.
  enum class insert_result { added, duplicate, untracked };

  /// A set of at most 200000 ranges (~10 MB).
  interval_set() = default;
  /// `max_ranges` bounds memory (~50 bytes per range).
  explicit interval_set(std::size_t max_ranges) : max_ranges_(max_ranges) {}

  /// Adds one value.
  insert_result insert(std::uint64_t value);
  /// Adds every value in [first, last] (swapped when first > last).
  void insert_range(std::uint64_t first, std::uint64_t last);
  /// True when `value` is in the set.
  bool contains(std::uint64_t value) const;

  /// How many values the set holds.
  std::uint64_t size() const { return size_; }
  /// True when the set holds nothing.
  bool empty() const { return ranges_.empty(); }
  /// The smallest value; 0 when empty.
  std::uint64_t min() const { return ranges_.empty() ? 0 : ranges_.begin()->first; }
  /// The largest value; 0 when empty.
  std::uint64_t max() const { return ranges_.empty() ? 0 : ranges_.rbegin()->second; }
  /// The number of disjoint ranges.
  std::size_t range_count() const { return ranges_.size(); }
  /// Values (or ranges) not stored because the range bound was reached.
  std::uint64_t untracked() const { return untracked_; }
  /// The ranges in ascending order (first -> last, inclusive).
  const std::map<std::uint64_t, std::uint64_t>& ranges() const { return ranges_; }

  /// The holes between min() and max() as inclusive ranges, at most `limit` of them;
  /// `truncated` says whether more exist.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> holes(std::size_t limit, bool& truncated) const;
  /// How many values between min() and max() are not in the set.
  std::uint64_t hole_count() const;

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;  // first -> last
  std::uint64_t size_ = 0;
  std::uint64_t untracked_ = 0;
  std::size_t max_ranges_ = 200000;
};

}  // namespace plant::watch
