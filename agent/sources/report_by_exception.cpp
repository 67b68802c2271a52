#include "agent/sources/report_by_exception.hpp"

#include <algorithm>
#include <cmath>

namespace plant::sources {

report_policy report_policy::over(const report_policy& defaults) const {
  report_policy merged = *this;
  if (!merged.deadband) merged.deadband = defaults.deadband;
  if (!merged.deadband_percent) merged.deadband_percent = defaults.deadband_percent;
  if (!merged.max_interval) merged.max_interval = defaults.max_interval;
  return merged;
}

bool report_policy::moved(double value, double last) const {
  // NaN never equals anything: a value that becomes or stops being NaN is a change,
  // two NaNs in a row are not.
  const bool value_nan = std::isnan(value);
  const bool last_nan = std::isnan(last);
  if (value_nan || last_nan) return value_nan != last_nan;
  const double difference = std::fabs(value - last);
  if (!deadband && !deadband_percent) return difference > 0.0;
  double threshold = 0.0;
  if (deadband) threshold = *deadband;
  if (deadband_percent) threshold = std::max(threshold, *deadband_percent / 100.0 * std::fabs(last));
  return difference > threshold;
}

std::optional<std::chrono::milliseconds> sample_report_rule::max_interval() const {
  std::optional<std::chrono::milliseconds> shortest;
  for (const report_policy* policy : {&value, &good_count, &reject_count}) {
    if (policy->max_interval && (!shortest || *policy->max_interval < *shortest)) shortest = policy->max_interval;
  }
  return shortest;
}

sample_report_rule sample_report_rule::over(const report_policy& defaults) const {
  return {value.over(defaults), good_count.over(defaults), reject_count.over(defaults)};
}

bool exception_filter::changed(const sample& s, const point_state& point) {
  const last_report& last = point.last;
  if (s.q != last.q) return true;  // quality changes are always reported
  if (s.kind == sample::kind_t::stock) {
    return s.unit != last.unit || point.rule.value.moved(s.quantity, last.quantity);
  }
  // Counters are compared as the numbers they are; a state is discrete, so any change counts.
  if (s.state != last.state ||
      point.rule.good_count.moved(static_cast<double>(s.good_count), static_cast<double>(last.good_count)) ||
      point.rule.reject_count.moved(static_cast<double>(s.reject_count), static_cast<double>(last.reject_count)))
    return true;
  // The rate follows the good count, so it shares its deadband. A line that stops producing
  // (its count frozen, its rate falling to 0) or starts again is reported even when its state
  // point does not say so, or when it has none.
  const report_policy& count_policy = point.rule.good_count;
  if ((s.good_rate == 0.0) != (last.good_rate == 0.0)) return true;
  return !count_policy.deadband && !count_policy.deadband_percent && s.good_rate != last.good_rate;
}

bool exception_filter::should_report(const sample& s, epoch_ms now, const rule_finder& find_rule) {
  key_.clear();
  key_.push_back(s.kind == sample::kind_t::line ? 'l' : 's');
  key_.append(s.name);
  key_.push_back('\0');  // names and locations cannot hold NUL: keys do not collide
  key_.append(s.location);
  auto found = points_.find(key_);
  if (found == points_.end()) {
    if (points_.size() >= max_points_) {
      ++untracked_;
      return true;
    }
    point_state fresh;
    fresh.rule = find_rule(s);
    fresh.filters = fresh.rule.filters();
    found = points_.emplace(key_, std::move(fresh)).first;
  }
  point_state& point = found->second;
  if (!point.filters) return true;
  bool report = !point.reported || changed(s, point);
  if (!report) {
    const auto interval = point.rule.max_interval();
    // A wall clock set back (NTP after a cold start) must not silence a point until
    // it catches up again: time running backwards counts as the interval passing.
    report = interval && (now < point.reported_at || now - point.reported_at >= interval->count());
  }
  if (report) {
    point.reported = true;
    point.reported_at = now;
    point.last.q = s.q;
    point.last.quantity = s.quantity;
    if (point.last.unit != s.unit) point.last.unit = s.unit;
    point.last.state = s.state;
    point.last.good_count = s.good_count;
    point.last.reject_count = s.reject_count;
    point.last.good_rate = s.good_rate;
  }
  return report;
}

}  // namespace plant::sources
