#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "watch/views/text_table.hpp"
#include "common/wire/time_format.hpp"

namespace plant::watch {
namespace {

using namespace plant::wire;

TEST(watch_time_format, rfc3339_with_milliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_rfc3339_ms(951782400000), "2000-02-29T00:00:00.000Z");   // leap day of a 400-year leap year
  EXPECT_EQ(format_rfc3339_ms(4107542399999), "2100-02-28T23:59:59.999Z");  // 2100 is not a leap year
  EXPECT_EQ(format_rfc3339_ms(4107542400000), "2100-03-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(1700000000123), "2023-11-14T22:13:20.123Z");  // again, after the day cache moved
}

TEST(watch_time_format, spans) {
  EXPECT_EQ(format_span(0), "0ms");
  EXPECT_EQ(format_span(850), "850ms");
  EXPECT_EQ(format_span(12999), "12s");
  EXPECT_EQ(format_span(185000), "3m05s");
  EXPECT_EQ(format_span(7380000), "2h03m");
  EXPECT_EQ(format_span(4 * 86400000LL + 7 * 3600000LL), "4d07h");
  EXPECT_EQ(format_span(-2000), "-2s");
  EXPECT_EQ(format_span(std::numeric_limits<std::int64_t>::min()).substr(0, 1), "-");
}

TEST(watch_text_table, aligns_columns_and_counts_utf8_as_one) {
  text_table t({"NAME", "QTY"}, {text_table::align::left, text_table::align::right});
  t.add_row({"Stra\xC3\x9F" "e", "1"});
  t.add_row({"a", "12345", "ignored"});
  t.add_row({"b"});
  EXPECT_EQ(t.render("> "),
            "> NAME      QTY\n"
            "> Stra\xC3\x9F" "e      1\n"
            "> a       12345\n"
            "> b\n");
}

TEST(watch_text_table, numbers_and_bytes) {
  EXPECT_EQ(format_number(12.0), "12");
  EXPECT_EQ(format_number(12.5), "12.5");
  EXPECT_EQ(format_number(12.3456), "12.35");
  EXPECT_EQ(format_number(-0.001), "0");
  EXPECT_EQ(format_number(57.54, 1), "57.5");
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "-");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(3072), "3.0 KiB");
  EXPECT_EQ(format_bytes(5u << 20), "5.0 MiB");
  EXPECT_EQ(format_bytes(3ull << 30), "3.0 GiB");
}

}  // namespace
}  // namespace plant::watch
