#include "common/core/seq_ranges.hpp"

#include <iterator>

namespace plant {

namespace {

// True if a range ending at `a_last` overlaps or directly precedes one starting at
// `b_first`; written to avoid the +1/-1 overflows at both ends of uint64.
bool touches(std::uint64_t a_last, std::uint64_t b_first) { return b_first == 0 || a_last >= b_first - 1; }

}  // namespace

seq_ranges::seq_ranges(std::size_t max_ranges, overflow policy)
    : max_ranges_(max_ranges == 0 ? 1 : max_ranges), policy_(policy) {}

std::optional<seq_range> seq_ranges::add(std::uint64_t first, std::uint64_t last) {
  if (first > last) return std::nullopt;
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin() && touches(std::prev(it)->second, first)) --it;
  if (policy_ == overflow::refuse && ranges_.size() >= max_ranges_ &&
      (it == ranges_.end() || !touches(last, it->first))) {
    // It would need a range of its own: not stored, counted.
    const seq_range refused{first, last};
    overflowed_ += refused.count();
    return refused;
  }
  std::uint64_t new_first = first;
  std::uint64_t new_last = last;
  while (it != ranges_.end() && touches(new_last, it->first)) {
    if (it->first < new_first) new_first = it->first;
    if (it->second > new_last) new_last = it->second;
    count_ -= it->second - it->first + 1;
    it = ranges_.erase(it);
  }
  ranges_.emplace_hint(it, new_first, new_last);
  count_ += new_last - new_first + 1;
  return enforce_bound();
}

std::optional<seq_range> seq_ranges::enforce_bound() {
  if (ranges_.size() <= max_ranges_) return std::nullopt;
  auto lowest = ranges_.begin();
  if (policy_ != overflow::merge_oldest || ranges_.size() < 2) {
    const seq_range dropped{lowest->first, lowest->second};
    count_ -= dropped.count();
    overflowed_ += dropped.count();
    ranges_.erase(lowest);
    return dropped;
  }
  auto second = std::next(lowest);
  const seq_range gap{lowest->second + 1, second->first - 1};
  const std::uint64_t merged_last = second->second;
  ranges_.erase(second);
  lowest->second = merged_last;
  count_ += gap.count();
  overflowed_ += gap.count();
  return gap;
}

seq_ranges::insert_result seq_ranges::insert(std::uint64_t seq) {
  if (contains(seq)) return insert_result::duplicate;
  const auto refused = add(seq);
  // With drop_oldest a new seq may push out an old range, but the seq itself is in.
  if (refused && policy_ == overflow::refuse) return insert_result::untracked;
  return insert_result::added;
}

void seq_ranges::erase(std::uint64_t first, std::uint64_t last) {
  if (first > last || ranges_.empty()) return;
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin() && std::prev(it)->second >= first) --it;
  std::optional<seq_range> keep_left, keep_right;
  while (it != ranges_.end() && it->first <= last) {
    if (it->first < first) keep_left = seq_range{it->first, first - 1};
    if (it->second > last) keep_right = seq_range{last + 1, it->second};
    count_ -= it->second - it->first + 1;
    it = ranges_.erase(it);
  }
  for (const auto& part : {keep_left, keep_right}) {
    if (!part) continue;
    ranges_.emplace(part->first, part->last);
    count_ += part->count();
  }
  enforce_bound();
}

std::vector<seq_range> seq_ranges::holes(std::size_t limit, bool& truncated) const {
  std::vector<seq_range> result;
  truncated = false;
  if (ranges_.empty()) return result;
  auto it = ranges_.begin();
  std::uint64_t previous_last = it->second;
  for (++it; it != ranges_.end(); ++it) {
    if (result.size() >= limit) {
      truncated = true;
      break;
    }
    result.push_back({previous_last + 1, it->first - 1});
    previous_last = it->second;
  }
  return result;
}

std::uint64_t seq_ranges::hole_count() const {
  if (ranges_.empty()) return 0;
  // highest - lowest + 1 can be 2^64 for a set holding 0 and 2^64 - 1; count the holes instead.
  return (ranges_.rbegin()->second - ranges_.begin()->first) - (count_ - 1);
}

bool seq_ranges::contains(std::uint64_t seq) const {
  auto it = ranges_.upper_bound(seq);
  return it != ranges_.begin() && std::prev(it)->second >= seq;
}

std::optional<seq_range> seq_ranges::find(std::uint64_t seq) const {
  auto it = ranges_.upper_bound(seq);
  if (it == ranges_.begin()) return std::nullopt;
  --it;
  if (it->second < seq) return std::nullopt;
  return seq_range{it->first, it->second};
}

std::optional<std::uint64_t> seq_ranges::next_at_or_after(std::uint64_t seq) const {
  auto it = ranges_.upper_bound(seq);
  if (it != ranges_.begin() && std::prev(it)->second >= seq) return seq;
  if (it == ranges_.end()) return std::nullopt;
  return it->first;
}

std::uint64_t seq_ranges::rank(std::uint64_t seq) const {
  std::uint64_t n = 0;
  for (const auto& [first, last] : ranges_) {
    if (first >= seq) break;
    n += (last < seq ? last : seq - 1) - first + 1;
  }
  return n;
}

std::uint64_t seq_ranges::count_in(std::uint64_t first, std::uint64_t last) const {
  std::uint64_t n = 0;
  for_each_overlap(first, last, [&](std::uint64_t a, std::uint64_t b) { n += b - a + 1; });
  return n;
}

std::vector<seq_range> seq_ranges::gaps_within(std::uint64_t first, std::uint64_t last) const {
  std::vector<seq_range> gaps;
  if (first > last) return gaps;
  std::uint64_t next = first;  // lowest seq of [first, last] not yet accounted for
  bool done = false;
  for_each_overlap(first, last, [&](std::uint64_t a, std::uint64_t b) {
    if (a > next) gaps.push_back({next, a - 1});
    if (b == last) done = true;
    else next = b + 1;
  });
  if (!done) gaps.push_back({next, last});
  return gaps;
}

void seq_ranges::erase_below(std::uint64_t seq) {
  while (!ranges_.empty() && ranges_.begin()->first < seq) {
    auto it = ranges_.begin();
    const std::uint64_t last = it->second;
    if (last < seq) {
      count_ -= last - it->first + 1;
      ranges_.erase(it);
      continue;
    }
    count_ -= seq - it->first;
    ranges_.erase(it);
    ranges_.emplace(seq, last);
    break;
  }
}

void seq_ranges::clear() {
  ranges_.clear();
  count_ = 0;
}

std::vector<seq_range> seq_ranges::ranges() const {
  std::vector<seq_range> out;
  out.reserve(ranges_.size());
  for (const auto& [first, last] : ranges_) out.push_back({first, last});
  return out;
}

std::optional<std::uint64_t> seq_ranges::lowest() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.begin()->first;
}

std::optional<std::uint64_t> seq_ranges::highest() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.rbegin()->second;
}

}  // namespace plant
