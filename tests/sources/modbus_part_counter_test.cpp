// Part counters: wraparound at 16 and 32 bits, PLC resets, and the production
// rate over a sliding window, with time passed in.
#include "agent/sources/modbus/part_counter.hpp"

#include <gtest/gtest.h>

namespace plant::sources {
namespace {

TEST(modbus_part_counter, starts_at_the_first_reading_and_adds_increments) {
  part_counter c(32);
  EXPECT_FALSE(c.started());
  EXPECT_EQ(c.total(), 0u);
  c.update(1000, 0);
  EXPECT_TRUE(c.started());
  EXPECT_EQ(c.total(), 1000u);
  c.update(1005, 1000);
  c.update(1005, 2000);
  EXPECT_EQ(c.total(), 1005u);
  EXPECT_EQ(c.wraps(), 0u);
  EXPECT_EQ(c.resets(), 0u);
}

TEST(modbus_part_counter, a_16_bit_counter_wraps_past_65535) {
  part_counter c(16);
  c.update(65530, 0);
  c.update(4, 1000);  // 65530 -> 65535 (5), -> 0 (1), -> 4 (4)
  EXPECT_EQ(c.total(), 65540u);
  EXPECT_EQ(c.wraps(), 1u);
  EXPECT_EQ(c.resets(), 0u);
  c.update(65535, 2000);
  c.update(0, 3000);
  EXPECT_EQ(c.total(), 65540u + 65531u + 1u);
  EXPECT_EQ(c.wraps(), 2u);
}

TEST(modbus_part_counter, a_32_bit_counter_wraps_past_4294967295) {
  part_counter c(32);
  c.update(4294967290u, 0);
  c.update(5, 1000);
  EXPECT_EQ(c.total(), 4294967290ull + 11u);
  EXPECT_EQ(c.wraps(), 1u);
}

TEST(modbus_part_counter, a_drop_from_the_middle_of_the_range_is_a_reset_not_a_wrap) {
  part_counter c(16);
  c.update(30000, 0);
  c.update(4, 1000);
  EXPECT_EQ(c.total(), 30004u) << "the 4 parts since the restart are added";
  EXPECT_EQ(c.resets(), 1u);
  EXPECT_EQ(c.wraps(), 0u);
  c.update(10, 2000);
  EXPECT_EQ(c.total(), 30010u);

  part_counter big(32);
  big.update(1000000, 0);
  big.update(3, 1000);
  EXPECT_EQ(big.resets(), 1u);
  EXPECT_EQ(big.total(), 1000003u);
}

TEST(modbus_part_counter, a_wrap_that_would_skip_more_than_a_quarter_of_the_range_is_a_reset) {
  part_counter c(16);
  c.update(60000, 0);   // 5535 to the top
  c.update(20000, 1000);  // would be 25536 parts: more than a quarter (16384)
  EXPECT_EQ(c.resets(), 1u);
  EXPECT_EQ(c.total(), 80000u);
}

TEST(modbus_part_counter, raw_values_are_masked_to_the_width) {
  part_counter c(16);
  c.update(0x1FFFF, 0);  // a sign-extended int16 -1 arrives as 65535
  EXPECT_EQ(c.total(), 65535u);
}

TEST(modbus_part_counter, a_64_bit_counter_does_not_overflow_near_its_top) {
  part_counter c(64);
  c.update(~0ull - 1, 0);
  c.update(2, 1000);
  EXPECT_EQ(c.wraps(), 1u);
  EXPECT_EQ(c.total(), ~0ull - 1 + 4) << "wraps modulo 2^64 in the total too";
}

TEST(modbus_part_counter, rate_is_parts_per_minute_over_the_window) {
  part_counter c(32, 60000);
  c.update(100, 0);
  EXPECT_EQ(c.rate_per_minute(), 0.0) << "one reading: unknown";
  c.update(125, 15000);
  EXPECT_DOUBLE_EQ(c.rate_per_minute(), 100.0);
  c.update(150, 30000);
  c.update(200, 60000);
  EXPECT_DOUBLE_EQ(c.rate_per_minute(), 100.0);
  // The line stops: after a full window without parts the rate is 0.
  c.update(200, 90000);
  EXPECT_DOUBLE_EQ(c.rate_per_minute(), 50.0 * 60000 / 60000);
  c.update(200, 120000);
  EXPECT_DOUBLE_EQ(c.rate_per_minute(), 0.0);
}

TEST(modbus_part_counter, rate_counts_through_a_wrap) {
  part_counter c(16, 60000);
  c.update(65500, 0);
  c.update(64, 30000);  // 100 parts
  EXPECT_DOUBLE_EQ(c.rate_per_minute(), 200.0);
}

TEST(modbus_part_counter, a_clock_stepped_back_restarts_the_rate) {
  part_counter c(32, 60000);
  c.update(0, 100000);
  c.update(60, 160000);
  EXPECT_DOUBLE_EQ(c.rate_per_minute(), 60.0);
  c.update(70, 50000);
  EXPECT_EQ(c.rate_per_minute(), 0.0);
  EXPECT_EQ(c.total(), 70u);
}

TEST(modbus_part_counter, the_window_is_bounded_and_counts_what_it_dropped) {
  part_counter c(32, 1000000);
  for (std::size_t i = 0; i < part_counter::max_window_readings + 10; ++i) c.update(i, static_cast<epoch_ms>(i));
  EXPECT_EQ(c.dropped_readings(), 10u);
  EXPECT_DOUBLE_EQ(c.rate_per_minute(), 60000.0);
}

}  // namespace
}  // namespace plant::sources
