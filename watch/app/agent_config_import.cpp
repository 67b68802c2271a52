#include "watch/app/agent_config_import.hpp"

#include <utility>

#include "agent/config/config_loader.hpp"

namespace plant::watch {

connection_import import_agent_connection(const std::string& path) {
  connection_import result;
  // The agent's loader validates the whole file, so plant-watch reports the
  // same file:line diagnostics the agent itself would give for that config.
  const auto loaded = plant::config::load_config_file(path);
  if (!loaded.config) {
    for (const auto& diagnostic : loaded.errors) {
      if (!result.error.empty()) result.error += "\n";
      result.error += diagnostic.to_string();
    }
    if (result.error.empty()) result.error = "the config could not be loaded";
    return result;
  }
  const auto& mqtt = loaded.config->mqtt;
  imported_connection c;
  c.url = mqtt.url;
  c.username = mqtt.username;
  c.password_file = mqtt.password_file;
  c.ca_file = mqtt.ca_file;
  c.cert_file = mqtt.cert_file;
  c.key_file = mqtt.key_file;
  c.tls_verify = mqtt.tls_verify;
  c.topic_prefix = mqtt.topic_prefix;
  c.sparkplug = mqtt.format == plant::config::wire_format::sparkplug;
  result.connection = std::move(c);
  return result;
}

}  // namespace plant::watch
