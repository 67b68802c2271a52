#pragma once
/// --config: the broker settings and topic prefix of an agent's config file,
/// so ops can watch exactly the broker an agent publishes to.
#include <functional>
#include <optional>
#include <string>

namespace plant::watch {

/// What plant-watch takes from an agent config ([mqtt] section).
struct imported_connection {
  std::string url;            ///< mqtt.url
  std::string username;       ///< mqtt.username
  std::string password_file;  ///< mqtt.password_file
  std::string ca_file;        ///< mqtt.ca_file
  std::string cert_file;      ///< mqtt.cert_file
  std::string key_file;       ///< mqtt.key_file
  bool tls_verify = true;     ///< mqtt.tls_verify
  std::string topic_prefix;   ///< mqtt.topic_prefix
  bool sparkplug = false;     ///< mqtt.format = "sparkplug"
};

/// The settings, or why the file could not be used.
struct connection_import {
  std::optional<imported_connection> connection;  ///< set on success
  std::string error;                              ///< the loader's diagnostics, one per line, on failure
};

/// Reads an agent config; the option parser takes this as a parameter so tests can stand in for it.
using connection_importer = std::function<connection_import(const std::string& path)>;

/// Loads `path` with the agent's own config loader (plant::config::load_config_file).
connection_import import_agent_connection(const std::string& path);

}  // namespace plant::watch
