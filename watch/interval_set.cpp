#include "watch/interval_set.hpp"

#include <iterator>
#include <limits>

namespace plant::watch {

interval_set::insert_result interval_set::insert(std::uint64_t value) {
  // Sequence numbers arrive mostly in order, so the common case is extending
  // the last range; std::map::upper_bound keeps the rest logarithmic.
  auto next = ranges_.upper_bound(value);  // first range starting after value
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (value <= prev->second) return insert_result::duplicate;
    if (prev->second + 1 == value) {
      prev->second = value;
      ++size_;
      if (next != ranges_.end() && next->first == value + 1) {
        prev->second = next->second;
        ranges_.erase(next);
      }
      return insert_result::added;
    }
  }
  if (next != ranges_.end() && value != std::numeric_limits<std::uint64_t>::max() && next->first == value + 1) {
    const std::uint64_t last = next->second;
    ranges_.erase(next);
    ranges_.emplace(value, last);
    ++size_;
    return insert_result::added;
  }
  if (ranges_.size() >= max_ranges_) {
    ++untracked_;
    return insert_result::untracked;
  }
  ranges_.emplace_hint(next, value, value);
  ++size_;
  return insert_result::added;
}

void interval_set::insert_range(std::uint64_t first, std::uint64_t last) {
  if (first > last) std::swap(first, last);
  // Merge with every range that overlaps or touches [first, last].
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= first || (first > 0 && prev->second == first - 1)) it = prev;
  }
  std::uint64_t new_first = first;
  std::uint64_t new_last = last;
  std::uint64_t absorbed = 0;
  while (it != ranges_.end() &&
         (it->first <= last || (last != std::numeric_limits<std::uint64_t>::max() && it->first == last + 1))) {
    if (it->first < new_first) new_first = it->first;
    if (it->second > new_last) new_last = it->second;
    absorbed += it->second - it->first + 1;
    it = ranges_.erase(it);
  }
  if (absorbed == 0 && ranges_.size() >= max_ranges_) {
    untracked_ += last - first + 1;
    return;
  }
  ranges_.emplace_hint(it, new_first, new_last);
  size_ = size_ - absorbed + (new_last - new_first + 1);
}

bool interval_set::contains(std::uint64_t value) const {
  auto next = ranges_.upper_bound(value);
  if (next == ranges_.begin()) return false;
  return value <= std::prev(next)->second;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> interval_set::holes(std::size_t limit, bool& truncated) const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> result;
  truncated = false;
  if (ranges_.empty()) return result;
  auto it = ranges_.begin();
  std::uint64_t previous_last = it->second;
  for (++it; it != ranges_.end(); ++it) {
    if (result.size() >= limit) {
      truncated = true;
      break;
    }
    result.emplace_back(previous_last + 1, it->first - 1);
    previous_last = it->second;
  }
  return result;
}

std::uint64_t interval_set::hole_count() const {
  if (ranges_.empty()) return 0;
  return (max() - min() + 1) - size_;
}

}  // namespace plant::watch
