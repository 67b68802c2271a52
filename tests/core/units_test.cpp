#include "common/core/units.hpp"

#include <gtest/gtest.h>

namespace plant {
namespace {

millis duration_or_fail(std::string_view text) {
  std::string error;
  const auto d = parse_duration(text, error);
  EXPECT_TRUE(d.has_value()) << text << ": " << error;
  return d.value_or(millis{-1});
}

std::string duration_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_duration(text, error).has_value()) << text;
  return error;
}

std::uint64_t size_or_fail(std::string_view text) {
  std::string error;
  const auto s = parse_size(text, error);
  EXPECT_TRUE(s.has_value()) << text << ": " << error;
  return s.value_or(~0ull);
}

std::string size_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_size(text, error).has_value()) << text;
  return error;
}

TEST(units, parses_every_duration_unit_and_compounds) {
  EXPECT_EQ(duration_or_fail("250ms"), millis{250});
  EXPECT_EQ(duration_or_fail("5s"), millis{5000});
  EXPECT_EQ(duration_or_fail("2m"), millis{120000});
  EXPECT_EQ(duration_or_fail("2h"), millis{7200000});
  EXPECT_EQ(duration_or_fail("7d"), millis{7ll * 86400000});
  EXPECT_EQ(duration_or_fail("1h30m"), millis{5400000});
  EXPECT_EQ(duration_or_fail("1d2h3m4s5ms"), millis{93784005});
  EXPECT_EQ(duration_or_fail("0s"), millis{0});
}

TEST(units, rejects_bad_durations_with_the_reason) {
  EXPECT_EQ(duration_error("5 sec"), "spaces are not allowed; write e.g. \"5s\" or \"1h30m\"");
  EXPECT_EQ(duration_error("5sec"), "unknown unit 'sec'; use ms, s, m, h or d");
  EXPECT_EQ(duration_error("5"), "missing unit after 5; use ms, s, m, h or d");
  EXPECT_EQ(duration_error("-5s"), "negative durations are not allowed");
  EXPECT_EQ(duration_error("1.5h"), "fractions are not allowed; write e.g. \"1m30s\" instead of \"1.5m\"");
  EXPECT_EQ(duration_error("30m1h"), "units must go from largest to smallest, each once, e.g. \"1h30m\"");
  EXPECT_EQ(duration_error("1h1h"), "units must go from largest to smallest, each once, e.g. \"1h30m\"");
  EXPECT_EQ(duration_error("s"), "expected a number at 's'");
  EXPECT_EQ(duration_error(""), "it is empty; write e.g. \"5s\" or \"1h30m\"");
  EXPECT_EQ(duration_error("99999999999999999999d"), "the number is too large");
  EXPECT_EQ(duration_error("9999999999999d"), "the duration is too large");
}

TEST(units, parses_binary_and_decimal_sizes) {
  EXPECT_EQ(size_or_fail("100B"), 100u);
  EXPECT_EQ(size_or_fail("4096"), 4096u);
  EXPECT_EQ(size_or_fail("512KiB"), 512u * 1024);
  EXPECT_EQ(size_or_fail("64MiB"), 64ull << 20);
  EXPECT_EQ(size_or_fail("1GiB"), 1ull << 30);
  EXPECT_EQ(size_or_fail("2TiB"), 2ull << 40);
  EXPECT_EQ(size_or_fail("1KB"), 1000u);
  EXPECT_EQ(size_or_fail("5MB"), 5000000u);
  EXPECT_EQ(size_or_fail("2GB"), 2000000000u);
}

TEST(units, rejects_bad_sizes_with_the_reason) {
  EXPECT_EQ(size_error("64mb"), "unknown unit 'mb'; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB");
  EXPECT_EQ(size_error("64 MiB"), "spaces are not allowed; write e.g. \"64MiB\"");
  EXPECT_EQ(size_error("1.5MiB"), "fractions are not allowed; write e.g. \"1536KiB\" instead of \"1.5MiB\"");
  EXPECT_EQ(size_error("-1KiB"), "negative sizes are not allowed");
  EXPECT_EQ(size_error("MiB"), "expected a number at 'MiB'");
  EXPECT_EQ(size_error("17000000TiB"), "the size is too large");
}

TEST(units, formats_the_shortest_exact_form) {
  EXPECT_EQ(format_duration(millis{50}), "50ms");
  EXPECT_EQ(format_duration(millis{0}), "0s");
  EXPECT_EQ(format_duration(millis{90000}), "1m30s");
  EXPECT_EQ(format_duration(millis{7ll * 86400000}), "7d");
  EXPECT_EQ(format_duration(millis{1500}), "1s500ms");
  EXPECT_EQ(format_size(256ull << 20), "256MiB");
  EXPECT_EQ(format_size(64u << 10), "64KiB");
  EXPECT_EQ(format_size(100), "100B");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(0), "0B");
}

TEST(units, formatted_values_parse_back) {
  for (long long ms : {1ll, 999ll, 1000ll, 61001ll, 3600000ll, 90061001ll, 604800000ll}) {
    std::string error;
    EXPECT_EQ(parse_duration(format_duration(millis{ms}), error), millis{ms}) << ms;
  }
  for (std::uint64_t bytes : {1ull, 1023ull, 1024ull, 1536ull, 16ull << 20, 3ull << 30}) {
    std::string error;
    EXPECT_EQ(parse_size(format_size(bytes), error), bytes) << bytes;
  }
}

}  // namespace
}  // namespace plant
