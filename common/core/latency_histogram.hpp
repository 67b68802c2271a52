#pragma once
/// Latency in bounded memory, for both of its readers: percentiles (plant-watch's
/// audit: exact below 2048 us, then 128 buckets per power of two, stored
/// sparsely; a percentile reports the smallest latency actually seen in its
/// bucket, so it is always a real observation within 0.8 % of the exact
/// answer) and the fixed buckets of a Prometheus histogram (the agent's and
/// the register's /metrics), counted exactly.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>

namespace plant {

class latency_histogram {
 public:
  /// Upper bounds of the Prometheus buckets in milliseconds; a last +Inf bucket follows them.
  static constexpr std::array<std::uint32_t, 13> bounds_ms{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  /// Number of Prometheus buckets including +Inf.
  static constexpr std::size_t buckets = bounds_ms.size() + 1;

  /// Records one latency in microseconds; negative values (clock skew) count as 0.
  void record_us(std::int64_t latency_us);
  /// Records one latency.
  void observe(std::chrono::microseconds latency) { record_us(latency.count()); }
  /// How many latencies were recorded.
  std::uint64_t count() const { return count_; }
  /// Sum of all recorded latencies in microseconds.
  std::uint64_t sum_us() const { return sum_us_; }
  /// The nearest-rank percentile (0 < p <= 100) in milliseconds; 0 when empty.
  double percentile_ms(double p) const;
  /// The largest latency recorded, exact, in milliseconds; 0 when empty.
  double max_ms() const { return static_cast<double>(max_us_) / 1000.0; }
  /// Observations <= bounds_ms[bucket]; for bucket == bounds_ms.size() (+Inf), all of them.
  std::uint64_t cumulative(std::size_t bucket) const;

 private:
  static std::uint32_t bucket_of(std::uint64_t us);

  struct bucket {
    std::uint64_t count = 0;
    std::uint64_t min_us = 0;
  };
  std::map<std::uint32_t, bucket> fine_;  // at most ~8000 entries
  std::array<std::uint64_t, buckets> fixed_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_us_ = 0;
  std::uint64_t max_us_ = 0;
};

}  // namespace plant
