#pragma once
/// Latency percentiles in bounded memory: exact below 2048 us, then 128
/// buckets per power of two, stored sparsely. A percentile reports the
/// smallest latency actually seen in its bucket, so it is always a real
/// observation and within 0.8 % of the exact answer.
#include <cstdint>
#include <map>

namespace plant::watch {

class latency_histogram {
 public:
  /// Records one latency in microseconds; negative values (clock skew) count as 0.
  void record_us(std::int64_t latency_us);
  /// How many latencies were recorded.
  std::uint64_t count() const { return count_; }
  /// The nearest-rank percentile (0 < p <= 100) in milliseconds; 0 when empty.
  double percentile_ms(double p) const;
  /// The largest latency recorded, exact, in milliseconds; 0 when empty.
  double max_ms() const { return static_cast<double>(max_us_) / 1000.0; }

 private:
  static std::uint32_t bucket_of(std::uint64_t us);

  struct bucket {
    std::uint64_t count = 0;
    std::uint64_t min_us = 0;
  };
  std::map<std::uint32_t, bucket> buckets_;  // at most ~8000 entries
  std::uint64_t count_ = 0;
  std::uint64_t max_us_ = 0;
};

}  // namespace plant::watch
