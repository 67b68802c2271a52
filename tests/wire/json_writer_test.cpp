#include "common/wire/json_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace plant::wire {
namespace {

std::string as_json_string(std::string_view text) {
  std::string out;
  json_writer::append_quoted(out, text);
  return out;
}

TEST(watch_json_writer, escapes_quotes_backslashes_and_control_characters) {
  EXPECT_EQ(as_json_string("plain"), "\"plain\"");
  EXPECT_EQ(as_json_string("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(as_json_string("C:\\dir"), "\"C:\\\\dir\"");
  EXPECT_EQ(as_json_string("a\nb\rc\td\be\ff"), "\"a\\nb\\rc\\td\\be\\ff\"");
  EXPECT_EQ(as_json_string(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(as_json_string("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(as_json_string("/"), "\"/\"");
}

TEST(watch_json_writer, keeps_valid_utf8_and_replaces_invalid_bytes) {
  EXPECT_EQ(as_json_string("Stra\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x8F\xAD"), "\"Stra\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x8F\xAD\"");
  EXPECT_EQ(as_json_string("a\xFFz"), "\"a\xEF\xBF\xBDz\"");            // never valid
  EXPECT_EQ(as_json_string("a\xC3"), "\"a\xEF\xBF\xBD\"");              // truncated sequence
  EXPECT_EQ(as_json_string("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong '/'
  EXPECT_EQ(as_json_string("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

TEST(watch_json_writer, numbers_are_exact_or_null) {
  json_writer w;
  w.begin_array()
      .value(std::numeric_limits<std::uint64_t>::max())
      .value(std::numeric_limits<std::int64_t>::min())
      .value(0.1)
      .value(57.5)
      .value(1e21)
      .value(-0.0)
      .value(std::numeric_limits<double>::quiet_NaN())
      .value(std::numeric_limits<double>::infinity())
      .value(-std::numeric_limits<double>::infinity())
      .value(3)
      .end_array();
  EXPECT_EQ(w.text(), "[18446744073709551615,-9223372036854775808,0.1,57.5,1e+21,-0,null,null,null,3]");
}

TEST(watch_json_writer, places_commas_and_colons) {
  json_writer w;
  w.begin_object();
  w.field("a", 1);
  w.key("list").begin_array().value("x").begin_object().end_object().begin_array().end_array().null().end_array();
  w.field("flag", true);
  w.key("obj").begin_object().field("k\"ey", false).end_object();
  w.end_object();
  EXPECT_EQ(w.text(), "{\"a\":1,\"list\":[\"x\",{},[],null],\"flag\":true,\"obj\":{\"k\\\"ey\":false}}");
  EXPECT_EQ(w.take(), "{\"a\":1,\"list\":[\"x\",{},[],null],\"flag\":true,\"obj\":{\"k\\\"ey\":false}}");
  EXPECT_EQ(w.text(), "");
  w.begin_object().field("b", "c").end_object();
  EXPECT_EQ(w.text(), "{\"b\":\"c\"}");
}

}  // namespace
}  // namespace plant::wire
