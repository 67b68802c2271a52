#include "agent/sources/modbus/part_counter.hpp"

namespace plant::sources {

part_counter::part_counter(int width_bits, epoch_ms rate_window)
    : mask_(width_bits == 16 ? 0xFFFFull : width_bits == 32 ? 0xFFFFFFFFull : ~0ull),
      rate_window_(rate_window > 0 ? rate_window : 60000) {}

void part_counter::update(std::uint64_t raw, epoch_ms at) {
  raw &= mask_;
  if (!started_) {
    started_ = true;
    total_ = raw;
  } else if (raw >= last_raw_) {
    total_ += raw - last_raw_;
  } else {
    // The step across the top is (mask - old) + 1 + new; compared piecewise so a
    // 64-bit counter cannot overflow the arithmetic.
    const std::uint64_t to_top = mask_ - last_raw_;
    const std::uint64_t quarter = mask_ / 4;
    if (to_top < quarter && raw <= quarter - to_top - 1) {
      total_ += to_top + 1 + raw;
      ++wraps_;
    } else {
      total_ += raw;
      ++resets_;
    }
  }
  last_raw_ = raw;

  // A clock stepped back makes the old readings meaningless for a rate.
  if (!window_.empty() && at < window_.back().at) window_.clear();
  window_.push_back({at, total_});
  while (window_.size() > 1 && window_.front().at < at - rate_window_) window_.pop_front();
  if (window_.size() > max_window_readings) {
    window_.pop_front();
    ++dropped_readings_;
  }
}

double part_counter::rate_per_minute() const {
  if (window_.size() < 2) return 0.0;
  const reading& first = window_.front();
  const reading& last = window_.back();
  if (last.at <= first.at) return 0.0;
  return static_cast<double>(last.total - first.total) * 60000.0 / static_cast<double>(last.at - first.at);
}

}  // namespace plant::sources
