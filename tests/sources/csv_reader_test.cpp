#include "agent/sources/csv/csv_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plant::sources {
namespace {

using fields = std::vector<std::string>;

std::vector<csv_record> read_all(std::string_view text, char delimiter = ',') {
  csv_reader reader(text, delimiter);
  std::vector<csv_record> out;
  csv_record record;
  while (reader.next(record)) out.push_back(record);
  return out;
}

TEST(csv_reader, plain_records_with_physical_line_numbers) {
  const auto records = read_all("a,b,c\n1,2,3\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (fields{"a", "b", "c"}));
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[1].fields, (fields{"1", "2", "3"}));
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_FALSE(records[1].error);
}

TEST(csv_reader, empty_input_has_no_records) {
  EXPECT_TRUE(read_all("").empty());
  EXPECT_TRUE(read_all("\xEF\xBB\xBF").empty());
}

TEST(csv_reader, missing_final_newline_still_yields_the_last_record) {
  const auto records = read_all("a,b\n1,2");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (fields{"1", "2"}));
}

TEST(csv_reader, trailing_delimiter_is_an_empty_last_field) {
  const auto records = read_all("a,b,\nx,,\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (fields{"a", "b", ""}));
  EXPECT_EQ(records[1].fields, (fields{"x", "", ""}));
}

TEST(csv_reader, quoted_fields_hold_delimiters_and_escaped_quotes) {
  const auto records = read_all("\"a,b\",\"say \"\"hi\"\"\",\"\",plain\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (fields{"a,b", "say \"hi\"", "", "plain"}));
  EXPECT_FALSE(records[0].blank);
}

TEST(csv_reader, line_breaks_inside_quotes_are_kept_and_counted) {
  const auto records = read_all("h1,h2\n\"two\nlines\",1\r\n\"crlf\r\ninside\",2\nlast,3\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].fields, (fields{"two\nlines", "1"}));
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].fields, (fields{"crlf\r\ninside", "2"}));
  EXPECT_EQ(records[2].line, 4u);
  EXPECT_EQ(records[3].fields, (fields{"last", "3"}));
  EXPECT_EQ(records[3].line, 6u);
}

TEST(csv_reader, crlf_line_ends) {
  const auto records = read_all("a,b\r\n1,2\r\n3,4");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].fields, (fields{"1", "2"}));
  EXPECT_EQ(records[2].fields, (fields{"3", "4"}));
  EXPECT_EQ(records[2].line, 3u);
}

TEST(csv_reader, lone_cr_ends_a_line_too) {
  const auto records = read_all("a,b\r1,2\r");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (fields{"1", "2"}));
  EXPECT_EQ(records[1].line, 2u);
}

TEST(csv_reader, utf8_bom_is_skipped) {
  const auto records = read_all("\xEF\xBB\xBFmaterial,quantity\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (fields{"material", "quantity"}));
}

TEST(csv_reader, other_delimiters) {
  const auto semicolon = read_all("a;\"b;c\";d\n", ';');
  ASSERT_EQ(semicolon.size(), 1u);
  EXPECT_EQ(semicolon[0].fields, (fields{"a", "b;c", "d"}));
  const auto tab = read_all("a\tb,c\n", '\t');
  ASSERT_EQ(tab.size(), 1u);
  EXPECT_EQ(tab[0].fields, (fields{"a", "b,c"}));
}

TEST(csv_reader, blank_lines_are_flagged) {
  const auto records = read_all("a,b\n\n  \t\n\"\"\n1,2\n");
  ASSERT_EQ(records.size(), 5u);
  EXPECT_TRUE(records[1].blank);
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_TRUE(records[2].blank);
  EXPECT_FALSE(records[3].blank);  // a quoted empty field is a value, not a blank line
  EXPECT_FALSE(records[4].blank);
  EXPECT_EQ(records[4].line, 5u);
}

TEST(csv_reader, stray_quote_in_unquoted_field_fails_that_record_only) {
  const auto records = read_all("a,b\nbo\"lt,5\nnut,3\n");
  ASSERT_EQ(records.size(), 3u);
  ASSERT_TRUE(records[1].error);
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_TRUE(records[1].fields.empty());
  EXPECT_EQ(to_string(*records[1].error), "line 2, column 3: quote inside an unquoted field");
  EXPECT_FALSE(records[2].error);
  EXPECT_EQ(records[2].fields, (fields{"nut", "3"}));
  EXPECT_EQ(records[2].line, 3u);
}

TEST(csv_reader, unterminated_quote_resynchronises_at_the_next_line) {
  const auto records = read_all("a,b\nbolt,\"5\nnut,3\nwasher,4");
  ASSERT_EQ(records.size(), 4u);
  ASSERT_TRUE(records[1].error);
  EXPECT_EQ(to_string(*records[1].error), "line 2, column 6: unterminated quoted field");
  EXPECT_EQ(records[2].fields, (fields{"nut", "3"}));
  EXPECT_EQ(records[2].line, 3u);
  EXPECT_EQ(records[3].fields, (fields{"washer", "4"}));
  EXPECT_EQ(records[3].line, 4u);
}

TEST(csv_reader, text_after_closing_quote_is_an_error_where_it_occurs) {
  // The quote opened on line 2 closes on line 4; the 'x' after it is the error,
  // and the reader still resumes right after line 2.
  const auto records = read_all("a,b\n\"bolt,5\nnut,3\n\"x,4\n");
  ASSERT_EQ(records.size(), 4u);
  ASSERT_TRUE(records[1].error);
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(to_string(*records[1].error), "line 4, column 2: unexpected 'x' after a closing quote");
  EXPECT_EQ(records[2].fields, (fields{"nut", "3"}));
  EXPECT_TRUE(records[3].error);
  EXPECT_EQ(records[3].line, 4u);
}

TEST(csv_reader, columns_count_characters_not_bytes) {
  const auto records = read_all("\xEF\xBB\xBF\xC3\xA9t\xC3\xA9,\"x\"y\n");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].error);
  EXPECT_EQ(to_string(*records[0].error), "line 1, column 8: unexpected 'y' after a closing quote");
}

TEST(csv_reader, error_on_the_last_line_without_newline_ends_cleanly) {
  const auto records = read_all("a,b\n\"open");
  ASSERT_EQ(records.size(), 2u);
  ASSERT_TRUE(records[1].error);
  EXPECT_EQ(to_string(*records[1].error), "line 2, column 1: unterminated quoted field");
}

}  // namespace
}  // namespace plant::sources
