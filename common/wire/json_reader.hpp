#pragma once
/// A strict JSON reader for small request bodies (the register's POSTs): the
/// whole text into a tree, RFC 8259 grammar only, with a depth bound and an
/// error that names the byte offset and what was expected there. Duplicate
/// member names are errors, since a body that says two things means neither.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plant::wire {

class json_value {
 public:
  enum class kind { null, boolean, number, string, array, object };

  kind type() const { return type_; }
  bool is_null() const { return type_ == kind::null; }
  bool is_bool() const { return type_ == kind::boolean; }
  bool is_number() const { return type_ == kind::number; }
  bool is_string() const { return type_ == kind::string; }
  bool is_array() const { return type_ == kind::array; }
  bool is_object() const { return type_ == kind::object; }

  bool as_bool() const { return flag_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return text_; }
  const std::vector<json_value>& items() const { return items_; }
  const std::map<std::string, json_value>& members() const { return members_; }
  /// The member `name` of an object, nullptr when absent (or not an object).
  const json_value* find(const std::string& name) const;

  static json_value make_null() { return json_value(kind::null); }
  static json_value make_bool(bool v);
  static json_value make_number(double v);
  static json_value make_string(std::string v);
  static json_value make_array(std::vector<json_value> items);
  static json_value make_object(std::map<std::string, json_value> members);

 private:
  explicit json_value(kind k) : type_(k) {}
  kind type_ = kind::null;
  bool flag_ = false;
  double number_ = 0;
  std::string text_;
  std::vector<json_value> items_;
  std::map<std::string, json_value> members_;
};

/// What parse_json found: `value` when `error` is empty.
struct json_parse_result {
  json_value value = json_value::make_null();
  std::string error;  ///< "at byte 7: expected ':' after a member name"
  bool ok() const { return error.empty(); }
};

/// Parses all of `text` (surrounding white space allowed); nesting deeper than
/// `max_depth` arrays/objects is an error rather than a deep recursion.
json_parse_result parse_json(std::string_view text, std::size_t max_depth = 32);

/// "string", "number", ... for messages.
const char* kind_name(json_value::kind k);

}  // namespace plant::wire
