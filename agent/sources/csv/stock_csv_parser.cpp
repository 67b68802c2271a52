#include "agent/sources/csv/stock_csv_parser.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <tuple>

#include "agent/sources/csv/csv_reader.hpp"
#include "agent/sources/csv/csv_row_checks.hpp"
#include "common/core/text.hpp"

namespace plant::sources {

namespace {

constexpr std::size_t max_quoted_value = 40;
/// 10000-01-01T00:00:00Z: RFC 3339 has four-digit years, so epoch seconds stop there
/// too. This also turns epoch *milliseconds* (13 digits) into a clear reject.
constexpr std::int64_t epoch_seconds_limit = 253402300800;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Quotes a cell for a message: escaped and shortened, so one hostile or absurd
/// cell cannot make an absurd log line or reach a terminal raw.
std::string quoted(std::string_view value) { return quoted_excerpt(value, max_quoted_value); }

bool read_fixed(std::string_view text, std::size_t& pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return false;
    value = value * 10 + (c - '0');
  }
  pos += width;
  out = value;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

bool is_leap(std::int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/// Milliseconds from a run of fraction digits: the first three count, the rest are truncated.
int fraction_ms(std::string_view digits) {
  int ms = 0;
  for (std::size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < digits.size() ? digits[i] - '0' : 0);
  return ms;
}

bool parse_rfc3339(std::string_view text, epoch_ms& out) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_fixed(text, pos, 4, year) || !expect(text, pos, '-') || !read_fixed(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_fixed(text, pos, 2, day)) {
    return false;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) return false;
  ++pos;
  if (!read_fixed(text, pos, 2, hour) || !expect(text, pos, ':') || !read_fixed(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !read_fixed(text, pos, 2, second)) {
    return false;
  }
  int ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t begin = ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos == begin) return false;
    ms = fraction_ms(text.substr(begin, pos - begin));
  }
  // A time without an offset would mean "local time somewhere"; RFC 3339 requires
  // the offset, and so do we, so that no result depends on the gateway's time zone.
  if (pos >= text.size()) return false;
  int offset_minutes = 0;
  const char zone = text[pos++];
  if (zone == 'Z' || zone == 'z') {
    // UTC
  } else if (zone == '+' || zone == '-') {
    int offset_hour = 0, offset_minute = 0;
    if (!read_fixed(text, pos, 2, offset_hour) || !expect(text, pos, ':') || !read_fixed(text, pos, 2, offset_minute)) {
      return false;
    }
    if (offset_hour > 23 || offset_minute > 59) return false;
    offset_minutes = (offset_hour * 60 + offset_minute) * (zone == '-' ? -1 : 1);
  } else {
    return false;
  }
  if (pos != text.size()) return false;
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > days_in_month(year, month)) return false;
  // Second 60 is RFC 3339's leap second; it simply lands on the next minute's :00.
  if (hour > 23 || minute > 59 || second > 60) return false;

  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  out = seconds * 1000 + ms;
  return true;
}

bool parse_epoch_seconds(std::string_view text, epoch_ms& out) {
  std::size_t pos = 0;
  std::int64_t seconds = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (pos >= 12) return false;  // beyond epoch_seconds_limit anyway; keeps the arithmetic from overflowing
    seconds = seconds * 10 + (text[pos] - '0');
    ++pos;
  }
  if (pos == 0) return false;
  int ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t begin = ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos == begin) return false;
    ms = fraction_ms(text.substr(begin, pos - begin));
  }
  if (pos != text.size() || seconds >= epoch_seconds_limit) return false;
  out = seconds * 1000 + ms;
  return true;
}

}  // namespace

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  // Count from 0000-03-01 so that the leap day is the last day of a year; then every
  // 400-year era has the same 146097 days and the month lengths Mar..Feb follow the
  // 153-days-per-5-months pattern.
  const std::int64_t y = month <= 2 ? year - 1 : year;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t month_from_march = month > 2 ? month - 3 : month + 9;
  const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  // 719468 days from 0000-03-01 to 1970-01-01.
  return era * 146097 + day_of_era - 719468;
}

bool parse_csv_number(std::string_view text, double& out) {
  text = trim(text);
  // The grammar is checked by hand because strtod is locale-dependent and
  // from_chars would accept "nan", "inf" and hex floats.
  std::size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
  std::size_t mantissa_digits = 0;
  while (pos < text.size() && is_digit(text[pos])) ++pos, ++mantissa_digits;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return false;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
    const std::size_t exponent_begin = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos == exponent_begin) return false;
  }
  if (pos != text.size()) return false;

  std::string_view digits = text;
  if (digits.front() == '+') digits.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) return false;
  out = value;
  return true;
}

bool parse_timestamp(std::string_view text, epoch_ms& out) {
  text = trim(text);
  if (text.size() > 4 && text[4] == '-') return parse_rfc3339(text, out);
  return parse_epoch_seconds(text, out);
}

stock_row_parser::stock_row_parser(std::string display_name, stock_csv_columns columns, epoch_ms fallback_source_time,
                                   epoch_ms receive_time)
    : file_(std::move(display_name)),
      columns_(std::move(columns)),
      fallback_source_time_(fallback_source_time),
      receive_time_(receive_time) {}

bool stock_row_parser::take_header(const csv_record& record, std::string& error) {
  const bool ok = find_columns(record, file_,
                               {{&columns_.material, &material_, true},
                                {&columns_.quantity, &quantity_, true},
                                {&columns_.timestamp, &timestamp_, false},
                                {&columns_.location, &location_, false},
                                {&columns_.unit, &unit_, false}},
                               header_, error);
  has_header_ = ok;
  return ok;
}

std::string stock_row_parser::text_cell(const csv_record& record, std::size_t index, const std::string& column,
                                        std::string& out) const {
  return sources::text_cell(record.fields[index], column, out);
}

std::optional<sample> stock_row_parser::take_row(const csv_record& record, std::string& reject) {
  reject.clear();
  if (record.blank) return std::nullopt;
  const std::string where = file_ + ":" + std::to_string(record.line) + ": ";
  if (unusable_record(record, header_.size(), file_, reject)) return std::nullopt;
  sample s;
  s.kind = sample::kind_t::stock;
  s.q = quality::good;
  s.receive_time = receive_time_;
  s.source_time = fallback_source_time_;
  std::string problem = text_cell(record, *material_, columns_.material, s.name);
  if (problem.empty() && s.name.empty()) problem = columns_.material + ": empty";
  if (!problem.empty()) {
    reject = where + problem;
    return std::nullopt;
  }
  const std::string_view quantity = trim(record.fields[*quantity_]);
  if (quantity.empty()) {
    reject = where + columns_.quantity + ": empty";
    return std::nullopt;
  }
  if (!parse_csv_number(quantity, s.quantity)) {
    reject = where + columns_.quantity + ": " + quoted(quantity) + " is not a number";
    return std::nullopt;
  }
  if (timestamp_) {
    const std::string_view stamp = trim(record.fields[*timestamp_]);
    if (stamp.empty()) {
      reject = where + columns_.timestamp + ": empty";
      return std::nullopt;
    }
    if (!parse_timestamp(stamp, s.source_time)) {
      reject = where + columns_.timestamp + ": " + quoted(stamp) + " is not RFC 3339 or epoch seconds";
      return std::nullopt;
    }
  }
  for (const auto& [index, column, target] :
       {std::tuple{location_, &columns_.location, &s.location}, std::tuple{unit_, &columns_.unit, &s.unit}}) {
    if (!index) continue;
    problem = text_cell(record, *index, *column, *target);
    if (!problem.empty()) {
      reject = where + problem;
      return std::nullopt;
    }
  }
  return s;
}

stock_csv_result parse_stock_csv(std::string_view text, std::string_view display_name, const stock_csv_columns& columns,
                                 char delimiter, epoch_ms fallback_source_time, epoch_ms receive_time) {
  stock_csv_result result;
  stock_row_parser parser(std::string(display_name), columns, fallback_source_time, receive_time);
  csv_reader reader(text, delimiter);
  csv_record record;
  // The header is the first record that is not blank.
  while (!parser.has_header() && reader.next(record)) {
    if (record.blank) continue;
    std::string error;
    if (!parser.take_header(record, error)) {
      result.error = std::move(error);
      return result;
    }
  }
  if (!parser.has_header()) {
    result.error = std::string(display_name) + ":1: no header (the file is empty)";
    return result;
  }
  std::string reject;
  while (reader.next(record)) {
    if (auto s = parser.take_row(record, reject)) {
      result.samples.push_back(std::move(*s));
    } else if (!reject.empty()) {
      ++result.rejected_rows;
      if (result.rejects.size() < max_listed_rejects) result.rejects.push_back(std::move(reject));
    }
  }
  if (result.rejected_rows > result.rejects.size()) {
    result.rejects.push_back(std::string(display_name) + ": " +
                             std::to_string(result.rejected_rows - result.rejects.size()) + " more rejected rows not listed");
  }
  return result;
}

}  // namespace plant::sources
