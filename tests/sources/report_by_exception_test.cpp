// Report by exception, as a pure function of the samples and the time: what is
// published under each combination of deadband, deadband_percent and max_interval.
#include "agent/sources/report_by_exception.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace plant::sources {
namespace {

using namespace std::chrono_literals;

sample stock(double quantity, quality q = quality::good, const std::string& location = "") {
  sample s;
  s.kind = sample::kind_t::stock;
  s.name = "silo-1";
  s.quantity = quantity;
  s.q = q;
  s.location = location;
  return s;
}

sample line(line_state state, std::uint64_t good, std::uint64_t rejects = 0) {
  sample s;
  s.kind = sample::kind_t::line;
  s.name = "line-1";
  s.state = state;
  s.good_count = good;
  s.reject_count = rejects;
  return s;
}

report_policy policy(std::optional<double> deadband, std::optional<double> percent = std::nullopt,
                     std::optional<std::chrono::milliseconds> max_interval = std::nullopt) {
  report_policy p;
  p.deadband = deadband;
  p.deadband_percent = percent;
  p.max_interval = max_interval;
  return p;
}

/// Feeds `quantities` one second apart and returns which were published.
std::vector<bool> published(const report_policy& p, const std::vector<double>& quantities) {
  exception_filter filter;
  sample_report_rule rule;
  rule.value = p;
  std::vector<bool> out;
  epoch_ms now = 1'000'000;
  for (double q : quantities) {
    out.push_back(filter.should_report(stock(q), now, [&](const sample&) { return rule; }));
    now += 1000;
  }
  return out;
}

TEST(report_by_exception, without_any_key_every_sample_is_published) {
  EXPECT_EQ(published({}, {1, 1, 1, 2, 2}), (std::vector<bool>{true, true, true, true, true}));
}

TEST(report_by_exception, a_deadband_compares_with_the_last_published_value_so_slow_drift_is_reported) {
  // 10.0 published; 10.2, 10.4 are within 0.5 of it; 10.6 is 0.6 away; 10.9 is 0.3 from 10.6.
  EXPECT_EQ(published(policy(0.5), {10.0, 10.2, 10.4, 10.6, 10.9, 10.0}),
            (std::vector<bool>{true, false, false, true, false, true}));
}

TEST(report_by_exception, a_move_of_exactly_the_deadband_is_not_more_than_it) {
  EXPECT_EQ(published(policy(0.5), {10.0, 10.5, 9.5, 10.75}), (std::vector<bool>{true, false, false, true}));
}

TEST(report_by_exception, a_percentage_deadband_scales_with_the_last_published_value) {
  // 1 % of 200 is 2: 201.5 stays, 202.5 goes; then 1 % of 202.5.
  EXPECT_EQ(published(policy(std::nullopt, 1.0), {200, 201.5, 202.5, 204.0, 204.6}),
            (std::vector<bool>{true, false, true, false, true}));
}

TEST(report_by_exception, with_both_deadbands_the_larger_threshold_applies) {
  // Near zero the 1 % would publish noise; the absolute 5 holds it. At 1000 the 1 % (10) is larger.
  EXPECT_EQ(published(policy(5.0, 1.0), {0.0, 4.0, 6.0, 1000.0, 1008.0, 1011.0}),
            (std::vector<bool>{true, false, true, true, false, true}));
}

TEST(report_by_exception, max_interval_alone_publishes_changes_at_once_and_an_unchanged_value_as_a_heartbeat) {
  exception_filter filter;
  sample_report_rule rule;
  rule.value = policy(std::nullopt, std::nullopt, 60s);
  auto find = [&](const sample&) { return rule; };
  const epoch_ms t0 = 5'000'000;
  EXPECT_TRUE(filter.should_report(stock(7), t0, find));
  EXPECT_FALSE(filter.should_report(stock(7), t0 + 1000, find));
  EXPECT_FALSE(filter.should_report(stock(7), t0 + 59'999, find));
  EXPECT_TRUE(filter.should_report(stock(7), t0 + 60'000, find));
  EXPECT_TRUE(filter.should_report(stock(7.001), t0 + 61'000, find)) << "any change, with no deadband set";
  EXPECT_FALSE(filter.should_report(stock(7.001), t0 + 120'999, find)) << "the interval restarts at each report";
  EXPECT_TRUE(filter.should_report(stock(7.001), t0 + 121'000, find));
}

TEST(report_by_exception, quality_changes_are_always_published) {
  exception_filter filter;
  sample_report_rule rule;
  rule.value = policy(100.0);
  auto find = [&](const sample&) { return rule; };
  EXPECT_TRUE(filter.should_report(stock(10), 0, find));
  EXPECT_TRUE(filter.should_report(stock(10, quality::stale), 1000, find));
  EXPECT_FALSE(filter.should_report(stock(10, quality::stale), 2000, find));
  EXPECT_TRUE(filter.should_report(stock(0, quality::bad), 3000, find));
  EXPECT_TRUE(filter.should_report(stock(10), 4000, find));
}

TEST(report_by_exception, a_line_publishes_every_state_change_and_counters_beyond_their_own_deadbands) {
  exception_filter filter;
  sample_report_rule rule;
  rule.good_count = policy(100.0);
  rule.reject_count = policy(2.0);
  auto find = [&](const sample&) { return rule; };
  EXPECT_TRUE(filter.should_report(line(line_state::running, 1000), 0, find));
  EXPECT_FALSE(filter.should_report(line(line_state::running, 1050, 1), 1000, find));
  EXPECT_TRUE(filter.should_report(line(line_state::idle, 1060, 1), 2000, find)) << "a state change";
  EXPECT_FALSE(filter.should_report(line(line_state::idle, 1150, 3), 3000, find));
  EXPECT_TRUE(filter.should_report(line(line_state::idle, 1161, 3), 4000, find)) << "101 parts since 1060";
  EXPECT_TRUE(filter.should_report(line(line_state::idle, 1161, 6), 5000, find)) << "3 rejects since 3";
}

TEST(report_by_exception, a_line_that_stops_producing_is_reported_when_its_rate_reaches_zero) {
  exception_filter filter;
  sample_report_rule rule;
  rule.good_count = policy(100.0);
  auto find = [&](const sample&) { return rule; };
  auto at_rate = [](double rate) {
    sample s = line(line_state::running, 5000);
    s.good_rate = rate;
    return s;
  };
  EXPECT_TRUE(filter.should_report(at_rate(60), 0, find));
  EXPECT_FALSE(filter.should_report(at_rate(30), 1000, find)) << "the rate shares the count's deadband";
  EXPECT_TRUE(filter.should_report(at_rate(0), 2000, find)) << "count frozen, state unchanged: stopped";
  EXPECT_FALSE(filter.should_report(at_rate(0), 3000, find));
  EXPECT_TRUE(filter.should_report(at_rate(10), 4000, find)) << "producing again";

  exception_filter heartbeat_only;
  sample_report_rule interval_rule;
  interval_rule.value = policy(std::nullopt, std::nullopt, 60s);
  auto find_interval = [&](const sample&) { return interval_rule; };
  EXPECT_TRUE(heartbeat_only.should_report(at_rate(60), 0, find_interval));
  EXPECT_TRUE(heartbeat_only.should_report(at_rate(59), 1000, find_interval)) << "no deadband: any change";
  EXPECT_FALSE(heartbeat_only.should_report(at_rate(59), 2000, find_interval));
}

TEST(report_by_exception, nan_is_a_change_once_and_not_again) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(published(policy(0.5), {1.0, nan, nan, 1.0, 1.2}), (std::vector<bool>{true, true, false, true, false}));
}

TEST(report_by_exception, a_wall_clock_set_back_does_not_silence_a_point) {
  exception_filter filter;
  sample_report_rule rule;
  rule.value = policy(1.0, std::nullopt, 60s);
  auto find = [&](const sample&) { return rule; };
  EXPECT_TRUE(filter.should_report(stock(5), 10'000'000, find));
  EXPECT_TRUE(filter.should_report(stock(5), 10'000'000 - 3'600'000, find));
  EXPECT_FALSE(filter.should_report(stock(5), 10'000'000 - 3'599'000, find));
}

TEST(report_by_exception, points_are_told_apart_by_kind_name_and_location_and_their_rule_is_found_once) {
  exception_filter filter;
  int asked = 0;
  auto find = [&](const sample&) {
    ++asked;
    sample_report_rule rule;
    rule.value = policy(1.0);
    return rule;
  };
  EXPECT_TRUE(filter.should_report(stock(5, quality::good, "bay-1"), 0, find));
  EXPECT_TRUE(filter.should_report(stock(5, quality::good, "bay-2"), 0, find)) << "another location, another point";
  EXPECT_FALSE(filter.should_report(stock(5.5, quality::good, "bay-1"), 1000, find));
  EXPECT_FALSE(filter.should_report(stock(5.5, quality::good, "bay-2"), 1000, find));
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(filter.points(), 2u);
}

TEST(report_by_exception, points_beyond_the_bound_are_published_unfiltered_and_counted) {
  exception_filter filter(2);
  sample_report_rule rule;
  rule.value = policy(10.0);
  auto find = [&](const sample&) { return rule; };
  for (const char* where : {"a", "b"}) EXPECT_TRUE(filter.should_report(stock(1, quality::good, where), 0, find));
  EXPECT_FALSE(filter.should_report(stock(1, quality::good, "a"), 1000, find));
  EXPECT_TRUE(filter.should_report(stock(1, quality::good, "c"), 1000, find));
  EXPECT_TRUE(filter.should_report(stock(1, quality::good, "c"), 2000, find));
  EXPECT_EQ(filter.points(), 2u);
  EXPECT_EQ(filter.untracked(), 2u);
}

TEST(report_by_exception, a_points_own_keys_win_and_the_unset_ones_come_from_its_source) {
  const report_policy source_keys = policy(2.0, 5.0, 60s);
  const report_policy merged = policy(0.1).over(source_keys);
  EXPECT_EQ(merged.deadband, 0.1);
  EXPECT_EQ(merged.deadband_percent, 5.0);
  EXPECT_EQ(merged.max_interval, 60s);
  sample_report_rule rule;
  rule.good_count.max_interval = 10s;
  const sample_report_rule over = rule.over(source_keys);
  EXPECT_EQ(over.value.deadband, 2.0);
  EXPECT_EQ(over.max_interval(), 10s) << "a sample is published whole: the shortest interval of its values";
  EXPECT_FALSE(report_policy{}.filters());
  EXPECT_TRUE(sample_report_rule{}.over(policy(std::nullopt, std::nullopt, 1s)).filters());
}

}  // namespace
}  // namespace plant::sources
