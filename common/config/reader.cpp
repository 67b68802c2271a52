#include "common/config/reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/config/overrides.hpp"
#include "common/core/text.hpp"
#include "common/core/units.hpp"

namespace plant::config {
namespace {

std::string join(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    default: return "nothing";
  }
}

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string not_one_of(const std::string& shown, std::string_view raw, const std::vector<std::string>& choices) {
  std::string message = shown + " is not one of " + list(choices);
  if (auto near = closest_match(raw, choices)) message += "; did you mean " + quote(*near) + "?";
  return message;
}

std::string expected(const key_spec& key) {
  switch (key.type) {
    case value_type::string:
    case value_type::path: return "expected string";
    case value_type::boolean: return "expected true or false";
    case value_type::integer: return "expected integer";
    case value_type::number: return "expected a number";
    case value_type::duration: return "expected a duration string like \"5s\"";
    case value_type::size: return "expected a size string like \"64MiB\"";
    case value_type::choice: return "expected a string (one of " + list(key.choices) + ")";
    case value_type::string_list: return "expected an array of strings";
    case value_type::state_map: return "expected a table like { 0 = \"idle\", 1 = \"running\" }";
    case value_type::table: return "expected a table";
    case value_type::table_array: return "expected an array of tables ([[" + key.section->name + "]])";
  }
  return "unexpected value";
}

std::string out_of_range(const key_spec& key, const std::string& shown) {
  if (key.min && key.max) return shown + " is out of range " + describe_range(key);
  if (key.min) return shown + " is less than the minimum " + format_in_units(key, *key.min);
  return shown + " is more than the maximum " + format_in_units(key, *key.max);
}

bool in_range(const key_spec& key, double n) { return !(key.min && n < *key.min) && !(key.max && n > *key.max); }

class document_reader {
 public:
  document_reader(const std::string& base_dir, diagnostic_sink& sink)
      : base_dir_(std::filesystem::absolute(base_dir).lexically_normal()), sink_(sink) {}

  table_value read_table(const toml::table* table, const section_spec& spec, const std::string& path,
                         const position& at);

 private:
  void read_value(const toml::node& node, const key_spec& key, const std::string& path, key_value& out);
  void read_scalar(const toml::node& node, const key_spec& key, const std::string& path, key_value& out);
  void read_default(const key_spec& key, const std::string& path, const position& at, key_value& out);
  bool check_text(const key_spec& key, const std::string& path, const position& at, std::string& text);
  std::string resolve(const std::string& path) const;
  void fail(key_value& out, const position& at, const std::string& path, std::string message) {
    out.has = false;
    sink_.error(at, path, std::move(message));
  }

  std::filesystem::path base_dir_;
  diagnostic_sink& sink_;
};

table_value document_reader::read_table(const toml::table* table, const section_spec& spec, const std::string& path,
                                        const position& at) {
  table_value out;
  out.spec = &spec;
  out.path = path;
  out.at = at;
  out.present = table != nullptr;
  out.values.resize(spec.keys.size());
  if (table != nullptr) {
    for (auto&& [key, node] : *table) {
      const int i = spec.index_of(key.str());
      if (i < 0) {
        std::vector<std::string> names;
        for (const key_spec& k : spec.keys) names.push_back(k.name);
        std::string message = "unknown key " + quote(key.str());
        if (auto near = closest_match(key.str(), names)) message += "; did you mean " + quote(*near) + "?";
        sink_.error(locate(key.source()), join(path, key.str()), std::move(message));
        continue;
      }
      const key_spec& spec_key = spec.keys[static_cast<std::size_t>(i)];
      key_value& v = out.values[static_cast<std::size_t>(i)];
      const position key_at = locate(key.source());
      if (key.str() != spec_key.name) {
        // An old name: still read, so no config breaks on upgrade, but said once per use.
        if (v.present) {
          sink_.error(key_at, join(path, key.str()),
                      quote(key.str()) + " is an old name of " + quote(spec_key.name) + ", which is also set (at " +
                          to_string(v.key_at) + "); keep one");
          continue;
        }
        sink_.warning(key_at, join(path, key.str()),
                      quote(key.str()) + " is deprecated; use " + quote(spec_key.name) + " (same meaning)");
      } else if (v.present) {
        sink_.error(key_at, join(path, key.str()),
                    quote(key.str()) + " is also set under an old name (at " + to_string(v.key_at) + "); keep one");
        continue;
      }
      v.present = true;
      v.key_at = key_at;
      read_value(node, spec_key, join(path, spec_key.name), v);
    }
  }
  for (std::size_t i = 0; i < spec.keys.size(); ++i) {
    const key_spec& key = spec.keys[i];
    key_value& v = out.values[i];
    if (v.present) continue;
    v.key_at = at;
    v.at = at;
    if (key.required) {
      sink_.error(at, path, "missing required key " + quote(key.name));
    } else if (key.type == value_type::table && key.default_value == "{}") {
      // An absent section still yields its defaults (and its own missing-key errors).
      v.tables.push_back(read_table(nullptr, *key.section, join(path, key.name), at));
      v.has = true;
    } else if (key.type == value_type::table_array) {
      v.has = true;
    } else if (!key.default_value.empty()) {
      read_default(key, join(path, key.name), at, v);
    }
  }
  if (spec.check != nullptr) spec.check(out, sink_);
  return out;
}

void document_reader::read_default(const key_spec& key, const std::string& path, const position& at, key_value& out) {
  // Defaults go through the same reader as user values, so a default can never
  // be something the user would not be allowed to write.
  const toml::table doc = toml::parse(std::string_view("v = " + key.default_value), std::string("<default>"));
  read_value(*doc.get("v"), key, path, out);
  out.present = false;
  out.key_at = at;
  out.at = at;
}

void document_reader::read_value(const toml::node& node, const key_spec& key, const std::string& path,
                                 key_value& out) {
  out.at = locate(node.source());
  out.has = true;
  switch (key.type) {
    case value_type::table: {
      const toml::table* table = node.as_table();
      if (table == nullptr) return fail(out, out.at, path, expected(key) + ", got " + type_name(node));
      out.tables.push_back(read_table(table, *key.section, path, out.at));
      return;
    }
    case value_type::table_array: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return fail(out, out.at, path, expected(key) + ", got " + type_name(node));
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string element_path = path + "[" + std::to_string(i) + "]";
        const toml::table* table = element.as_table();
        if (table == nullptr) {
          fail(out, locate(element.source()), element_path, "expected a table, got " + type_name(element));
          continue;
        }
        out.tables.push_back(read_table(table, *key.section, element_path, locate(element.source())));
      }
      return;
    }
    case value_type::string_list: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return fail(out, out.at, path, expected(key) + ", got " + type_name(node));
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string element_path = path + "[" + std::to_string(i) + "]";
        const position element_at = locate(element.source());
        if (!element.is_string()) {
          fail(out, element_at, element_path, "expected string, got " + type_name(element));
          continue;
        }
        std::string text = element.as_string()->get();
        if (check_text(key, element_path, element_at, text)) out.list.push_back(std::move(text));
        else out.has = false;
      }
      return;
    }
    case value_type::state_map: {
      const toml::table* table = node.as_table();
      if (table == nullptr) return fail(out, out.at, path, expected(key) + ", got " + type_name(node));
      for (auto&& [map_key, map_value] : *table) {
        const std::string_view name = map_key.str();
        std::int64_t number = 0;
        const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
        if (ec != std::errc{} || end != name.data() + name.size()) {
          fail(out, locate(map_key.source()), path, "map key " + quote(name) + " is not an integer");
          continue;
        }
        const std::string value_path = join(path, name);
        const position value_at = locate(map_value.source());
        if (!map_value.is_string()) {
          fail(out, value_at, value_path, "expected a string (one of " + list(key.choices) + "), got " + type_name(map_value));
          continue;
        }
        const std::string& state = map_value.as_string()->get();
        if (std::find(key.choices.begin(), key.choices.end(), state) == key.choices.end()) {
          fail(out, value_at, value_path, not_one_of(quote(state), state, key.choices));
          continue;
        }
        out.states[number] = state;
      }
      return;
    }
    default:
      read_scalar(node, key, path, out);
  }
}

void document_reader::read_scalar(const toml::node& node, const key_spec& key, const std::string& path,
                                  key_value& out) {
  const std::string wrong_type = expected(key) + ", got " + type_name(node);
  switch (key.type) {
    case value_type::boolean:
      if (!node.is_boolean()) return fail(out, out.at, path, wrong_type);
      out.boolean = node.as_boolean()->get();
      return;
    case value_type::integer: {
      if (!node.is_integer()) return fail(out, out.at, path, wrong_type);
      out.integer = node.as_integer()->get();
      const std::string shown = std::to_string(out.integer);
      if (!key.choices.empty()) {
        if (std::find(key.choices.begin(), key.choices.end(), shown) == key.choices.end())
          return fail(out, out.at, path, shown + " is not one of " + list(key.choices));
      } else if (!in_range(key, static_cast<double>(out.integer))) {
        return fail(out, out.at, path, out_of_range(key, shown));
      }
      return;
    }
    case value_type::number: {
      // Whole numbers are numbers too: "speed = 2" should not need "2.0".
      if (node.is_integer()) out.number = static_cast<double>(node.as_integer()->get());
      else if (node.is_floating_point()) out.number = node.as_floating_point()->get();
      else return fail(out, out.at, path, wrong_type);
      char shown[32];
      std::snprintf(shown, sizeof shown, "%g", out.number);
      if (!std::isfinite(out.number)) return fail(out, out.at, path, "expected a finite number, got " + std::string(shown));
      if (!in_range(key, out.number)) return fail(out, out.at, path, out_of_range(key, shown));
      return;
    }
    case value_type::duration:
    case value_type::size: {
      if (!node.is_string()) return fail(out, out.at, path, wrong_type);
      out.text = node.as_string()->get();
      std::string error;
      double amount = 0;
      if (key.type == value_type::duration) {
        const auto d = parse_duration(out.text, error);
        if (!d) return fail(out, out.at, path, quote(out.text) + " is not a duration: " + error);
        if (key.whole_seconds && d->count() % 1000 != 0)
          return fail(out, out.at, path, quote(out.text) + " is not a whole number of seconds (the protocol counts it in seconds)");
        out.duration = *d;
        amount = static_cast<double>(d->count());
      } else {
        const auto s = parse_size(out.text, error);
        if (!s) return fail(out, out.at, path, quote(out.text) + " is not a size: " + error);
        out.bytes = *s;
        amount = static_cast<double>(*s);
      }
      if (!in_range(key, amount)) return fail(out, out.at, path, out_of_range(key, quote(out.text)));
      return;
    }
    case value_type::choice: {
      if (!node.is_string()) return fail(out, out.at, path, wrong_type);
      out.text = node.as_string()->get();
      const auto found = std::find(key.choices.begin(), key.choices.end(), out.text);
      if (found == key.choices.end()) return fail(out, out.at, path, not_one_of(quote(out.text), out.text, key.choices));
      out.integer = found - key.choices.begin();
      return;
    }
    case value_type::string:
    case value_type::path: {
      if (!node.is_string()) return fail(out, out.at, path, wrong_type);
      out.text = node.as_string()->get();
      if (!check_text(key, path, out.at, out.text)) out.has = false;
      else if (key.type == value_type::path) out.text = resolve(out.text);
      return;
    }
    default:
      return;
  }
}

bool document_reader::check_text(const key_spec& key, const std::string& path, const position& at,
                                 std::string& text) {
  if (!key.control_characters) {
    // TOML escapes (\u0000, \u001b) can put anything into a string; nothing the
    // agent names or logs should carry a NUL or a terminal escape.
    std::string problem = text_problem(text);
    if (!problem.empty()) {
      sink_.error(at, path, quoted_excerpt(text) + ": " + problem + " is not allowed here");
      return false;
    }
  }
  if (key.check == nullptr) return true;
  std::string error = key.check(text);
  if (error.empty()) return true;
  sink_.error(at, path, std::move(error));
  return false;
}

std::string document_reader::resolve(const std::string& path) const {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_relative()) p = base_dir_ / p;
  std::string out = p.lexically_normal().string();
  // "state/" and "state" are the same directory; keep one spelling for the hash.
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

table_value read_document(const toml::table& root, const section_spec& spec, const std::string& display_name,
                          const std::string& base_dir, diagnostic_sink& sink) {
  document_reader reader(base_dir, sink);
  return reader.read_table(&root, spec, "", position{display_name, 1, 1});
}

}  // namespace plant::config
