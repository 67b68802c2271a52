#include "common/config/schema.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <type_traits>


namespace plant::config {

// ---- builder ---------------------------------------------------------------

key_spec make_key(std::string name, value_type type) {
  key_spec k;
  k.name = std::move(name);
  k.type = type;
  return k;
}

key_spec& key_spec::def(std::string toml_text) {
  default_value = std::move(toml_text);
  return *this;
}

key_spec& key_spec::req() {
  required = true;
  return *this;
}

namespace {

// Ranges are written in the key's own units so the schema reads like the docs.
double parse_bound(value_type type, std::string_view text) {
  std::string error;
  if (type == value_type::duration) {
    if (auto d = parse_duration(text, error)) return static_cast<double>(d->count());
  } else if (type == value_type::size) {
    if (auto s = parse_size(text, error)) return static_cast<double>(*s);
  } else {
    const std::string copy(text);
    char* end = nullptr;
    const double n = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() && *end == '\0') return n;
  }
  // The schema is fixed at compile time; a bad bound is a programming error caught by every test.
  throw std::logic_error("config schema: bad range bound '" + std::string(text) + "'");
}

}  // namespace

key_spec& key_spec::range(std::string_view low, std::string_view high) {
  if (!low.empty()) min = parse_bound(type, low);
  if (!high.empty()) max = parse_bound(type, high);
  return *this;
}

key_spec& key_spec::one_of(std::vector<std::string> values) {
  choices = std::move(values);
  return *this;
}

key_spec& key_spec::checked(text_check_fn fn) {
  check = fn;
  return *this;
}

key_spec& key_spec::of(const section_spec& nested) {
  section = &nested;
  return *this;
}

key_spec& key_spec::describe(std::string text) {
  help = std::move(text);
  return *this;
}

key_spec& key_spec::example_value(std::string toml_text) {
  example = std::move(toml_text);
  return *this;
}

key_spec& key_spec::stored(store_fn fn) {
  store = fn;
  return *this;
}

key_spec& key_spec::on_reload_reconnect() {
  reload = reload_policy::reconnect;
  return *this;
}

key_spec& key_spec::on_reload_restart() {
  reload = reload_policy::restart;
  return *this;
}

key_spec& key_spec::in_whole_seconds() {
  whole_seconds = true;
  return *this;
}

key_spec& key_spec::alias(std::string old_name) {
  aliases.push_back(std::move(old_name));
  return *this;
}

key_spec& key_spec::allow_control_characters() {
  control_characters = true;
  return *this;
}

std::string_view to_string(reload_policy policy) {
  switch (policy) {
    case reload_policy::live: return "live";
    case reload_policy::reconnect: return "reconnect";
    case reload_policy::restart: return "restart";
  }
  return "live";
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

const key_spec* section_spec::find(std::string_view key) const {
  const int i = index_of(key);
  return i < 0 ? nullptr : &keys[static_cast<std::size_t>(i)];
}

int section_spec::index_of(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i].name == key) return static_cast<int>(i);
  for (std::size_t i = 0; i < keys.size(); ++i)
    for (const std::string& old_name : keys[i].aliases)
      if (old_name == key) return static_cast<int>(i);
  return -1;
}

const key_value& table_value::get(std::string_view key) const {
  const int i = spec->index_of(key);
  if (i < 0) throw std::logic_error("config schema: no key '" + std::string(key) + "' in '" + spec->name + "'");
  return values[static_cast<std::size_t>(i)];
}

key_value& table_value::get(std::string_view key) {
  return const_cast<key_value&>(static_cast<const table_value&>(*this).get(key));
}

void store_section(const table_value& values, void* target) {
  const section_spec& spec = *values.spec;
  for (std::size_t i = 0; i < spec.keys.size(); ++i)
    if (spec.keys[i].store != nullptr) spec.keys[i].store(target, spec.keys[i], values.values[i]);
}

std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ---- ranges -----------------------------------------------------------------

std::string format_in_units(const key_spec& key, double number) {
  if (key.type == value_type::duration) return format_duration(millis{static_cast<millis::rep>(number)});
  if (key.type == value_type::size) return format_size(static_cast<std::uint64_t>(number));
  if (key.type == value_type::integer) return std::to_string(static_cast<long long>(number));
  char buffer[32];
  // Whole numbers in full ("1000000000", not "1e+09"): they are read by technicians.
  if (std::floor(number) == number && std::fabs(number) < 1e15) std::snprintf(buffer, sizeof buffer, "%.0f", number);
  else std::snprintf(buffer, sizeof buffer, "%g", number);
  return buffer;
}

std::string describe_range(const key_spec& key) {
  if (key.min && key.max) return format_in_units(key, *key.min) + ".." + format_in_units(key, *key.max);
  if (key.min) return "at least " + format_in_units(key, *key.min);
  if (key.max) return "at most " + format_in_units(key, *key.max);
  return "";
}

}  // namespace plant::config
