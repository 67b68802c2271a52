#pragma once
/// A small streaming writer for compact JSON text: it places the commas and
/// colons, escapes strings (invalid UTF-8 becomes U+FFFD) and writes
/// non-finite numbers as null, so every line it produces parses.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace plant::wire {

class json_writer {
 public:
  /// Starts `{`; as a member value when key() came just before.
  json_writer& begin_object();
  /// Ends the innermost object.
  json_writer& end_object();
  /// Starts `[`.
  json_writer& begin_array();
  /// Ends the innermost array.
  json_writer& end_array();
  /// Writes a member name; the next call writes its value.
  json_writer& key(std::string_view name);

  /// A string value.
  json_writer& value(std::string_view text);
  /// A string value (keeps string literals away from the bool overload).
  json_writer& value(const char* text) { return value(std::string_view(text)); }
  /// A string value.
  json_writer& value(const std::string& text) { return value(std::string_view(text)); }
  /// true or false.
  json_writer& value(bool flag);
  /// A number; NaN and infinities become null (JSON has no spelling for them).
  json_writer& value(double number);
  /// An integer of any width, written exactly (64-bit counters stay exact).
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
  json_writer& value(T number) {
    if constexpr (std::is_signed_v<T>) {
      return signed_value(static_cast<std::int64_t>(number));
    } else {
      return unsigned_value(static_cast<std::uint64_t>(number));
    }
  }
  /// null.
  json_writer& null();

  /// key(name) followed by value(v).
  template <typename T>
  json_writer& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  /// The text written so far.
  const std::string& text() const { return out_; }
  /// Hands over the text and starts afresh.
  std::string take();
  /// Starts afresh, keeping the buffer's capacity.
  void clear();

  /// Appends `text` to `out` as a quoted JSON string.
  static void append_quoted(std::string& out, std::string_view text);

 private:
  json_writer& signed_value(std::int64_t number);
  json_writer& unsigned_value(std::uint64_t number);
  void before_value();

  std::string out_;
  std::vector<bool> has_items_;  // one per open container: a comma is due before the next item
  bool after_key_ = false;
};

}  // namespace plant::wire
