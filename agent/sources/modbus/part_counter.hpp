#pragma once
/// A PLC's part counter -> a monotonic total and a production rate. Pure: time
/// is passed in.
///
/// PLC counters are 16-, 32- or 64-bit registers that wrap to 0 past their top
/// and restart from 0 (or a retained value) when the PLC restarts. The total
/// starts at the first reading and then grows by what each reading adds:
/// - new >= old: new - old;
/// - new < old and the step across the top, (2^width - old) + new, is at most a
///   quarter of the range: the counter wrapped, add that step;
/// - otherwise the PLC was reset (restarted, counter cleared): add `new`, the
///   parts counted since the reset, and count a reset.
/// So a 16-bit counter going 65530 -> 4 adds 10; 30000 -> 4 is a reset and adds 4.
#include <cstddef>
#include <cstdint>
#include <deque>

#include "common/core/sample.hpp"

namespace plant::sources {

class part_counter {
 public:
  /// Readings kept for the rate; older ones are dropped (and counted) first.
  static constexpr std::size_t max_window_readings = 256;

  /// `width_bits`: 16, 32 or 64 (anything else is taken as 64). `rate_window`:
  /// the rate covers the readings of the last this many milliseconds.
  explicit part_counter(int width_bits = 32, epoch_ms rate_window = 60000);

  /// Takes one reading of the raw counter (masked to the width) taken at `at`.
  void update(std::uint64_t raw, epoch_ms at);

  /// The monotonic total (0 before the first reading).
  std::uint64_t total() const { return total_; }
  /// Parts per minute over the rate window; 0 until two readings at different
  /// times are in the window.
  double rate_per_minute() const;
  /// Wraparounds seen.
  std::uint64_t wraps() const { return wraps_; }
  /// Resets (PLC restarts, counter cleared) seen.
  std::uint64_t resets() const { return resets_; }
  /// Readings dropped from the rate window because it was full.
  std::uint64_t dropped_readings() const { return dropped_readings_; }
  /// True once a reading was taken.
  bool started() const { return started_; }

 private:
  struct reading {
    epoch_ms at;
    std::uint64_t total;
  };

  std::uint64_t mask_;
  epoch_ms rate_window_;
  bool started_ = false;
  std::uint64_t last_raw_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t wraps_ = 0;
  std::uint64_t resets_ = 0;
  std::uint64_t dropped_readings_ = 0;
  std::deque<reading> window_;
};

}  // namespace plant::sources
