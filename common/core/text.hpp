#pragma once
/// Text from outside (CSV cells, device strings, MQTT payloads, config values)
/// checked and made safe to show: UTF-8 validation, and escaping for logs and
/// terminals so that a hostile string cannot split a journal line, hide in a
/// NUL byte or drive the terminal with escape sequences.
#include <cstddef>
#include <string>
#include <string_view>

namespace plant {

/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view text);

/// The offset of the first byte that does not start a well-formed UTF-8 sequence, or npos.
std::size_t first_invalid_utf8(std::string_view text);

/// True when `text` holds a C0 control character (U+0000..U+001F), DEL (U+007F)
/// or a C1 control character (U+0080..U+009F).
bool has_control_characters(std::string_view text);

/// Why `text` cannot be a name, value or label the agent publishes: "invalid UTF-8",
/// "control character U+001B", or "" when it is fine.
std::string text_problem(std::string_view text);

/// `text` for a log line or a terminal: control characters, backslashes and
/// invalid UTF-8 bytes as \n, \t, \\, \xHH or \u{HHHH}; cut at `max_bytes` of
/// output with "..." appended. Printable UTF-8 stays as it is.
std::string escape_for_display(std::string_view text, std::size_t max_bytes = 4096);

/// A short quoted excerpt for an error message: at most `max_chars` characters
/// of `text`, escaped, in single quotes, with "..." when cut.
std::string quoted_excerpt(std::string_view text, std::size_t max_chars = 40);

}  // namespace plant
