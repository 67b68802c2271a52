#include "common/core/units.hpp"

#include <array>
#include <cctype>
#include <limits>

namespace plant {
namespace {

struct unit {
  std::string_view name;
  std::uint64_t factor;
};

// Largest first: format_duration walks them in this order, parse_duration checks the order.
constexpr std::array<unit, 5> duration_units{{
    {"d", 86400000ull}, {"h", 3600000ull}, {"m", 60000ull}, {"s", 1000ull}, {"ms", 1ull}}};

constexpr std::array<unit, 9> size_units{{{"B", 1ull},
                                          {"KiB", 1ull << 10},
                                          {"MiB", 1ull << 20},
                                          {"GiB", 1ull << 30},
                                          {"TiB", 1ull << 40},
                                          {"KB", 1000ull},
                                          {"MB", 1000000ull},
                                          {"GB", 1000000000ull},
                                          {"TB", 1000000000000ull}}};

bool has_space(std::string_view text) {
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c))) return true;
  return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Reads the digits at `pos`; false on overflow of 64 bits.
bool read_number(std::string_view text, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    const std::uint64_t digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (out > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    out = out * 10 + digit;
    ++pos;
  }
  return true;
}

bool multiply_add(std::uint64_t& total, std::uint64_t n, std::uint64_t factor, std::uint64_t limit) {
  if (factor != 0 && n > limit / factor) return false;
  if (total > limit - n * factor) return false;
  total += n * factor;
  return true;
}

}  // namespace

std::optional<millis> parse_duration(std::string_view text, std::string& error) {
  static constexpr const char* unit_list = "use ms, s, m, h or d";
  if (text.empty()) {
    error = "it is empty; write e.g. \"5s\" or \"1h30m\"";
    return std::nullopt;
  }
  if (text.front() == '-') {
    error = "negative durations are not allowed";
    return std::nullopt;
  }
  if (has_space(text)) {
    error = "spaces are not allowed; write e.g. \"5s\" or \"1h30m\"";
    return std::nullopt;
  }
  // The limit keeps every duration representable as signed milliseconds with room to add to a clock.
  constexpr std::uint64_t limit = std::numeric_limits<std::int64_t>::max() / 4;
  std::uint64_t total = 0;
  std::uint64_t previous_factor = std::numeric_limits<std::uint64_t>::max();
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!is_digit(text[pos])) {
      error = "expected a number at '" + std::string(text.substr(pos)) + "'";
      return std::nullopt;
    }
    std::uint64_t n = 0;
    const std::size_t number_start = pos;
    if (!read_number(text, pos, n)) {
      error = "the number is too large";
      return std::nullopt;
    }
    const std::string number(text.substr(number_start, pos - number_start));
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      error = "fractions are not allowed; write e.g. \"1m30s\" instead of \"1.5m\"";
      return std::nullopt;
    }
    const std::size_t unit_start = pos;
    while (pos < text.size() && is_letter(text[pos])) ++pos;
    const std::string_view name = text.substr(unit_start, pos - unit_start);
    if (name.empty()) {
      error = "missing unit after " + number + "; " + unit_list;
      return std::nullopt;
    }
    const unit* found = nullptr;
    for (const unit& u : duration_units)
      if (u.name == name) found = &u;
    if (found == nullptr) {
      error = "unknown unit '" + std::string(name) + "'; " + unit_list;
      return std::nullopt;
    }
    if (found->factor >= previous_factor) {
      error = "units must go from largest to smallest, each once, e.g. \"1h30m\"";
      return std::nullopt;
    }
    previous_factor = found->factor;
    if (!multiply_add(total, n, found->factor, limit)) {
      error = "the duration is too large";
      return std::nullopt;
    }
  }
  return millis{static_cast<millis::rep>(total)};
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error) {
  static constexpr const char* unit_list = "use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB";
  if (text.empty()) {
    error = "it is empty; write e.g. \"64MiB\"";
    return std::nullopt;
  }
  if (text.front() == '-') {
    error = "negative sizes are not allowed";
    return std::nullopt;
  }
  if (has_space(text)) {
    error = "spaces are not allowed; write e.g. \"64MiB\"";
    return std::nullopt;
  }
  std::size_t pos = 0;
  if (!is_digit(text[pos])) {
    error = "expected a number at '" + std::string(text) + "'";
    return std::nullopt;
  }
  std::uint64_t n = 0;
  if (!read_number(text, pos, n)) {
    error = "the number is too large";
    return std::nullopt;
  }
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    error = "fractions are not allowed; write e.g. \"1536KiB\" instead of \"1.5MiB\"";
    return std::nullopt;
  }
  const std::string_view name = text.substr(pos);
  std::uint64_t factor = 1;
  if (!name.empty()) {
    const unit* found = nullptr;
    for (const unit& u : size_units)
      if (u.name == name) found = &u;
    if (found == nullptr) {
      error = "unknown unit '" + std::string(name) + "'; " + unit_list;
      return std::nullopt;
    }
    factor = found->factor;
  }
  std::uint64_t total = 0;
  if (!multiply_add(total, n, factor, std::numeric_limits<std::uint64_t>::max())) {
    error = "the size is too large";
    return std::nullopt;
  }
  return total;
}

std::string format_duration(millis d) {
  if (d.count() == 0) return "0s";
  std::string out;
  std::uint64_t rest = 0;
  if (d.count() < 0) {
    out = "-";
    rest = static_cast<std::uint64_t>(-(d.count() + 1)) + 1;
  } else {
    rest = static_cast<std::uint64_t>(d.count());
  }
  for (const unit& u : duration_units) {
    if (rest >= u.factor) {
      out += std::to_string(rest / u.factor);
      out += u.name;
      rest %= u.factor;
    }
  }
  return out;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<unit, 4> binary{{{"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}}};
  if (bytes != 0) {
    for (const unit& u : binary)
      if (bytes % u.factor == 0) return std::to_string(bytes / u.factor) + std::string(u.name);
  }
  return std::to_string(bytes) + "B";
}

}  // namespace plant
