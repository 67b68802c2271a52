#pragma once
/// Rules the schemas attach to keys and sections beyond type and range that
/// more than one program needs: name syntax, URLs and listen addresses, TLS
/// files, delay order, duplicate names. Program-specific rules live beside
/// their schemas (agent/config/agent_checks.hpp, a source's own folder).
#include <string>
#include <string_view>
#include <vector>

#include "common/config/schema.hpp"

namespace plant::config {

/// 'text' in single quotes, as messages quote values.
std::string quote(std::string_view s);

/// Ids, sites, source and material names become MQTT topic levels: [A-Za-z0-9._-]+.
std::string check_name(std::string& text);
/// mqtt.url: tcp://host[:port] or ssl://host[:port]; normalised to carry the port (1883 / 8883).
std::string check_mqtt_url(std::string& text);
/// A listen address: "" (off) or "host:port".
std::string check_listen(std::string& text);
/// A topic prefix: levels without '+', '#', leading, trailing or doubled '/'.
std::string check_topic_prefix(std::string& text);
/// A CSV delimiter: exactly one character.
std::string check_delimiter(std::string& text);
/// Accepts "scheme://host[:port]" (the scheme given with its "://") and rewrites `text` with the
/// port spelled out, so every consumer (and the config hash) sees one form; returns the reason or "".
std::string check_endpoint(std::string& text, std::string_view what, std::string_view scheme, int default_port);

/// "section.key" for a key of `values` (or just the key at the root).
std::string path_of(const table_value& values, std::string_view key);
/// Where a finding about `v` should point: the value if written, else the table header.
const position& where_written(const key_value& v, const table_value& values);
/// `high_key` (a duration) must not be less than `low_key`.
void check_delay_order(table_value& values, diagnostic_sink& sink, std::string_view low_key, std::string_view high_key);

/// A name and where it was defined, for duplicate checks.
struct named_at {
  std::string name;
  position at;
  std::string path;
};
/// One error per repeated name, pointing at the first definition (in file order).
void report_duplicates(std::vector<named_at> items, std::string_view what, diagnostic_sink& sink);
/// The `key` values of every block of a table array.
void collect_names(const key_value& array, std::string_view key, std::vector<named_at>& out);

/// An [mqtt] section (agent, register): reconnect delay order, password and TLS files readable,
/// TLS files only with ssl://, cert and key together, and a warning when tls_verify is off.
void check_mqtt_connection(table_value& values, diagnostic_sink& sink);

}  // namespace plant::config
