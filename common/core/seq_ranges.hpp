#pragma once
/// An interval set over uint64 sequence numbers with a bound on its number of
/// ranges: the one implementation of "which seqs" for the spool, the outbox,
/// plant-watch's audit and the register. Seqs are never 0 on the wire, so a
/// set's count (at most 2^64 - 1 members) cannot overflow.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <vector>

namespace plant {

/// The highest sequence number any component accepts as real. An agent sealing a
/// million messages a second would need 146,000 years to get there, so a larger
/// seq on disk or on the wire is damage or forgery, never data: spool recovery
/// treats it as damage and consumers ignore it (counted), so no sum over seqs
/// or ranges can overflow.
inline constexpr std::uint64_t max_plausible_seq = 1ull << 62;

/// True for a seq a message may carry: 1..max_plausible_seq.
inline bool plausible_seq(std::uint64_t seq) { return seq >= 1 && seq <= max_plausible_seq; }

/// An inclusive range of sequence numbers.
struct seq_range {
  std::uint64_t first = 0;  ///< lowest seq in the range
  std::uint64_t last = 0;   ///< highest seq in the range (inclusive)

  /// The number of seqs in the range.
  std::uint64_t count() const { return last - first + 1; }
  friend bool operator==(const seq_range& a, const seq_range& b) { return a.first == b.first && a.last == b.last; }
  friend bool operator!=(const seq_range& a, const seq_range& b) { return !(a == b); }
};

/// Seqs as sorted disjoint ranges (map first -> last). Adjacent ranges merge, so a
/// run of consecutive seqs costs one node whatever its length.
class seq_ranges {
 public:
  /// What to give up when an add would exceed max_ranges.
  enum class overflow : std::uint8_t {
    drop_oldest,   ///< forget the lowest range (acks: forgetting one only causes a resend)
    merge_oldest,  ///< join the two lowest ranges across their gap (losses: over-report, never under-report)
    refuse,        ///< do not store what would need a new range past the bound; count it (an audit's seen seqs)
  };

  /// What insert() did with one seq.
  enum class insert_result : std::uint8_t { added, duplicate, untracked };

  /// No practical bound: for sets whose size is bounded elsewhere (a segment's stored seqs).
  static constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

  /// An empty set holding at most `max_ranges` (>= 1) ranges.
  explicit seq_ranges(std::size_t max_ranges = 4096, overflow policy = overflow::merge_oldest);

  /// Adds one seq; returns what the bound made it drop or merge in, if anything.
  std::optional<seq_range> add(std::uint64_t seq) { return add(seq, seq); }
  /// Adds [first, last]; returns what the bound made it drop (drop_oldest) or the gap it filled (merge_oldest).
  std::optional<seq_range> add(std::uint64_t first, std::uint64_t last);
  /// Adds one seq and says whether it was new (or not stored because of a `refuse` bound).
  insert_result insert(std::uint64_t seq);
  /// Removes [first, last] from the set (never fails: removing at most splits one range,
  /// and a split past the bound is resolved by the policy like an add).
  void erase(std::uint64_t first, std::uint64_t last);
  /// True if `seq` is in the set.
  bool contains(std::uint64_t seq) const;
  /// The range holding `seq`, if any.
  std::optional<seq_range> find(std::uint64_t seq) const;
  /// The smallest member >= `seq`, if any.
  std::optional<std::uint64_t> next_at_or_after(std::uint64_t seq) const;
  /// The number of members < `seq` (walks the ranges below it).
  std::uint64_t rank(std::uint64_t seq) const;
  /// The number of members in [first, last].
  std::uint64_t count_in(std::uint64_t first, std::uint64_t last) const;
  /// The parts of [first, last] that are NOT in the set, in order.
  std::vector<seq_range> gaps_within(std::uint64_t first, std::uint64_t last) const;
  /// Calls f(a, b) for each maximal part [a, b] of [first, last] that is in the set, in order.
  template <typename F>
  void for_each_overlap(std::uint64_t first, std::uint64_t last, F&& f) const;
  /// The holes between lowest() and highest(), at most `limit` of them; `truncated` says whether more exist.
  std::vector<seq_range> holes(std::size_t limit, bool& truncated) const;
  /// How many seqs between lowest() and highest() are not in the set.
  std::uint64_t hole_count() const;
  /// Removes every member < `seq`.
  void erase_below(std::uint64_t seq);
  /// Removes everything (the overflow counter stays).
  void clear();

  /// The number of seqs in the set.
  std::uint64_t count() const { return count_; }
  /// The ranges in ascending order.
  std::vector<seq_range> ranges() const;
  /// The number of ranges.
  std::size_t size() const { return ranges_.size(); }
  /// True if the set has no member.
  bool empty() const { return ranges_.empty(); }
  /// The lowest member, if any.
  std::optional<std::uint64_t> lowest() const;
  /// The highest member, if any.
  std::optional<std::uint64_t> highest() const;
  /// Seqs the bound forgot (drop_oldest), added without cause (merge_oldest) or refused (refuse), since construction.
  std::uint64_t overflowed() const { return overflowed_; }
  /// The bound on the number of ranges.
  std::size_t max_ranges() const { return max_ranges_; }

 private:
  std::optional<seq_range> enforce_bound();

  std::map<std::uint64_t, std::uint64_t> ranges_;
  std::uint64_t count_ = 0;
  std::uint64_t overflowed_ = 0;
  std::size_t max_ranges_;
  overflow policy_;
};

template <typename F>
void seq_ranges::for_each_overlap(std::uint64_t first, std::uint64_t last, F&& f) const {
  if (first > last) return;
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin() && std::prev(it)->second >= first) --it;
  for (; it != ranges_.end() && it->first <= last; ++it) {
    const std::uint64_t a = it->first < first ? first : it->first;
    const std::uint64_t b = it->second > last ? last : it->second;
    f(a, b);
  }
}

}  // namespace plant
