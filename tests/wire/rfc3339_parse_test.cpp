#include <gtest/gtest.h>

#include "common/wire/time_format.hpp"

namespace plant::wire {
namespace {

epoch_ms parsed(const std::string& text) {
  epoch_ms t = -1;
  const std::string problem = parse_rfc3339(text, t);
  EXPECT_EQ(problem, "") << text;
  return t;
}

TEST(rfc3339_parse, reads_zones_fractions_and_round_trips_the_formatter) {
  EXPECT_EQ(parsed("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parsed("2026-10-01T00:00:00Z"), 1'790'812'800'000);
  EXPECT_EQ(parsed("2026-10-01T02:00:00+02:00"), 1'790'812'800'000);
  EXPECT_EQ(parsed("2026-09-30T19:30:00-04:30"), 1'790'812'800'000);
  EXPECT_EQ(parsed("2026-10-01t00:00:00.5z"), 1'790'812'800'500);
  EXPECT_EQ(parsed("2026-10-01 00:00:00.123456Z"), 1'790'812'800'123);
  EXPECT_EQ(parsed("2024-02-29T12:00:00Z"), parsed("2024-03-01T12:00:00Z") - 86'400'000);
  EXPECT_EQ(parsed("1969-12-31T23:59:59.999Z"), -1);
  for (epoch_ms t : {0LL, 1'790'812'800'123LL, -86'400'001LL, 253'402'300'799'999LL})
    EXPECT_EQ(parsed(format_rfc3339_ms(t)), t) << format_rfc3339_ms(t);
}

TEST(rfc3339_parse, says_what_is_wrong) {
  epoch_ms t = 0;
  EXPECT_NE(parse_rfc3339("yesterday", t), "");
  EXPECT_NE(parse_rfc3339("2026-10-01T00:00:00", t).find("zone"), std::string::npos);
  EXPECT_EQ(parse_rfc3339("2026-02-29T00:00:00Z", t), "no such date");
  EXPECT_EQ(parse_rfc3339("2026-13-01T00:00:00Z", t), "no such date");
  EXPECT_EQ(parse_rfc3339("2026-10-01T24:00:00Z", t), "no such time of day");
  EXPECT_NE(parse_rfc3339("2026-10-01T00:00:00Zjunk", t), "");
  EXPECT_NE(parse_rfc3339("2026-10-01T00:00:00.Z", t), "");
}

}  // namespace
}  // namespace plant::wire
