#pragma once
/// Time, injectable. Everything that lets time decide behaviour (poll ticks,
/// batching, backoff, ages) reads it through here, so unit tests can drive a
/// component through hours of ticks in microseconds of real time.
///
/// There are two clocks: the steady clock for deadlines and periods, and the
/// wall clock (Unix milliseconds) for stamps on data. Both come from the one
/// process-wide `clock` object, the real one unless a test installs another
/// with `scoped_clock`. Asio timers built on `loop_clock` follow it too: while
/// a manual clock is installed they never block, so `io.poll()` after
/// `advance()` runs exactly the handlers that became due.
#include <boost/asio/basic_waitable_timer.hpp>

#include <chrono>
#include <cstdint>

namespace plant {

/// Unix epoch milliseconds; time is passed around as this so pure code needs no clock.
using epoch_ms = std::int64_t;

/// The steady clock as a chrono clock type, reading the installed `clock`.
struct loop_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<loop_clock, duration>;
  static constexpr bool is_steady = true;
  /// Now, by the installed clock.
  static time_point now() noexcept;
};

/// Where the time comes from.
class clock {
 public:
  virtual ~clock() = default;
  /// Monotonic time for deadlines and periods.
  virtual loop_clock::time_point steady_now() const = 0;
  /// Unix milliseconds for stamps on data.
  virtual epoch_ms wall_now() const = 0;
  /// True for a clock that only moves when told to (timers must then not block).
  virtual bool manual() const { return false; }
};

/// `base + offset` for times read off the wire, clamped instead of overflowing (a forged
/// offset must not be undefined behaviour).
inline epoch_ms add_saturating(epoch_ms base, std::int64_t offset) {
  epoch_ms out = 0;
  if (__builtin_add_overflow(base, offset, &out)) return offset > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

/// The real clocks of the machine.
const clock& system_clock();
/// The clock in use: system_clock() unless a scoped_clock is active.
const clock& current_clock();
/// current_clock().wall_now().
epoch_ms wall_clock_ms();
/// current_clock().steady_now().
inline loop_clock::time_point steady_now() { return current_clock().steady_now(); }

/// A clock that moves only when told to; for tests.
class manual_clock final : public clock {
 public:
  /// Starts at wall time `wall_start` (Unix ms) and an arbitrary steady origin.
  explicit manual_clock(epoch_ms wall_start = 1'800'000'000'000);
  loop_clock::time_point steady_now() const override { return steady_; }
  epoch_ms wall_now() const override { return wall_; }
  bool manual() const override { return true; }
  /// Moves both clocks forward by `d`.
  void advance(std::chrono::nanoseconds d);
  /// Moves only the wall clock (an NTP step), forwards or backwards.
  void step_wall(std::chrono::milliseconds d) { wall_ += d.count(); }

 private:
  loop_clock::time_point steady_;
  epoch_ms wall_;
  std::int64_t wall_remainder_ns_ = 0;
};

/// Installs `c` as the current clock for the scope's lifetime (tests only; not thread-safe
/// against threads that read the clock while it is swapped).
class scoped_clock {
 public:
  explicit scoped_clock(const clock& c);
  ~scoped_clock();
  scoped_clock(const scoped_clock&) = delete;
  scoped_clock& operator=(const scoped_clock&) = delete;

 private:
  const clock* previous_;
};

/// How long an Asio reactor may sleep for a loop_clock timer: the real wait with the
/// real clock, zero with a manual one (the test advances time and polls).
struct loop_wait_traits {
  static loop_clock::duration to_wait_duration(const loop_clock::duration& d);
  static loop_clock::duration to_wait_duration(const loop_clock::time_point& t);
};

/// The timer every component on the event loop uses.
using loop_timer = boost::asio::basic_waitable_timer<loop_clock, loop_wait_traits>;

}  // namespace plant
