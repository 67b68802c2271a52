#pragma once
/// Exponential backoff with full jitter (the AWS architecture blog's variant,
/// also Fluent Bit's): many gateways reconnecting after a broker restart spread
/// out instead of arriving in waves.
#include <chrono>
#include <cstdint>

namespace plant {

class backoff {
 public:
  using duration = std::chrono::milliseconds;

  /// Delays grow from `min` towards `max`; `seed` makes the jitter reproducible in tests.
  backoff(duration min, duration max, std::uint64_t seed);

  /// The delay before the next attempt: uniform in [min, min(max, min * 2^attempts)].
  duration next();
  /// Back to the first delay after a success.
  void reset() { attempts_ = 0; }
  /// Attempts since the last reset.
  unsigned attempts() const { return attempts_; }

 private:
  std::uint64_t next_random();

  duration min_;
  duration max_;
  unsigned attempts_ = 0;
  std::uint64_t state_;
};

}  // namespace plant
