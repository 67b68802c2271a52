#include "agent/edge/stock_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace plant::edge {

namespace {

constexpr double ms_per_hour = 3'600'000.0;
// For Gaussian noise of deviation s the mean absolute first difference is
// s * sqrt(2) * sqrt(2 / pi) = 1.128 s.
constexpr double noise_per_mean_abs_difference = 0.886;
// Readings averaged into the noise scale: long enough to be steady, short enough
// to follow a sensor that gets worse within an hour of one-minute readings.
constexpr double noise_weight = 1.0 / 32.0;
// The first differences build the scale by a plain mean, without jump tests.
constexpr int noise_bootstrap = 4;
// Projections beyond this are "not consuming".
constexpr double max_projection_hours = 10.0 * 365 * 24;

double hours(double ms) { return ms / ms_per_hour; }

}  // namespace

stock_estimator::stock_estimator(const estimator_params& params)
    : params_(params),
      half_life_h_(std::max(1e-6, hours(static_cast<double>(params.rate_half_life.count())))),
      long_half_life_h_(params.long_half_life.count() > 0 ? hours(static_cast<double>(params.long_half_life.count()))
                                                          : 8.0 * half_life_h_),
      share_half_life_ms_(std::max(1.0, params.share_half_life.count() > 0
                                            ? static_cast<double>(params.share_half_life.count())
                                            : 4.0 * static_cast<double>(params.rate_half_life.count()))),
      min_gap_ms_(params.min_gap.count() > 0 ? static_cast<double>(params.min_gap.count())
                                             : static_cast<double>(params.rate_half_life.count()) / 4.0),
      min_span_h_(params.min_span.count() > 0 ? hours(static_cast<double>(params.min_span.count()))
                                              : half_life_h_ / 4.0),
      recent_(half_life_h_),
      long_(long_half_life_h_) {}

void stock_estimator::advance_activity(epoch_ms at) {
  if (!clock_started_) {
    clock_started_ = true;
    clock_at_ = at;
    return;
  }
  if (at <= clock_at_) return;
  const auto dt = static_cast<double>(at - clock_at_);
  clock_hours_ += share_now_ * hours(dt);
  const double keep = std::exp2(-dt / share_half_life_ms_);
  share_avg_ = keep * share_avg_ + (1.0 - keep) * projected_now_;
  clock_at_ = at;
}

void stock_estimator::set_activity(epoch_ms at, double running_share, double projected_share) {
  advance_activity(at);
  share_now_ = std::isfinite(running_share) ? std::clamp(running_share, 0.0, 1.0) : 1.0;
  projected_now_ = std::isfinite(projected_share) ? std::clamp(projected_share, 0.0, 1.0) : 1.0;
}

double stock_estimator::running_hours_at(epoch_ms at) {
  advance_activity(at);
  if (at >= clock_at_) return clock_hours_;
  // A line sample newer than this reading has moved the clock on already; take
  // the current share back to `at` rather than rewrite history.
  const double back = clock_hours_ - share_now_ * hours(static_cast<double>(clock_at_ - at));
  return has_last_ ? std::max(last_.running_hours, back) : back;
}

bool stock_estimator::is_gap(epoch_ms from, epoch_ms to) const {
  // The first interval sets the typical one; nothing to compare it with yet.
  if (typical_interval_ms_ <= 0.0) return false;
  const auto dt = static_cast<double>(to - from);
  return dt > std::max(min_gap_ms_, params_.gap_factor * typical_interval_ms_);
}

bool stock_estimator::is_jump(double difference) const {
  if (diff_count_ < noise_bootstrap) return false;
  // A floor keeps a perfectly clean series (scale 0) from calling every
  // rounding step a jump.
  const double floor = 1e-9 * (1.0 + std::fabs(last_.quantity));
  return std::fabs(difference) > params_.jump_threshold * std::max(diff_scale_, floor);
}

double stock_estimator::expected_change(const reading& from, const reading& to) const {
  // Nothing can be consumed from an empty bin.
  if (censored_) return 0.0;
  return -estimate_.rate_recent * std::max(0.0, to.running_hours - from.running_hours);
}

void stock_estimator::update_noise(double difference) {
  double magnitude = std::fabs(difference);
  if (diff_count_ < noise_bootstrap) {
    diff_scale_ += (magnitude - diff_scale_) / static_cast<double>(diff_count_ + 1);
    ++diff_count_;
    return;
  }
  // Clipped, so a step that slipped under the jump test moves the scale a
  // little, and a sensor that really got noisier still raises it step by step.
  magnitude = std::min(magnitude, params_.jump_threshold * diff_scale_);
  diff_scale_ += noise_weight * (magnitude - diff_scale_);
  ++diff_count_;
}

double stock_estimator::empty_level() const {
  return std::max(2.0 * estimate_.noise, 1e-9 * (1.0 + std::fabs(estimate_.level)));
}

void stock_estimator::accept(const reading& r, rebase how) {
  if (has_last_) {
    // Clipped, so a gap moves the typical interval only a little.
    const auto dt = static_cast<double>(r.at - last_.at);
    typical_interval_ms_ =
        typical_interval_ms_ <= 0.0
            ? dt
            : typical_interval_ms_ + 0.1 * (std::min(dt, 4.0 * typical_interval_ms_) - typical_interval_ms_);
  }
  ++counters_.accepted;
  const bool empty = r.quantity <= empty_level();
  if (empty) {
    // Readings at ~0 say how much is left (nothing), not how fast it is used:
    // demand is censored while the bin is empty.
    last_ = r;
    has_last_ = true;
    censored_ = true;
    refresh_estimate();
    return;
  }
  if (!fit_started_) {
    fit_started_ = true;
    recent_.add(0.0, 0.0);
    long_.add(0.0, 0.0);
    anchor_x_h_ = r.running_hours;
  } else {
    if (censored_) how = rebase::restart;
    double x = r.running_hours - x_offset_h_;
    if (how == rebase::restart) {
      // Cut the unobserved running time out of the fit's axis: the gap carries
      // no readings, so it must not age the ones before it either.
      x_offset_h_ += x - anchor_x_h_;
      x = anchor_x_h_;
    }
    const double dx = std::max(0.0, x - anchor_x_h_);
    if (estimate_.rate_ready && dx > 0.0) {
      // How far the recent rate strays from the long one, averaged over the
      // long half-life: the consumption's own volatility.
      const double keep = std::exp2(-dx / long_half_life_h_);
      const double d = estimate_.rate_recent - estimate_.rate_long;
      spread_var_ = keep * spread_var_ + (1.0 - keep) * d * d;
    }
    if (how == rebase::none) {
      recent_.add(dx, r.quantity - anchor_q_);
      long_.add(dx, r.quantity - anchor_q_);
    } else {
      recent_.add_segment(dx);
      long_.add_segment(dx);
    }
    anchor_x_h_ = x;
  }
  anchor_q_ = r.quantity;
  censored_ = false;
  last_ = r;
  has_last_ = true;
  refresh_estimate();
}

void stock_estimator::refresh_estimate() {
  stock_estimate& e = estimate_;
  e.has_reading = has_last_;
  e.at = last_.at;
  e.quantity = last_.quantity;
  e.noise = noise_per_mean_abs_difference * diff_scale_;
  e.running_share = share_avg_;

  e.level = censored_ || !fit_started_ ? last_.quantity : anchor_q_ + recent_.level();
  // Once ready, always ready: a long idle stretch piles readings onto one x and
  // shrinks the spread, but the slope learnt before it is still the best there is.
  ready_ =
      ready_ || (fit_started_ && recent_.points() >= static_cast<std::uint64_t>(std::max(0, params_.min_readings)) &&
                 recent_.spread() >= min_span_h_);
  e.rate_ready = ready_;
  e.rate_recent = e.rate_ready ? std::max(0.0, -recent_.slope()) : 0.0;
  e.rate_long = e.rate_ready ? std::max(0.0, -long_.slope()) : 0.0;
  e.rate_spread = e.rate_ready ? std::sqrt(spread_var_) : 0.0;
  e.rate_running = std::max(e.rate_recent, e.rate_long + params_.spread_allowance * e.rate_spread);
  e.rate = e.rate_running * share_avg_;
  e.projected_stockout.reset();
  if (e.rate_ready && e.rate > 0.0) {
    const double left_h = std::max(0.0, e.level) / e.rate;
    if (left_h < max_projection_hours) {
      e.projected_stockout = e.at + static_cast<epoch_ms>(std::llround(left_h * ms_per_hour));
    }
  }
}

observation stock_estimator::observe(epoch_ms at, double quantity, quality q) {
  observation result;
  if (q != quality::good) {
    ++counters_.ignored_quality;
    result.verdict = reading_verdict::ignored_quality;
    return result;
  }
  if (!std::isfinite(quantity)) {
    ++counters_.ignored_value;
    result.verdict = reading_verdict::ignored_value;
    return result;
  }
  const bool seen_any = has_last_ || held_count_ > 0;
  if (seen_any && at <= newest_seen_) {
    ++counters_.ignored_time;
    result.verdict = reading_verdict::ignored_time;
    return result;
  }
  newest_seen_ = at;
  const reading r{at, quantity, running_hours_at(at)};

  if (!has_last_) {
    accept(r, rebase::none);
    return result;
  }

  if (held_count_ > 0) {
    const reading newest = held_[held_count_ - 1];
    const bool gap_after_held = is_gap(newest.at, r.at);
    const bool back_to_old =
        !held_after_gap_ && !gap_after_held && !is_jump(r.quantity - last_.quantity - expected_change(last_, r));
    const bool agrees = !gap_after_held && !is_jump(r.quantity - newest.quantity - expected_change(newest, r));
    if (back_to_old) {
      // Back at the old level: everything held was a glitch. Glitches still
      // feed the noise scale (clipped), so a sensor that got noisier is learnt.
      for (std::size_t i = 0; i < held_count_; ++i) {
        update_noise_clipped(held_[i].quantity - last_.quantity - expected_change(last_, held_[i]));
      }
      counters_.outliers += held_count_;
      held_count_ = 0;
      result.dropped_outlier = true;
    } else if (agrees && held_agreeing_ >= static_cast<std::size_t>(std::max(1, params_.confirmations))) {
      // The run of agreeing readings at the end is long enough: its first one
      // is a step, the rest follow it; anything before the run was a glitch.
      const std::size_t first = held_count_ - held_agreeing_;
      counters_.outliers += first;
      result.dropped_outlier = first > 0;
      const reading step = held_[first];
      if (held_after_gap_) {
        ++counters_.gaps;
        result.gap = true;
        accept(step, rebase::restart);
      } else if (step.quantity - last_.quantity - expected_change(last_, step) > 0.0) {
        ++counters_.deliveries;
        result.delivery = true;
        accept(step, rebase::delivery);
      } else {
        // A pallet taken to the line at once is still consumption.
        ++counters_.steps_down;
        accept(step, rebase::none);
      }
      for (std::size_t i = first + 1; i < held_count_; ++i) {
        update_noise(held_[i].quantity - last_.quantity - expected_change(last_, held_[i]));
        accept(held_[i], rebase::none);
      }
      held_count_ = 0;
    } else if (gap_after_held) {
      // Nothing confirmed the held readings before the series broke off.
      counters_.outliers += held_count_;
      held_count_ = 0;
      result.dropped_outlier = true;
    } else {
      if (!agrees) update_noise_clipped(r.quantity - newest.quantity - expected_change(newest, r));
      if (held_count_ == max_held) {
        // Too long without a level that holds: start over from this reading.
        counters_.outliers += held_count_;
        held_count_ = 0;
        ++counters_.gaps;
        result.gap = true;
        result.dropped_outlier = true;
        accept(r, rebase::restart);
        return result;
      }
      held_agreeing_ = agrees ? held_agreeing_ + 1 : 1;
      held_[held_count_++] = r;
      result.verdict = reading_verdict::held;
      return result;
    }
  }

  if (is_gap(last_.at, r.at)) {
    hold(r, true, result);
    return result;
  }
  const double difference = r.quantity - last_.quantity - expected_change(last_, r);
  if (is_jump(difference)) {
    hold(r, false, result);
    return result;
  }
  if (!censored_) update_noise(difference);
  accept(r, rebase::none);
  return result;
}

void stock_estimator::hold(const reading& r, bool after_gap, observation& result) {
  held_[0] = r;
  held_count_ = 1;
  held_agreeing_ = 1;
  held_after_gap_ = after_gap;
  result.verdict = reading_verdict::held;
}

void stock_estimator::update_noise_clipped(double difference) {
  if (diff_count_ < noise_bootstrap) return;
  update_noise(std::min(std::fabs(difference), params_.jump_threshold * diff_scale_));
}

}  // namespace plant::edge
