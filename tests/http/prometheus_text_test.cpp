// The Prometheus text format details every /metrics shares.
#include "common/http/prometheus_text.hpp"

#include <gtest/gtest.h>

namespace plant {
namespace {

TEST(prometheus_text, label_values_escape_backslash_quote_and_newline_only) {
  EXPECT_EQ(prometheus::escape_label_value("plain-name_1.x"), "plain-name_1.x");
  EXPECT_EQ(prometheus::escape_label_value("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
  EXPECT_EQ(prometheus::escape_label_value(""), "");
}

TEST(prometheus_text, values_use_the_shortest_form_and_the_format_s_infinities) {
  EXPECT_EQ(prometheus::format_value(0.001), "0.001");
  EXPECT_EQ(prometheus::format_value(2.5), "2.5");
  EXPECT_EQ(prometheus::format_value(10), "10");
  EXPECT_EQ(prometheus::format_value(0), "0");
  EXPECT_EQ(prometheus::format_value(1700000000.123), "1700000000.123");
  EXPECT_EQ(prometheus::format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(prometheus::format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(prometheus::format_value(0.0 / 0.0), "NaN");
}

}  // namespace
}  // namespace plant
