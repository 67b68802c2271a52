#include "common/core/backoff.hpp"

#include <gtest/gtest.h>

namespace plant {
namespace {

using std::chrono::milliseconds;

TEST(backoff, delays_grow_within_full_jitter_bounds_up_to_the_cap) {
  backoff b(milliseconds(100), milliseconds(1600), 42);
  for (unsigned attempt = 0; attempt < 12; ++attempt) {
    auto delay = b.next();
    auto ceiling = std::min<long long>(1600, 100LL << attempt);
    EXPECT_GE(delay.count(), 100) << attempt;
    EXPECT_LE(delay.count(), ceiling) << attempt;
  }
  EXPECT_EQ(b.attempts(), 12u);
}

TEST(backoff, jitter_spreads_clients_apart) {
  // Two gateways reconnecting after the same broker restart should not retry in lockstep.
  backoff a(milliseconds(1000), milliseconds(60000), 1), b(milliseconds(1000), milliseconds(60000), 2);
  int different = 0;
  for (int i = 0; i < 8; ++i) different += a.next() != b.next() ? 1 : 0;
  EXPECT_GE(different, 6);
}

TEST(backoff, reset_returns_to_the_first_delay) {
  backoff b(milliseconds(50), milliseconds(60000), 7);
  for (int i = 0; i < 20; ++i) b.next();
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  auto delay = b.next();
  EXPECT_GE(delay.count(), 50);
  EXPECT_LE(delay.count(), 50);  // first attempt: [min, min * 2^0]
}

TEST(backoff, an_outage_of_days_does_not_overflow) {
  backoff b(milliseconds(1000), milliseconds(60000), 9);
  for (int i = 0; i < 100000; ++i) {
    auto delay = b.next();
    ASSERT_GE(delay.count(), 1000);
    ASSERT_LE(delay.count(), 60000);
  }
}

}  // namespace
}  // namespace plant
