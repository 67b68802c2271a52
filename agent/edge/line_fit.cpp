#include "agent/edge/line_fit.hpp"

#include <algorithm>
#include <cmath>

namespace plant::edge {

namespace {
// More weight than this adds no precision, only larger sums (an idle line polled
// every second for a month puts all its points at one x).
constexpr double max_weight = 1e6;
}  // namespace

void line_fit::sums::shift(double dx, double dy) {
  // Coordinates move to the new newest point: x' = x - dx, y' = y - dy.
  sxy = sxy - dx * sy - dy * sx + dx * dy * s0;
  sxx = sxx - 2.0 * dx * sx + dx * dx * s0;
  sx -= dx * s0;
  sy -= dy * s0;
}

void line_fit::sums::scale(double factor) {
  s0 *= factor;
  sx *= factor;
  sxx *= factor;
  sy *= factor;
  sxy *= factor;
}

double line_fit::sums::centred_sxx() const { return s0 > 0.0 ? std::max(0.0, sxx - sx * sx / s0) : 0.0; }

double line_fit::sums::centred_sxy() const { return s0 > 0.0 ? sxy - sx * sy / s0 : 0.0; }

line_fit::line_fit(double half_life) : half_life_(half_life > 0.0 ? half_life : 1.0) {}

void line_fit::advance(double dx, double dy) {
  dx = std::max(0.0, dx);
  history_.shift(dx, dy);
  segment_.shift(dx, dy);
  const double keep = std::exp2(-dx / half_life_);
  history_.scale(keep);
  segment_.scale(keep);
  segment_.s0 += 1.0;
  const double total = weight();
  if (total > max_weight) {
    history_.scale(max_weight / total);
    segment_.scale(max_weight / total);
  }
  ++points_;
}

void line_fit::add(double dx, double dy) { advance(dx, dy); }

void line_fit::add_segment(double dx) {
  merge_segment();
  // The history's y frame is arbitrary now; keeping it on the line keeps the
  // sums small.
  advance(dx, slope() * std::max(0.0, dx));
}

void line_fit::merge_segment() {
  if (segment_.s0 <= 0.0) return;
  if (history_.s0 > 0.0) {
    // Move the closing segment onto the history's line (common slope), so the
    // history keeps one level and the next segment gets its own.
    const double b = slope();
    const double level_history = (history_.sy - b * history_.sx) / history_.s0;
    const double level_segment = (segment_.sy - b * segment_.sx) / segment_.s0;
    const double offset = level_segment - level_history;
    segment_.sy -= offset * segment_.s0;
    segment_.sxy -= offset * segment_.sx;
  }
  history_.s0 += segment_.s0;
  history_.sx += segment_.sx;
  history_.sxx += segment_.sxx;
  history_.sy += segment_.sy;
  history_.sxy += segment_.sxy;
  segment_ = sums{};
}

double line_fit::slope() const {
  const double sxx = history_.centred_sxx() + segment_.centred_sxx();
  if (sxx <= 1e-12 * std::max(1.0, weight())) return 0.0;
  return (history_.centred_sxy() + segment_.centred_sxy()) / sxx;
}

double line_fit::level() const {
  if (segment_.s0 <= 0.0) return 0.0;
  return (segment_.sy - slope() * segment_.sx) / segment_.s0;
}

double line_fit::spread() const {
  const double total = weight();
  if (total <= 0.0) return 0.0;
  return std::sqrt((history_.centred_sxx() + segment_.centred_sxx()) / total);
}

}  // namespace plant::edge
