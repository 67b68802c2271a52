#include "common/wire/time_format.hpp"

#include <cinttypes>
#include <cstdio>

namespace plant::wire {

namespace {

// Floor division: C++ '/' truncates toward zero, which would put a negative
// millisecond count into the wrong day and second.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 to a proleptic Gregorian date, via 400-year eras so the
// result needs no time zone database and no gmtime_r (which depends on time_t's range).
void civil_from_days(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;  // shift the epoch to 0000-03-01 so leap days fall at the end of a year
  const std::int64_t era = floor_div(days, 146097);
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_index = (5 * day_of_year + 2) / 153;  // 0 = March
  day = day_of_year - (153 * month_index + 2) / 5 + 1;
  month = month_index < 10 ? month_index + 3 : month_index - 9;
  year = static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
}

// The inverse of civil_from_days (same era arithmetic).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = floor_div(year, 400);
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

bool read_digits(std::string_view text, std::size_t& at, std::size_t count, unsigned& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  at += count;
  return true;
}

bool expect(std::string_view text, std::size_t& at, std::string_view any_of) {
  if (at >= text.size() || any_of.find(text[at]) == std::string_view::npos) return false;
  ++at;
  return true;
}

}  // namespace

std::string parse_rfc3339(std::string_view text, epoch_ms& out) {
  const std::string want = "not an RFC 3339 time (e.g. \"2024-05-01T12:00:00Z\" or \"2024-05-01T14:00:00+02:00\")";
  std::size_t at = 0;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, at, 4, year) || !expect(text, at, "-") || !read_digits(text, at, 2, month) ||
      !expect(text, at, "-") || !read_digits(text, at, 2, day) || !expect(text, at, "Tt ") ||
      !read_digits(text, at, 2, hour) || !expect(text, at, ":") || !read_digits(text, at, 2, minute) ||
      !expect(text, at, ":") || !read_digits(text, at, 2, second))
    return want;
  static const unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || (month == 2 && day == 29 && !leap))
    return "no such date";
  if (hour > 23 || minute > 59 || second > 60) return "no such time of day";
  std::int64_t millis = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::size_t digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[at] - '0');
      ++digits;
      ++at;
    }
    if (digits == 0) return want;
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const bool minus = text[at] == '-';
    ++at;
    unsigned oh = 0, om = 0;
    if (!read_digits(text, at, 2, oh) || !expect(text, at, ":") || !read_digits(text, at, 2, om) || oh > 23 || om > 59)
      return want;
    offset_minutes = (minus ? -1 : 1) * static_cast<std::int64_t>(oh * 60 + om);
  } else {
    return want + ": the zone (Z or +hh:mm) is missing";
  }
  if (at != text.size()) return want;
  const std::int64_t days = days_from_civil(year, month, day);
  // A leap second (:60) is read as the next second's start, as most systems do.
  out = ((days * 24 + hour) * 60 + minute) * 60000 + static_cast<std::int64_t>(second) * 1000 + millis -
        offset_minutes * 60000;
  return "";
}

std::size_t format_rfc3339_ms(epoch_ms t, char* buffer) {
  const std::int64_t days = floor_div(t, 86400000);
  const std::int64_t ms_of_day = t - days * 86400000;
  // Stamps in a batch nearly always share a day; the calendar arithmetic is
  // the costly part, so the last day's date is remembered per thread.
  thread_local std::int64_t cached_days = 0;
  thread_local std::int64_t year = 1970;
  thread_local unsigned month = 1;
  thread_local unsigned day = 1;
  if (days != cached_days) {
    civil_from_days(days, year, month, day);
    cached_days = days;
  }
  const auto hour = static_cast<unsigned>(ms_of_day / 3600000);
  const auto minute = static_cast<unsigned>(ms_of_day / 60000 % 60);
  const auto second = static_cast<unsigned>(ms_of_day / 1000 % 60);
  const auto milli = static_cast<unsigned>(ms_of_day % 1000);
  if (year < 0 || year > 9999) {
    // Outside RFC 3339's four-digit years; only garbage stamps get here.
    return static_cast<std::size_t>(std::snprintf(buffer, 40, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", year,
                                                  month, day, hour, minute, second, milli));
  }
  // Hand-placed digits: this runs twice per sample in --json mode, where
  // snprintf alone cost more than decoding the message.
  auto put = [&](std::size_t at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buffer[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, static_cast<unsigned>(year), 4);
  buffer[4] = '-';
  put(5, month, 2);
  buffer[7] = '-';
  put(8, day, 2);
  buffer[10] = 'T';
  put(11, hour, 2);
  buffer[13] = ':';
  put(14, minute, 2);
  buffer[16] = ':';
  put(17, second, 2);
  buffer[19] = '.';
  put(20, milli, 3);
  buffer[23] = 'Z';
  return 24;
}

std::string format_rfc3339_ms(epoch_ms t) {
  char buffer[40];
  return std::string(buffer, format_rfc3339_ms(t, buffer));
}

std::string format_span(std::int64_t ms) {
  if (ms < 0) {
    // -INT64_MIN overflows; such a span is meaningless anyway.
    return "-" + format_span(ms == INT64_MIN ? INT64_MAX : -ms);
  }
  char buffer[48];
  if (ms < 1000) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "ms", ms);
  } else if (ms < 60000) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "s", ms / 1000);
  } else if (ms < 3600000) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "m%02" PRId64 "s", ms / 60000, ms / 1000 % 60);
  } else if (ms < 86400000) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "h%02" PRId64 "m", ms / 3600000, ms / 60000 % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "d%02" PRId64 "h", ms / 86400000, ms / 3600000 % 24);
  }
  return buffer;
}

}  // namespace plant::wire
