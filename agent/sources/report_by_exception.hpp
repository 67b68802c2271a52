#pragma once
/// Report by exception: which samples are published. A value is published when it
/// moved by more than its deadband since the value last published for that point,
/// when its quality changed, or when `max_interval` passed since its last report;
/// the others are held back (the shortage detector still sees every sample).
/// Pure: no clocks, `now` is passed in.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/core/sample.hpp"

namespace plant::sources {

/// The keys deadband, deadband_percent and max_interval, as written (unset = not written).
struct report_policy {
  std::optional<double> deadband;                         ///< absolute, in the value's unit
  std::optional<double> deadband_percent;                 ///< of the last published value's magnitude
  std::optional<std::chrono::milliseconds> max_interval;  ///< longest time between two reports

  /// True when any key is set: without one, every sample is published.
  bool filters() const { return deadband || deadband_percent || max_interval; }
  /// This policy with each unset key taken from `defaults` (a point's keys over its source's).
  report_policy over(const report_policy& defaults) const;
  /// True when `value` differs from `last` by more than the deadband. With neither
  /// deadband key set, any change counts; with both, the larger threshold applies
  /// (a percentage near zero would otherwise publish noise).
  bool moved(double value, double last) const;
};

/// The policies behind one sample: a stock's quantity, or a line's state and counters.
struct sample_report_rule {
  report_policy value;         ///< quantity; for a line, its state (max_interval only: a state is discrete)
  report_policy good_count;    ///< lines only
  report_policy reject_count;  ///< lines only

  /// True when any of the policies filters.
  bool filters() const { return value.filters() || good_count.filters() || reject_count.filters(); }
  /// The shortest max_interval of the three, if any is set: a sample is published whole.
  std::optional<std::chrono::milliseconds> max_interval() const;
  /// Each policy over the same `defaults` (a source's keys).
  sample_report_rule over(const report_policy& defaults) const;
};

class exception_filter {
 public:
  /// Finds the rule of a point the first time the filter sees it.
  using rule_finder = std::function<sample_report_rule(const sample&)>;

  /// Keeps the last report of at most `max_points` points (a CSV drop can name any
  /// number of materials); samples of points beyond that are always published.
  /// A point costs a few hundred bytes here: 20,000 is a few MiB at most.
  explicit exception_filter(std::size_t max_points = 20000) : max_points_(max_points) {}

  /// True when `s` is to be published at `now` (Unix ms); then `s` becomes the point's
  /// last report. A point is keyed by kind, name and location.
  bool should_report(const sample& s, epoch_ms now, const rule_finder& find_rule);
  /// Points the filter keeps a last report of (one per configured point).
  std::size_t points() const { return points_.size(); }
  /// Samples published unfiltered because their point found the filter full.
  std::uint64_t untracked() const { return untracked_; }

 private:
  /// What a change is judged on, and no more: copying a whole sample would copy its
  /// name and location, which the point's key already holds, on every report.
  struct last_report {
    quality q = quality::good;
    double quantity = 0.0;
    std::string unit;
    line_state state = line_state::unknown;
    std::uint64_t good_count = 0;
    std::uint64_t reject_count = 0;
    double good_rate = 0.0;
  };
  struct point_state {
    sample_report_rule rule;
    bool filters = false;
    bool reported = false;
    epoch_ms reported_at = 0;
    last_report last;  ///< the last published values of this point
  };
  static bool changed(const sample& s, const point_state& point);

  std::size_t max_points_;
  std::uint64_t untracked_ = 0;
  std::unordered_map<std::string, point_state> points_;
  std::string key_;  ///< reused to build keys without allocating per sample
};

}  // namespace plant::sources
