#include "agent/sources/csv/stock_csv_parser.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace plant::sources {
namespace {

constexpr epoch_ms mtime = 1795000000000;
constexpr epoch_ms received = 1795400000000;

stock_csv_result parse(std::string_view text, const stock_csv_columns& columns = {}, char delimiter = ',') {
  return parse_stock_csv(text, "stock.csv", columns, delimiter, mtime, received);
}

stock_csv_columns all_columns() {
  stock_csv_columns columns;
  columns.timestamp = "timestamp";
  columns.location = "location";
  columns.unit = "unit";
  return columns;
}

TEST(stock_csv_parser, reads_rows_into_stock_samples) {
  const auto result = parse("material,quantity,unit,location,timestamp\n"
                            "M-100,12.5,kg,WH1,2026-11-22T07:30:00Z\n"
                            "M-200,-3,pcs,,1795332600\n",
                            all_columns());
  ASSERT_FALSE(result.error);
  EXPECT_TRUE(result.rejects.empty());
  ASSERT_EQ(result.samples.size(), 2u);
  const sample& first = result.samples[0];
  EXPECT_EQ(first.kind, sample::kind_t::stock);
  EXPECT_EQ(first.q, quality::good);
  EXPECT_EQ(first.name, "M-100");
  EXPECT_DOUBLE_EQ(first.quantity, 12.5);
  EXPECT_EQ(first.unit, "kg");
  EXPECT_EQ(first.location, "WH1");
  EXPECT_EQ(first.source_time, 1795332600000);
  EXPECT_EQ(first.receive_time, received);
  EXPECT_EQ(result.samples[1].name, "M-200");
  EXPECT_DOUBLE_EQ(result.samples[1].quantity, -3.0);
  EXPECT_EQ(result.samples[1].location, "");
  EXPECT_EQ(result.samples[1].source_time, 1795332600000);
}

TEST(stock_csv_parser, without_timestamp_column_rows_take_the_fallback_time) {
  const auto result = parse("material,quantity\nbolt,5\n");
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.samples[0].source_time, mtime);
  EXPECT_EQ(result.samples[0].receive_time, received);
  EXPECT_EQ(result.samples[0].unit, "");
}

TEST(stock_csv_parser, header_names_are_trimmed_and_case_sensitive) {
  const auto trimmed = parse(" quantity , material \n 7 , bolt \n");
  ASSERT_FALSE(trimmed.error);
  ASSERT_EQ(trimmed.samples.size(), 1u);
  EXPECT_EQ(trimmed.samples[0].name, "bolt");
  EXPECT_DOUBLE_EQ(trimmed.samples[0].quantity, 7.0);

  const auto wrong_case = parse("Material,quantity\nbolt,5\n");
  ASSERT_TRUE(wrong_case.error);
  EXPECT_EQ(*wrong_case.error, "stock.csv:1: no column 'material' in the header (columns: 'Material', 'quantity')");
}

TEST(stock_csv_parser, missing_required_column_fails_the_whole_file) {
  const auto result = parse("material, qty\nbolt,5\n");
  ASSERT_TRUE(result.error);
  EXPECT_EQ(*result.error, "stock.csv:1: no column 'quantity' in the header (columns: 'material', 'qty')");
  EXPECT_TRUE(result.samples.empty());
}

TEST(stock_csv_parser, configured_optional_column_must_exist_too) {
  stock_csv_columns columns;
  columns.unit = "uom";
  const auto result = parse("material,quantity\nbolt,5\n", columns);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(*result.error, "stock.csv:1: no column 'uom' in the header (columns: 'material', 'quantity')");
}

TEST(stock_csv_parser, custom_column_names_appear_in_messages) {
  stock_csv_columns columns;
  columns.material = "Artikel";
  columns.quantity = "Menge";
  const auto result = parse("Artikel;Menge\nA1;1,5\nA2;2\n", columns, ';');
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.samples[0].name, "A2");
  ASSERT_EQ(result.rejects.size(), 1u);
  EXPECT_EQ(result.rejects[0], "stock.csv:2: Menge: '1,5' is not a number");
}

TEST(stock_csv_parser, bad_rows_are_skipped_with_their_location_and_good_rows_kept) {
  const std::string text =
      "material,quantity,location,timestamp\n"     // 1
      "M1,1,A,2026-11-22T07:30:00Z\n"             // 2
      "\n"                                        // 3 blank: silent
      "M2,2,A,1795332600\n"                       // 4
      "   \n"                                     // 5 blank: silent
      "M3,3,A,1795332600.25\n"                    // 6
      "M4,abc,A,1795332600\n"                     // 7
      "M5,5,A,1795332600\n"                       // 8
      "M6,6,A\n"                                  // 9
      "\"M7\n"                                    // 10 a quoted material spanning lines (a newline in a name: refused)
      "cont\",7,A,1795332600\n"                   // 11
      " ,12,A,1795332600\n"                       // 12
      "M13,13,A,1795332600\n"                     // 13
      "M14,14,A,2026-13-01\n"                     // 14
      "M15,15,A,1795332600";                      // 15, no final newline
  const auto result = parse(text, [] {
    stock_csv_columns columns;
    columns.location = "location";
    columns.timestamp = "timestamp";
    return columns;
  }());
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.rejects, (std::vector<std::string>{
                                "stock.csv:7: quantity: 'abc' is not a number",
                                "stock.csv:9: expected 4 fields, got 3",
                                "stock.csv:10: material: control character U+000A",
                                "stock.csv:12: material: empty",
                                "stock.csv:14: timestamp: '2026-13-01' is not RFC 3339 or epoch seconds",
                            }));
  EXPECT_EQ(result.rejected_rows, 5u);
  std::vector<std::string> names;
  for (const auto& s : result.samples) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"M1", "M2", "M3", "M5", "M13", "M15"}));
  EXPECT_EQ(result.samples[2].source_time, 1795332600250);
}

TEST(stock_csv_parser, syntax_errors_are_rejects_with_line_and_column) {
  const auto result = parse("material,quantity\nbo\"lt,1\nnut,2\nwasher,\"3\n");
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.samples[0].name, "nut");
  EXPECT_EQ(result.rejects, (std::vector<std::string>{
                                "stock.csv:2:3: quote inside an unquoted field",
                                "stock.csv:4:8: unterminated quoted field",
                            }));
}

TEST(stock_csv_parser, empty_cells_are_named) {
  stock_csv_columns columns;
  columns.timestamp = "t";
  const auto result = parse("material,quantity,t\nbolt, ,1\nnut,1,\n", columns);
  EXPECT_TRUE(result.samples.empty());
  EXPECT_EQ(result.rejects, (std::vector<std::string>{
                                "stock.csv:2: quantity: empty",
                                "stock.csv:3: t: empty",
                            }));
}

TEST(stock_csv_parser, bom_crlf_and_leading_blank_lines) {
  const auto result = parse("\xEF\xBB\xBF\r\nmaterial,quantity\r\nbolt,5\r\n\r\nnut,x\r\n");
  ASSERT_FALSE(result.error);
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.samples[0].name, "bolt");
  EXPECT_EQ(result.rejects, (std::vector<std::string>{"stock.csv:5: quantity: 'x' is not a number"}));
}

TEST(stock_csv_parser, empty_file_or_bad_header_fails_the_file) {
  const auto empty = parse("");
  ASSERT_TRUE(empty.error);
  EXPECT_EQ(*empty.error, "stock.csv:1: no header (the file is empty)");
  const auto blank = parse("\n\n");
  ASSERT_TRUE(blank.error);
  EXPECT_EQ(*blank.error, "stock.csv:1: no header (the file is empty)");
  const auto bad = parse("mate\"rial,quantity\n");
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(*bad.error, "stock.csv:1:5: header: quote inside an unquoted field");
}

TEST(stock_csv_parser, header_only_is_not_an_error) {
  const auto result = parse("material,quantity\n");
  EXPECT_FALSE(result.error);
  EXPECT_TRUE(result.samples.empty());
  EXPECT_TRUE(result.rejects.empty());
}

TEST(stock_csv_parser, rejects_are_listed_up_to_a_bound_and_counted) {
  std::string text = "material,quantity\n";
  for (int i = 0; i < 150; ++i) text += "m,bad\n";
  text += "ok,1\n";
  const auto result = parse(text);
  EXPECT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.rejected_rows, 150u);
  ASSERT_EQ(result.rejects.size(), max_listed_rejects + 1);
  EXPECT_EQ(result.rejects.front(), "stock.csv:2: quantity: 'bad' is not a number");
  EXPECT_EQ(result.rejects.back(), "stock.csv: 50 more rejected rows not listed");
}

TEST(stock_csv_parser, long_values_are_shortened_in_messages) {
  const auto result = parse("material,quantity\nm," + std::string(100, 'x') + "\n");
  ASSERT_EQ(result.rejects.size(), 1u);
  EXPECT_EQ(result.rejects[0], "stock.csv:2: quantity: '" + std::string(40, 'x') + "...' is not a number");
}

TEST(csv_number, accepts_plain_decimals) {
  const std::pair<const char*, double> cases[] = {
      {"0", 0.0},       {"42", 42.0},     {"-1.5", -1.5},   {"+2.25", 2.25}, {"  7  ", 7.0},
      {".5", 0.5},      {"5.", 5.0},      {"1e3", 1000.0},  {"1.5E-2", 0.015}, {"-2e+2", -200.0},
      {"\t3\t", 3.0},   {"007", 7.0},
  };
  for (const auto& [text, expected] : cases) {
    double value = -999;
    EXPECT_TRUE(parse_csv_number(text, value)) << text;
    EXPECT_DOUBLE_EQ(value, expected) << text;
  }
}

TEST(csv_number, refuses_everything_else) {
  for (const char* text : {"", " ", "abc", "nan", "NaN", "inf", "-inf", "infinity", "1,5", "0x10", "1e", "e5", ".",
                           "-", "+", "1.2.3", "1 2", "--1", "1e400", "12kg"}) {
    double value = -999;
    EXPECT_FALSE(parse_csv_number(text, value)) << text;
    EXPECT_EQ(value, -999) << text;
  }
}

TEST(csv_timestamp, rfc3339_forms) {
  const std::pair<const char*, epoch_ms> cases[] = {
      {"2026-11-22T07:30:00Z", 1795332600000},
      {"2026-11-22t07:30:00z", 1795332600000},
      {"2026-11-22 07:30:00Z", 1795332600000},
      {"2026-11-22T07:30:00.250+01:00", 1795329000250},
      {"2026-11-22T07:30:00.5-00:30", 1795334400500},
      {"2026-11-22T07:30:00.123456789Z", 1795332600123},
      {" 2026-11-22T07:30:00Z ", 1795332600000},
      {"2024-02-29T00:00:00Z", 1709164800000},
      {"2000-03-01T00:00:00Z", 951868800000},
      {"1969-12-31T23:59:59Z", -1000},
      {"9999-12-31T23:59:59Z", 253402300799000},
      {"2016-12-31T23:59:60Z", 1483228800000},
  };
  for (const auto& [text, expected] : cases) {
    epoch_ms value = 0;
    EXPECT_TRUE(parse_timestamp(text, value)) << text;
    EXPECT_EQ(value, expected) << text;
  }
}

TEST(csv_timestamp, epoch_seconds_forms) {
  const std::pair<const char*, epoch_ms> cases[] = {
      {"1795332600", 1795332600000}, {"1795332600.25", 1795332600250}, {"0", 0},
      {"1795332600.0009", 1795332600000}, {"253402300799", 253402300799000},
  };
  for (const auto& [text, expected] : cases) {
    epoch_ms value = -1;
    EXPECT_TRUE(parse_timestamp(text, value)) << text;
    EXPECT_EQ(value, expected) << text;
  }
}

TEST(csv_timestamp, refuses_malformed_and_impossible_times) {
  for (const char* text :
       {"", "2026-13-01", "2026-11-22", "2026-11-22T07:30:00", "2026-11-22T07:30Z", "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T07:60:00Z", "2026-11-22T07:30:61Z",
        "2026-11-22T07:30:00+0100", "2026-11-22T07:30:00+24:00", "2026-11-22T07:30:00.Z", "2026-11-22X07:30:00Z",
        "2026-11-22T07:30:00Zjunk", "26-11-22T07:30:00Z", "-1795332600", "1795332600.", "1795332600000",
        "1.7e9", "abc", "1795332600 s"}) {
    epoch_ms value = 42;
    EXPECT_FALSE(parse_timestamp(text, value)) << text;
    EXPECT_EQ(value, 42) << text;
  }
}

TEST(csv_timestamp, days_from_civil_matches_known_dates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1970, 1, 2), 1);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 2, 29), 11016);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1, 1, 1), -719162);
  EXPECT_EQ(days_from_civil(1600, 1, 1) * 86400, -11676096000);
}

}  // namespace
}  // namespace plant::sources
