#include "common/core/latency_histogram.hpp"

#include <gtest/gtest.h>

namespace plant {
namespace {

using namespace std::chrono_literals;

TEST(latency_histogram, bounds_are_inclusive_and_counts_cumulative) {
  latency_histogram h;
  h.observe(500us);
  h.observe(1000us);
  h.observe(1001us);
  h.observe(30ms);
  h.observe(20s);
  h.observe(-5us);  // a clock step backwards counts as zero
  EXPECT_EQ(h.count(), 6u);
  EXPECT_EQ(h.sum_us(), 500u + 1000u + 1001u + 30000u + 20000000u);
  EXPECT_EQ(h.cumulative(0), 3u);   // le 1 ms
  EXPECT_EQ(h.cumulative(1), 4u);   // le 2 ms
  EXPECT_EQ(h.cumulative(4), 4u);   // le 25 ms
  EXPECT_EQ(h.cumulative(5), 5u);   // le 50 ms
  EXPECT_EQ(h.cumulative(12), 5u);  // le 10 s
  EXPECT_EQ(h.cumulative(13), 6u);  // +Inf
}


TEST(latency_histogram, nearest_rank_percentiles) {
  latency_histogram h;
  EXPECT_EQ(h.percentile_ms(50), 0.0);
  for (int ms = 100; ms >= 1; --ms) h.record_us(ms * 1000);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile_ms(50), 50.0);
  EXPECT_EQ(h.percentile_ms(99), 99.0);
  EXPECT_EQ(h.percentile_ms(100), 100.0);
  EXPECT_EQ(h.max_ms(), 100.0);
}

TEST(latency_histogram, sub_millisecond_values_are_exact_and_skew_clamps_to_zero) {
  latency_histogram h;
  h.record_us(237);
  h.record_us(1999);
  h.record_us(-5000);
  EXPECT_EQ(h.percentile_ms(34), 0.237);
  EXPECT_EQ(h.percentile_ms(33), 0.0);
  EXPECT_EQ(h.percentile_ms(99), 1.999);
}

TEST(latency_histogram, large_values_stay_within_one_percent) {
  latency_histogram h;
  for (int i = 0; i < 1000; ++i) h.record_us(1234567 + i * 37);
  const double p50 = h.percentile_ms(50);
  const double exact = (1234567 + 499 * 37) / 1000.0;
  EXPECT_NEAR(p50, exact, exact * 0.008);
  EXPECT_EQ(h.max_ms(), (1234567 + 999 * 37) / 1000.0);
}

}  // namespace
}  // namespace plant
