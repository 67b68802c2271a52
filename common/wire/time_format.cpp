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

}  // namespace

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
