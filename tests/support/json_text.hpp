#pragma once
/// Just enough JSON reading for tests that check plant-watch / plant-agent output
/// without a JSON library. Tests should prefer exact substrings; these helpers
/// pull single values out of one line.
///
/// Limits of json_string / json_number / json_integer / json_bool:
/// - they return the value of the FIRST member named `key` in document order, at
///   any nesting depth (`"line":{"id":"A"}` and a top-level `"id"` both match "id");
///   use a key that is unique in the line, or cut the line first;
/// - keys are matched exactly as written (no escape decoding in keys);
/// - string values are decoded (\" \\ \/ \b \f \n \r \t \uXXXX incl. surrogate pairs);
/// - nothing validates the line: on malformed input they return nullopt or a best effort.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plant::test {

/// The lines of `text` whose first non-blank character is '{', without their line ends.
std::vector<std::string> json_lines(const std::string& text);

/// The decoded string value of the first member named `key`; nullopt if absent or not a string.
std::optional<std::string> json_string(const std::string& line, const std::string& key);
/// The numeric value of the first member named `key`; nullopt if absent or not a number.
std::optional<double> json_number(const std::string& line, const std::string& key);
/// Like json_number, for values that must be integers (exact up to 64 bits); nullopt for 1.5 or 1e3.
std::optional<std::int64_t> json_integer(const std::string& line, const std::string& key);
/// The value of the first member named `key` if it is `true` or `false`.
std::optional<bool> json_bool(const std::string& line, const std::string& key);

}  // namespace plant::test
