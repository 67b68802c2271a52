#include "tests/support/json_text.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace plant::test {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::size_t skip_blanks(const std::string& text, std::size_t pos) {
  while (pos < text.size() && is_blank(text[pos])) ++pos;
  return pos;
}

// `pos` is on an opening quote; returns the position just past the closing one
// (or text.size() for an unterminated string).
std::size_t string_end(const std::string& text, std::size_t pos) {
  for (++pos; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;
    } else if (text[pos] == '"') {
      return pos + 1;
    }
  }
  return text.size();
}

// Walking string tokens (instead of searching for "\"key\"") keeps a value that
// happens to contain the key's text from being taken for the key.
std::optional<std::size_t> value_position(const std::string& line, const std::string& key) {
  std::size_t pos = 0;
  while (pos < line.size()) {
    if (line[pos] != '"') {
      ++pos;
      continue;
    }
    const std::size_t end = string_end(line, pos);
    const std::size_t after = skip_blanks(line, end);
    if (after < line.size() && line[after] == ':') {
      if (end - pos == key.size() + 2 && line.compare(pos + 1, key.size(), key) == 0) {
        return skip_blanks(line, after + 1);
      }
    }
    pos = end;
  }
  return std::nullopt;
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

std::optional<std::uint32_t> hex4(const std::string& text, std::size_t pos) {
  if (pos + 4 > text.size()) return std::nullopt;
  std::uint32_t value = 0;
  for (std::size_t i = pos; i < pos + 4; ++i) {
    const char c = text[i];
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      value |= static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      value |= static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return value;
}

// The number token at `pos`, or empty when the value is not a number.
std::string number_token(const std::string& line, std::size_t pos) {
  std::size_t end = pos;
  while (end < line.size() && (std::isdigit(static_cast<unsigned char>(line[end])) || line[end] == '-' ||
                               line[end] == '+' || line[end] == '.' || line[end] == 'e' || line[end] == 'E')) {
    ++end;
  }
  return line.substr(pos, end - pos);
}

}  // namespace

std::vector<std::string> json_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t first = skip_blanks(line, 0);
    if (first < line.size() && line[first] == '{') lines.push_back(std::move(line));
    begin = end + 1;
  }
  return lines;
}

std::optional<std::string> json_string(const std::string& line, const std::string& key) {
  const auto pos = value_position(line, key);
  if (!pos || *pos >= line.size() || line[*pos] != '"') return std::nullopt;
  std::string value;
  for (std::size_t i = *pos + 1; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') return value;
    if (c != '\\') {
      value += c;
      continue;
    }
    if (++i >= line.size()) return std::nullopt;
    switch (line[i]) {
      case 'b': value += '\b'; break;
      case 'f': value += '\f'; break;
      case 'n': value += '\n'; break;
      case 'r': value += '\r'; break;
      case 't': value += '\t'; break;
      case 'u': {
        auto code = hex4(line, i + 1);
        if (!code) return std::nullopt;
        i += 4;
        if (*code >= 0xD800 && *code < 0xDC00 && i + 6 < line.size() && line[i + 1] == '\\' && line[i + 2] == 'u') {
          if (auto low = hex4(line, i + 3); low && *low >= 0xDC00 && *low < 0xE000) {
            code = 0x10000 + ((*code - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          }
        }
        append_utf8(value, *code);
        break;
      }
      default: value += line[i]; break;
    }
  }
  return std::nullopt;
}

std::optional<double> json_number(const std::string& line, const std::string& key) {
  const auto pos = value_position(line, key);
  if (!pos) return std::nullopt;
  const std::string token = number_token(line, *pos);
  if (token.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(token.c_str(), &end);
  if (end != token.c_str() + token.size() || errno == ERANGE) return std::nullopt;
  return value;
}

std::optional<std::int64_t> json_integer(const std::string& line, const std::string& key) {
  const auto pos = value_position(line, key);
  if (!pos) return std::nullopt;
  const std::string token = number_token(line, *pos);
  if (token.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(token.c_str(), &end, 10);
  if (end != token.c_str() + token.size() || errno == ERANGE) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::optional<bool> json_bool(const std::string& line, const std::string& key) {
  const auto pos = value_position(line, key);
  if (!pos) return std::nullopt;
  if (line.compare(*pos, 4, "true") == 0) return true;
  if (line.compare(*pos, 5, "false") == 0) return false;
  return std::nullopt;
}

}  // namespace plant::test
