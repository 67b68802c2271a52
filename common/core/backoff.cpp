#include "common/core/backoff.hpp"

#include <algorithm>

namespace plant {

backoff::backoff(duration min, duration max, std::uint64_t seed)
    : min_(std::max(min, duration(1))), max_(std::max(max, min_)), state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}

std::uint64_t backoff::next_random() {
  // splitmix64: tiny, and good enough for jitter.
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

backoff::duration backoff::next() {
  // Cap the exponent so the shift cannot overflow however long the outage lasts.
  unsigned exponent = std::min(attempts_, 30u);
  ++attempts_;
  auto ceiling = std::min<std::int64_t>(max_.count(), min_.count() << exponent);
  if (ceiling < min_.count()) ceiling = max_.count();  // shifted past the range
  auto span = static_cast<std::uint64_t>(ceiling - min_.count()) + 1;
  return duration(min_.count() + static_cast<std::int64_t>(next_random() % span));
}

}  // namespace plant
