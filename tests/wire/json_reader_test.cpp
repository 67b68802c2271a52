#include "common/wire/json_reader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace plant::wire {
namespace {

TEST(json_reader, reads_objects_arrays_and_scalars) {
  const auto r = parse_json(R"( {"note":"on its way","n":-1.5e2,"ok":true,"none":null,"list":[1,"two",false]} )");
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(r.value.is_object());
  EXPECT_EQ(r.value.find("note")->as_string(), "on its way");
  EXPECT_DOUBLE_EQ(r.value.find("n")->as_number(), -150.0);
  EXPECT_TRUE(r.value.find("ok")->as_bool());
  EXPECT_TRUE(r.value.find("none")->is_null());
  ASSERT_EQ(r.value.find("list")->items().size(), 3u);
  EXPECT_EQ(r.value.find("list")->items()[1].as_string(), "two");
  EXPECT_EQ(r.value.find("absent"), nullptr);
}

TEST(json_reader, decodes_escapes_and_surrogate_pairs_to_utf8) {
  const auto r = parse_json(R"("a\"b\\c\/d\n\u00e9\u20ac\ud83c\udfed")");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.as_string(), "a\"b\\c/d\n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8F\xAD");
}

TEST(json_reader, names_the_byte_and_the_problem) {
  EXPECT_EQ(parse_json(R"({"a" 1})").error, "at byte 5: expected ':' after a member name");
  EXPECT_EQ(parse_json(R"({"a":1,})").error, "at byte 7: expected a member name in double quotes");
  EXPECT_EQ(parse_json(R"({"a":1,"a":2})").error, "at byte 7: member \"a\" appears twice");
  EXPECT_EQ(parse_json("").error, "at byte 0: expected a value, found the end");
  EXPECT_EQ(parse_json("{} x").error, "at byte 3: unexpected text after the value");
  EXPECT_EQ(parse_json("\"abc").error, "at byte 4: a string is not closed");
  EXPECT_EQ(parse_json("\"a\x01\"").error, "at byte 2: a control character inside a string must be escaped");
  EXPECT_EQ(parse_json(R"("\x")").error, "at byte 1: unknown escape \\x");
  EXPECT_EQ(parse_json(R"("\ud800")").error, "at byte 7: a high surrogate must be followed by a low one");
  EXPECT_EQ(parse_json(R"("\udc00")").error, "at byte 7: a low surrogate without a high one");
}

TEST(json_reader, strings_must_be_utf8_text_a_database_and_a_page_can_hold) {
  EXPECT_EQ(parse_json("\"a\xFF" "b\"").error, "at byte 4: a string must be valid UTF-8");
  EXPECT_EQ(parse_json(R"("a\u0000b")").error, "at byte 9: a string must not hold NUL (\\u0000)");
  EXPECT_TRUE(parse_json("\"Stra\xC3\x9F" "e\"").ok());
}

TEST(json_reader, rejects_what_json_does_not_allow) {
  for (const char* text : {"01", "1.", ".5", "+1", "1e", "-", "tru", "nul", "[1 2]", "{'a':1}", "[1,]", "NaN",
                           "Infinity", "1e999", "{\"a\":1"}) {
    EXPECT_FALSE(parse_json(text).ok()) << text;
  }
}

TEST(json_reader, bounds_the_nesting_instead_of_recursing_without_end) {
  const std::string deep(100000, '[');
  const auto r = parse_json(deep);
  EXPECT_EQ(r.error, "at byte 32: nested deeper than 32 levels");
  EXPECT_TRUE(parse_json(std::string(32, '[') + std::string(32, ']')).ok());
}

}  // namespace
}  // namespace plant::wire
