#include "common/core/text.hpp"

#include <cstdint>
#include <cstdio>

namespace plant {

namespace {

// The length of the UTF-8 sequence starting at text[i] and its code point, or 0 when malformed.
std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t length = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

bool is_control(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

}  // namespace

std::size_t first_invalid_utf8(std::string_view text) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = decode_utf8(text, i, cp);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

bool valid_utf8(std::string_view text) { return first_invalid_utf8(text) == std::string_view::npos; }

bool has_control_characters(std::string_view text) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = decode_utf8(text, i, cp);
    if (n == 0) {
      ++i;
      continue;
    }
    if (is_control(cp)) return true;
    i += n;
  }
  return false;
}

std::string text_problem(std::string_view text) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = decode_utf8(text, i, cp);
    if (n == 0) return "invalid UTF-8 at byte " + std::to_string(i + 1);
    if (is_control(cp)) {
      char buffer[40];
      std::snprintf(buffer, sizeof buffer, "control character U+%04X", static_cast<unsigned>(cp));
      return buffer;
    }
    i += n;
  }
  return {};
}

std::string escape_for_display(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes);
  char32_t cp = 0;
  char buffer[24];
  for (std::size_t i = 0; i < text.size();) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const std::size_t n = decode_utf8(text, i, cp);
    if (n == 0) {
      std::snprintf(buffer, sizeof buffer, "\\x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      out += buffer;
      ++i;
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (is_control(cp)) {
      std::snprintf(buffer, sizeof buffer, cp < 0x80 ? "\\x%02X" : "\\u{%04X}", static_cast<unsigned>(cp));
      out += buffer;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string quoted_excerpt(std::string_view text, std::size_t max_chars) {
  // Cut by characters, not bytes, so a multi-byte character is never split.
  std::size_t end = 0;
  std::size_t chars = 0;
  char32_t cp = 0;
  while (end < text.size() && chars < max_chars) {
    const std::size_t n = decode_utf8(text, end, cp);
    end += n == 0 ? 1 : n;
    ++chars;
  }
  std::string out = "'" + escape_for_display(text.substr(0, end), max_chars * 6);
  if (end < text.size()) out += "...";
  return out + "'";
}

}  // namespace plant
