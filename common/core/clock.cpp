#include "common/core/clock.hpp"

#include <atomic>

namespace plant {

namespace {

class real_clock final : public clock {
 public:
  loop_clock::time_point steady_now() const override {
    return loop_clock::time_point(
        std::chrono::duration_cast<loop_clock::duration>(std::chrono::steady_clock::now().time_since_epoch()));
  }
  epoch_ms wall_now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

const real_clock the_real_clock;
// Read from worker threads too (spool, sources), so the swap is atomic.
std::atomic<const clock*> installed{&the_real_clock};

}  // namespace

loop_clock::time_point loop_clock::now() noexcept { return installed.load(std::memory_order_acquire)->steady_now(); }

const clock& system_clock() { return the_real_clock; }

const clock& current_clock() { return *installed.load(std::memory_order_acquire); }

epoch_ms wall_clock_ms() { return current_clock().wall_now(); }

manual_clock::manual_clock(epoch_ms wall_start)
    : steady_(loop_clock::time_point(std::chrono::hours(1000))), wall_(wall_start) {}

void manual_clock::advance(std::chrono::nanoseconds d) {
  steady_ += d;
  // The wall clock keeps milliseconds; carry what a sub-millisecond step leaves over.
  wall_remainder_ns_ += d.count();
  wall_ += wall_remainder_ns_ / 1000000;
  wall_remainder_ns_ %= 1000000;
}

scoped_clock::scoped_clock(const clock& c) : previous_(installed.exchange(&c, std::memory_order_acq_rel)) {}

scoped_clock::~scoped_clock() { installed.store(previous_, std::memory_order_release); }

loop_clock::duration loop_wait_traits::to_wait_duration(const loop_clock::duration& d) {
  if (current_clock().manual()) return loop_clock::duration::zero();
  return d;
}

loop_clock::duration loop_wait_traits::to_wait_duration(const loop_clock::time_point& t) {
  if (current_clock().manual()) return loop_clock::duration::zero();
  const auto now = loop_clock::now();
  // Asio's own traits cap the wait so that a time far in the future cannot overflow.
  if (t <= now) return loop_clock::duration::zero();
  const auto max_wait = std::chrono::duration_cast<loop_clock::duration>(std::chrono::hours(24));
  const auto wait = t - now;
  return wait > max_wait ? max_wait : wait;
}

}  // namespace plant
