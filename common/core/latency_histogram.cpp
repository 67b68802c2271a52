#include "common/core/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace plant {

namespace {
constexpr std::uint64_t exact_limit = 2048;  // 2^11
constexpr unsigned exact_bits = 11;
constexpr unsigned sub_bits = 7;             // 128 sub-buckets per octave

unsigned highest_bit(std::uint64_t v) {
  unsigned bit = 0;
  while (v >>= 1) ++bit;
  return bit;
}
}  // namespace

std::uint32_t latency_histogram::bucket_of(std::uint64_t us) {
  if (us < exact_limit) return static_cast<std::uint32_t>(us);
  const unsigned e = highest_bit(us);  // >= 11
  const auto sub = static_cast<std::uint32_t>((us >> (e - sub_bits)) & ((1u << sub_bits) - 1));
  return static_cast<std::uint32_t>(exact_limit) + (e - exact_bits) * (1u << sub_bits) + sub;
}

void latency_histogram::record_us(std::int64_t latency_us) {
  const std::uint64_t us = latency_us < 0 ? 0 : static_cast<std::uint64_t>(latency_us);
  bucket& b = fine_[bucket_of(us)];
  if (b.count == 0 || us < b.min_us) b.min_us = us;
  ++b.count;
  std::size_t fixed = 0;
  // Bounds are inclusive ("le"): exactly 1 ms belongs to the 1 ms bucket.
  while (fixed < bounds_ms.size() && us > std::uint64_t{bounds_ms[fixed]} * 1000) ++fixed;
  ++fixed_[fixed];
  ++count_;
  sum_us_ += us;
  max_us_ = std::max(max_us_, us);
}

double latency_histogram::percentile_ms(double p) const {
  if (count_ == 0) return 0.0;
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_) / 100.0));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (const auto& entry : fine_) {
    seen += entry.second.count;
    if (seen >= rank) return static_cast<double>(entry.second.min_us) / 1000.0;
  }
  return max_ms();
}

}  // namespace plant

namespace plant {

std::uint64_t latency_histogram::cumulative(std::size_t bucket) const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bucket && i < fixed_.size(); ++i) total += fixed_[i];
  return total;
}

}  // namespace plant
