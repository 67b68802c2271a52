#include "agent/edge/stock_estimator.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include "tests/edge/edge_test_support.hpp"

namespace plant::edge {
namespace {

using test::hour;
using test::minute;
using test::noise_source;
using test::t0;

// Feeds one-minute readings of a linearly falling stock from `from` to `to` (exclusive).
struct feeder {
  stock_estimator& estimator;
  noise_source noise{42};
  double noise_half = 0.0;

  observation at(epoch_ms t, double quantity) {
    return estimator.observe(t, quantity + noise_half * noise.next(), quality::good);
  }
  double run(epoch_ms from, epoch_ms to, double quantity, double rate_per_hour) {
    for (epoch_ms t = from; t < to; t += minute) {
      at(t, quantity);
      quantity -= rate_per_hour / 60.0;
    }
    return quantity;
  }
};

TEST(stock_estimator, steady_consumption_rate_within_a_few_percent_after_a_few_hours) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 5.0;
  const double left = f.run(t0, t0 + 4 * hour, 10'000.0, 100.0);
  const stock_estimate& s = e.estimate();
  ASSERT_TRUE(s.rate_ready);
  EXPECT_NEAR(s.rate_recent, 100.0, 3.0);
  EXPECT_NEAR(s.rate_running, 100.0, 5.0);
  EXPECT_NEAR(s.level, left + 100.0 / 60.0, 3.0);
  ASSERT_TRUE(s.projected_stockout.has_value());
  const double hours_left = static_cast<double>(*s.projected_stockout - s.at) / static_cast<double>(hour);
  EXPECT_NEAR(hours_left, left / 100.0, 0.05 * left / 100.0);
}

TEST(stock_estimator, not_ready_before_the_readings_span_enough_running_time) {
  stock_estimator e;
  feeder f{e};
  f.run(t0, t0 + 20 * minute, 10'000.0, 100.0);
  EXPECT_FALSE(e.estimate().rate_ready);
  EXPECT_EQ(e.estimate().rate, 0.0);
  EXPECT_FALSE(e.estimate().projected_stockout.has_value());
}

TEST(stock_estimator, delivery_jump_is_not_negative_consumption) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 5.0;
  double q = f.run(t0, t0 + 5 * hour, 10'000.0, 100.0);
  int deliveries = 0;
  q += 3000.0;
  for (epoch_ms t = t0 + 5 * hour; t < t0 + 8 * hour; t += minute) {
    deliveries += f.at(t, q).delivery ? 1 : 0;
    q -= 100.0 / 60.0;
    // Never pulled down by the step: no "negative consumption".
    EXPECT_GT(e.estimate().rate_recent, 90.0) << "at minute " << (t - t0) / minute;
  }
  EXPECT_EQ(deliveries, 1);
  EXPECT_EQ(e.counters().deliveries, 1u);
  EXPECT_NEAR(e.estimate().rate_recent, 100.0, 4.0);
  EXPECT_NEAR(e.estimate().level, q + 100.0 / 60.0, 4.0);
}

TEST(stock_estimator, a_single_glitch_is_dropped) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 2.0;
  double q = f.run(t0, t0 + 3 * hour, 10'000.0, 100.0);
  EXPECT_EQ(f.at(t0 + 3 * hour, 0.0).verdict, reading_verdict::held);  // a reading of 0 out of nowhere
  q -= 100.0 / 60.0;
  const observation back = f.at(t0 + 3 * hour + minute, q);
  EXPECT_TRUE(back.dropped_outlier);
  EXPECT_EQ(back.verdict, reading_verdict::accepted);
  EXPECT_EQ(e.counters().outliers, 1u);
  EXPECT_GT(e.estimate().quantity, 9000.0);
  EXPECT_NEAR(e.estimate().rate_recent, 100.0, 3.0);
}

TEST(stock_estimator, two_equal_glitches_in_a_row_are_not_a_step) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 2.0;
  double q = f.run(t0, t0 + 3 * hour, 10'000.0, 100.0);
  f.at(t0 + 3 * hour, 0.0);
  f.at(t0 + 3 * hour + minute, 0.0);
  q -= 2 * 100.0 / 60.0;
  f.at(t0 + 3 * hour + 2 * minute, q);
  EXPECT_EQ(e.counters().outliers, 2u);
  EXPECT_EQ(e.counters().steps_down, 0u);
  EXPECT_GT(e.estimate().quantity, 9000.0);
}

TEST(stock_estimator, a_step_down_that_stays_is_consumption) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 2.0;
  double q = f.run(t0, t0 + 3 * hour, 10'000.0, 100.0);
  q -= 1500.0;  // a pallet taken to the line at once
  q = f.run(t0 + 3 * hour, t0 + 3 * hour + 10 * minute, q, 100.0);
  EXPECT_EQ(e.counters().steps_down, 1u);
  EXPECT_EQ(e.counters().deliveries, 0u);
  EXPECT_NEAR(e.estimate().quantity, q + 100.0 / 60.0, 3.0);
  EXPECT_GT(e.estimate().rate_recent, 100.0);  // the pallet is consumption
}

TEST(stock_estimator, noise_scale_is_learnt_and_noise_alone_moves_nothing) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 20.0;  // uniform in +-20: sigma 11.5
  f.run(t0, t0 + 10 * hour, 10'000.0, 0.0);
  EXPECT_NEAR(e.estimate().noise, 20.0 / std::sqrt(3.0), 3.0);
  EXPECT_LT(e.estimate().rate_running, 2.0);
  EXPECT_EQ(e.counters().outliers, 0u);
  EXPECT_EQ(e.counters().deliveries, 0u);
  EXPECT_EQ(e.counters().steps_down, 0u);
}

TEST(stock_estimator, a_gap_does_not_fake_a_rate) {
  for (const double change_across_gap : {+800.0, -1800.0}) {
    stock_estimator e;
    feeder f{e};
    f.noise_half = 5.0;
    double q = f.run(t0, t0 + 4 * hour, 10'000.0, 100.0);
    // Six hours without readings; the stock moved by more (or other) than the
    // consumption explains: a delivery, a stock count, a pallet moved.
    q += change_across_gap;
    EXPECT_EQ(f.at(t0 + 10 * hour, q).verdict, reading_verdict::held);
    f.run(t0 + 10 * hour + minute, t0 + 11 * hour, q - 100.0 / 60.0, 100.0);
    EXPECT_EQ(e.counters().gaps, 1u) << change_across_gap;
    EXPECT_NEAR(e.estimate().rate_recent, 100.0, 5.0) << change_across_gap;
    EXPECT_NEAR(e.estimate().rate_running, 100.0, 8.0) << change_across_gap;
  }
}

TEST(stock_estimator, consumption_change_adapts_within_hours) {
  stock_estimator e;  // rate_half_life 2 h: half-way after ~5 h, 90 % after ~11 h
  feeder f{e};
  f.noise_half = 5.0;
  double q = f.run(t0, t0 + 12 * hour, 30'000.0, 100.0);
  q = f.run(t0 + 12 * hour, t0 + 17 * hour, q, 200.0);  // doubles
  EXPECT_GT(e.estimate().rate_recent, 150.0);
  EXPECT_GE(e.estimate().rate_running, e.estimate().rate_recent);
  q = f.run(t0 + 17 * hour, t0 + 24 * hour, q, 200.0);
  EXPECT_NEAR(e.estimate().rate_recent, 200.0, 20.0);
  EXPECT_NEAR(e.estimate().rate_running, 200.0, 20.0);
  f.run(t0 + 24 * hour, t0 + 36 * hour, q, 100.0);  // halves again
  EXPECT_NEAR(e.estimate().rate_recent, 100.0, 10.0);
  // The projection stays on the safe side (the long fit) a while longer, but
  // never below the recent rate.
  EXPECT_GE(e.estimate().rate_running, e.estimate().rate_recent);
  EXPECT_LT(e.estimate().rate_running, 200.0);
}

TEST(stock_estimator, idle_lines_accrue_no_consumption_and_keep_the_rate) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 5.0;
  double q = f.run(t0, t0 + 6 * hour, 10'000.0, 100.0);
  const double learnt = e.estimate().rate_running;
  const epoch_ms projected_before = *e.estimate().projected_stockout;
  e.set_activity(t0 + 6 * hour, 0.0, 0.0);
  f.run(t0 + 6 * hour, t0 + 54 * hour, q, 0.0);                   // two days idle, stock flat
  EXPECT_NEAR(e.estimate().rate_running, learnt, 0.05 * learnt);  // per running hour: unchanged
  EXPECT_LT(e.estimate().running_share, 0.05);
  EXPECT_LT(e.estimate().rate, 0.05 * learnt);
  ASSERT_TRUE(!e.estimate().projected_stockout || *e.estimate().projected_stockout > projected_before + 48 * hour);
  // Running again: the rate is there at once, nothing to re-learn.
  e.set_activity(t0 + 54 * hour, 1.0, 1.0);
  f.run(t0 + 54 * hour, t0 + 55 * hour, q, 100.0);
  EXPECT_NEAR(e.estimate().rate_running, 100.0, 8.0);
}

TEST(stock_estimator, starved_lines_keep_the_projected_share) {
  stock_estimator e;
  feeder f{e};
  const double q = f.run(t0, t0 + 6 * hour, 10'000.0, 100.0);
  e.set_activity(t0 + 6 * hour, 0.0, 1.0);  // starved by another input: stands still, runs again later
  f.run(t0 + 6 * hour, t0 + 30 * hour, q, 0.0);
  EXPECT_NEAR(e.estimate().running_share, 1.0, 1e-9);
  EXPECT_NEAR(e.estimate().rate_running, 100.0, 5.0);
}

TEST(stock_estimator, out_of_order_and_duplicate_readings_are_ignored) {
  stock_estimator clean;
  stock_estimator dirty;
  noise_source n1(7);
  double q = 10'000.0;
  for (epoch_ms t = t0; t < t0 + 5 * hour; t += minute) {
    const double v = q + 3.0 * n1.next();
    clean.observe(t, v, quality::good);
    dirty.observe(t, v, quality::good);
    EXPECT_EQ(dirty.observe(t, v - 500.0, quality::good).verdict, reading_verdict::ignored_time);  // duplicate time
    EXPECT_EQ(dirty.observe(t - 30 * minute, 0.0, quality::good).verdict, reading_verdict::ignored_time);  // late
    q -= 100.0 / 60.0;
  }
  EXPECT_EQ(dirty.counters().ignored_time, 2u * 300u);
  EXPECT_EQ(dirty.estimate().rate_running, clean.estimate().rate_running);
  EXPECT_EQ(dirty.estimate().level, clean.estimate().level);
  EXPECT_EQ(dirty.estimate().projected_stockout, clean.estimate().projected_stockout);
}

TEST(stock_estimator, bad_stale_and_non_finite_readings_are_ignored) {
  stock_estimator clean;
  stock_estimator dirty;
  double q = 10'000.0;
  for (epoch_ms t = t0; t < t0 + 5 * hour; t += minute) {
    clean.observe(t, q, quality::good);
    EXPECT_EQ(dirty.observe(t, 0.0, quality::bad).verdict, reading_verdict::ignored_quality);
    EXPECT_EQ(dirty.observe(t, 1e9, quality::stale).verdict, reading_verdict::ignored_quality);
    dirty.observe(t, q, quality::good);
    EXPECT_EQ(dirty.observe(t + 1, std::numeric_limits<double>::quiet_NaN(), quality::good).verdict,
              reading_verdict::ignored_value);
    q -= 100.0 / 60.0;
  }
  EXPECT_EQ(dirty.counters().ignored_quality, 600u);
  EXPECT_EQ(dirty.counters().ignored_value, 300u);
  EXPECT_EQ(dirty.estimate().rate_running, clean.estimate().rate_running);
  EXPECT_EQ(dirty.estimate().quantity, clean.estimate().quantity);
}

TEST(stock_estimator, empty_bin_readings_do_not_teach_a_rate_of_zero) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 1.0;
  f.run(t0, t0 + 6 * hour, 600.0, 100.0);          // reaches ~0 at the end
  f.run(t0 + 6 * hour, t0 + 18 * hour, 0.0, 0.0);  // empty for 12 h, lines left "running"
  EXPECT_LE(e.estimate().quantity, e.empty_level());
  double q = 5000.0;
  q = f.run(t0 + 18 * hour, t0 + 19 * hour, q, 100.0);
  EXPECT_NEAR(e.estimate().rate_running, 100.0, 10.0);
  EXPECT_EQ(e.counters().deliveries, 1u);
}

TEST(stock_estimator, noisier_sensor_is_learnt_instead_of_read_as_steps) {
  stock_estimator e;
  feeder f{e};
  f.noise_half = 2.0;
  double q = f.run(t0, t0 + 4 * hour, 50'000.0, 100.0);
  f.noise_half = 60.0;  // 30x worse from now on
  f.run(t0 + 4 * hour, t0 + 14 * hour, q, 100.0);
  EXPECT_NEAR(e.estimate().noise, 60.0 / std::sqrt(3.0), 12.0);
  EXPECT_NEAR(e.estimate().rate_recent, 100.0, 15.0);
  EXPECT_LT(e.counters().deliveries + e.counters().steps_down, 10u);
}

}  // namespace
}  // namespace plant::edge
