#pragma once
/// The config schema engine: one table of keys per section (name, type, default,
/// range or choices, required, help text, example, what SIGHUP does with it, and
/// where the value lands in the typed config). The same tables drive parsing,
/// validation, unknown-key suggestions, the reference config, the config hash
/// and reload. The agent and the register each describe their own sections
/// with it (agent/config/agent_schema.hpp, register/config/...).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/config/diagnostics.hpp"
#include "common/core/closest_match.hpp"
#include "common/core/units.hpp"

namespace plant::config {

/// What a key holds and how it is written in TOML.
enum class value_type {
  string,       ///< "text"
  boolean,      ///< true / false
  integer,      ///< 42
  number,       ///< 0.5 (an integer is accepted too)
  duration,     ///< "1h30m" (see units.hpp)
  size,         ///< "64MiB" (see units.hpp)
  path,         ///< "dir/file", resolved against the config file's directory
  choice,       ///< "one" of the key's choices
  string_list,  ///< ["a", "b"]
  state_map,    ///< { 0 = "idle", 1 = "running" }: register value -> line state
  table,        ///< a [section] or an inline { ... } table, described by key_spec::section
  table_array,  ///< [[section]] blocks, each described by key_spec::section
};

struct section_spec;
struct key_spec;
struct table_value;

/// One key's value after reading: written in the file, set by --set, or defaulted.
struct key_value {
  bool present = false;         ///< written in the file or set by --set
  bool has = false;             ///< holds a usable value (valid, or defaulted)
  position key_at;              ///< where the key is written (the table's position when defaulted)
  position at;                  ///< where the value is written (the table's position when defaulted)
  bool boolean = false;         ///< boolean
  std::int64_t integer = 0;     ///< integer; the index into the choices for choice
  double number = 0.0;          ///< number
  millis duration{0};           ///< duration
  std::uint64_t bytes = 0;      ///< size
  std::string text;             ///< string, path (absolute), choice; the original text of duration/size
  std::vector<std::string> list;                ///< string_list
  std::map<std::int64_t, std::string> states;   ///< state_map
  std::vector<table_value> tables;              ///< table (one entry), table_array (one per block)
};

/// The values of one table, parallel to its section_spec::keys.
struct table_value {
  const section_spec* spec = nullptr;  ///< the schema of this table
  std::string path;                    ///< "source.modbus[0].line[1]"; "" for the root
  position at;                         ///< the table header (or the parent's position when absent)
  bool present = false;                ///< written in the file or by --set
  std::vector<key_value> values;       ///< one per spec->keys entry

  /// The value of `key`; the key must be in the schema (a programming error otherwise).
  const key_value& get(std::string_view key) const;
  /// The value of `key`; the key must be in the schema (a programming error otherwise).
  key_value& get(std::string_view key);
};

/// Validates (and may normalise) a string value; returns the reason it is wrong, or "".
using text_check_fn = std::string (*)(std::string& text);
/// Cross-key rules of a section, run after its keys were read.
using section_check_fn = void (*)(table_value& values, diagnostic_sink& sink);
/// Stores a valid value into the typed struct the section fills.
using store_fn = void (*)(void* target, const key_spec& key, const key_value& value);

/// What a SIGHUP reload does when a key's value changed.
enum class reload_policy : std::uint8_t {
  live,       ///< applied at once, without touching the broker connection
  reconnect,  ///< applied by reconnecting to the broker with the new settings
  restart,    ///< needs a restart; until then the running value stays in force
};

/// "live", "reconnect", "restart".
std::string_view to_string(reload_policy policy);

/// One key of a section.
struct key_spec {
  std::string name;                       ///< the TOML key
  value_type type = value_type::string;   ///< what it holds
  std::string default_value;              ///< TOML text of the default ("\"30s\"", "1"); "" = none
  bool required = false;                  ///< must be written
  std::optional<double> min;              ///< inclusive; milliseconds for durations, bytes for sizes
  std::optional<double> max;              ///< inclusive; same units as min
  std::vector<std::string> choices;       ///< choice (and state_map values); integer: allowed values
  text_check_fn check = nullptr;          ///< extra rule for string, path and string_list values
  const section_spec* section = nullptr;  ///< table / table_array: the nested schema
  std::string help;                       ///< one or more lines for the reference config
  std::string example;                    ///< TOML text shown in the reference examples; "" = default
  store_fn store = nullptr;               ///< where the value lands in the typed config
  reload_policy reload = reload_policy::live;  ///< what SIGHUP does when it changed
  bool whole_seconds = false;             ///< duration: the protocol counts seconds, so sub-second parts are refused
  std::vector<std::string> aliases;       ///< old names still accepted, with a deprecation warning
  bool control_characters = false;        ///< string values may hold control characters (a tab delimiter)

  /// Sets the default (TOML text).
  key_spec& def(std::string toml_text);
  /// Marks the key required.
  key_spec& req();
  /// Sets the inclusive range, written like a value ("1s", "64KiB", "0"); "" = open.
  key_spec& range(std::string_view low, std::string_view high);
  /// Sets the allowed values.
  key_spec& one_of(std::vector<std::string> values);
  /// Adds a rule for string values.
  key_spec& checked(text_check_fn fn);
  /// Sets the nested schema of a table / table_array key.
  key_spec& of(const section_spec& nested);
  /// Sets the help text.
  key_spec& describe(std::string text);
  /// Sets the example (TOML text).
  key_spec& example_value(std::string toml_text);
  /// Sets where the value lands.
  key_spec& stored(store_fn fn);
  /// Marks the key as applied by a reconnect on SIGHUP.
  key_spec& on_reload_reconnect();
  /// Marks the key as needing a restart.
  key_spec& on_reload_restart();
  /// Refuses durations with a part below one second.
  key_spec& in_whole_seconds();
  /// Accepts `old_name` too, warning that it is deprecated in favour of this key's name.
  key_spec& alias(std::string old_name);
  /// Lets string values hold control characters (refused everywhere else: they would reach logs and topics).
  key_spec& allow_control_characters();
};

/// Makes a key; chain the setters above.
key_spec make_key(std::string name, value_type type);

/// One example block of a repeatable section in the reference config.
struct example_spec {
  std::string note;                                         ///< comment above the block
  std::vector<std::string> keys;                            ///< the keys shown; empty = all
  std::vector<std::pair<std::string, std::string>> values;  ///< TOML text overriding key_spec::example;
                                                            ///< "child.key" applies to a nested block
  bool with_help = true;                                    ///< show each key's help text
};

/// One table of the config: [agent], [[source.csv]], a Modbus point, the root.
struct section_spec {
  std::string name;                      ///< "agent", "source.modbus.line", "point", "" for the root
  std::string help;                      ///< shown above the section in the reference config
  std::vector<key_spec> keys;            ///< in reference-config order
  section_check_fn check = nullptr;      ///< cross-key rules
  std::vector<example_spec> examples;    ///< repeatable sections: example blocks (default: one, all keys)

  /// The key named `name` (or one of its aliases), or nullptr.
  const key_spec* find(std::string_view key) const;
  /// The index of `name` (or of the key it is an alias of) in keys, or -1.
  int index_of(std::string_view key) const;
};

/// Fills `target` (the struct the section describes) from valid values.
void store_section(const table_value& values, void* target);

/// `text` as a TOML basic string: "a \"b\"\n".
std::string toml_quote(std::string_view text);

/// Renders `low..high` (or "at least low") in the key's units, as used in messages and docs.
std::string describe_range(const key_spec& key);

/// Renders a number in the key's units: "3", "0.5", "1s", "64KiB".
std::string format_in_units(const key_spec& key, double number);

// ---- storing into the typed config ------------------------------------------
//
// A key's store function is store<&T::member>: it converts the read value into
// the member's type. Sections of any module use it; nested sections land in
// nested structs through store_section.

namespace detail {

template <class>
struct member_of;
template <class C, class T>
struct member_of<T C::*> {
  using owner = C;
  using type = T;
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T, class = void>
struct has_key_path : std::false_type {};
template <class T>
struct has_key_path<T, std::void_t<decltype(std::declval<T&>().key_path)>> : std::true_type {};

template <class T>
void assign(T& field, const key_spec& key, const key_value& v) {
  if constexpr (is_optional<T>::value) {
    field.emplace();
    assign(*field, key, v);
  } else if constexpr (std::is_same_v<T, bool>) {
    field = v.boolean;
  } else if constexpr (std::is_enum_v<T>) {
    // Enumerators are declared in the order of the key's choices.
    field = static_cast<T>(v.integer);
  } else if constexpr (std::is_same_v<T, char>) {
    field = v.text.empty() ? '\0' : v.text.front();
  } else if constexpr (std::is_integral_v<T>) {
    field = static_cast<T>(key.type == value_type::size ? v.bytes : static_cast<std::uint64_t>(v.integer));
  } else if constexpr (std::is_same_v<T, double>) {
    field = v.number;
  } else if constexpr (std::is_same_v<T, millis>) {
    field = v.duration;
  } else if constexpr (std::is_same_v<T, std::string>) {
    field = v.text;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    field = v.list;
  } else if constexpr (std::is_same_v<T, std::map<std::int64_t, std::string>>) {
    field = v.states;
  } else if constexpr (is_vector<T>::value) {
    for (const table_value& t : v.tables) {
      typename T::value_type item;
      store_section(t, &item);
      if constexpr (has_key_path<typename T::value_type>::value) item.key_path = t.path;
      field.push_back(std::move(item));
    }
  } else {
    store_section(v.tables.front(), &field);
    // Structs that name themselves in messages ("source.modbus[0].line[1].state") learn their path here.
    if constexpr (has_key_path<T>::value) field.key_path = v.tables.front().path;
  }
}

}  // namespace detail

/// The store function for a key whose value lands in `member`.
template <auto member>
void store(void* target, const key_spec& key, const key_value& v) {
  if (!v.has) return;
  using m = detail::member_of<decltype(member)>;
  detail::assign(static_cast<typename m::owner*>(target)->*member, key, v);
}

/// "\"text\"": a TOML string for defaults and examples.
std::string quoted(std::string_view s);

}  // namespace plant::config
