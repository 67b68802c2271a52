#include "agent/app/derived_settings.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "agent/encoding/status_encoding.hpp"
#include "agent/encoding/topics.hpp"
#include "common/core/file_access.hpp"

namespace plant::app {

log::level to_log_level(config::log_level level) {
  switch (level) {
    case config::log_level::debug: return log::level::debug;
    case config::log_level::info: return log::level::info;
    case config::log_level::warn: return log::level::warn;
    case config::log_level::error: return log::level::error;
  }
  return log::level::info;
}

encoding::envelope_identity identity_of(const config::agent_config& c) { return {c.agent.id, c.agent.site}; }

std::size_t memory_bound_bytes(const config::agent_config& c) {
  return std::max<std::size_t>(16u << 20, 2 * c.mqtt.max_inflight * c.mqtt.max_message_bytes);
}


std::string read_password(const config::agent_config& config) {
  if (config.mqtt.password_file.empty()) return {};
  std::string password;
  const std::string problem = read_secret_file(config.mqtt.password_file, password);
  if (!problem.empty()) throw std::runtime_error("mqtt.password_file: '" + config.mqtt.password_file + "': " + problem);
  return password;
}

std::string connection_fingerprint(const config::agent_config& config) {
  // The files' contents, not their names: a rotated certificate or a new password
  // under the same path is a change a reload must apply. Kept as a hash, never logged.
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const std::string* path : {&config.mqtt.password_file, &config.mqtt.ca_file, &config.mqtt.cert_file,
                                  &config.mqtt.key_file}) {
    std::ifstream in(*path, std::ios::binary);
    std::ostringstream text;
    text << *path << '\0' << in.rdbuf();
    for (char c : text.str()) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ull;
    }
  }
  return std::to_string(hash);
}

transport::mqtt_options mqtt_settings(const config::agent_config& c, const std::string& password, epoch_ms started_at) {
  transport::mqtt_options options;
  auto& s = options.connection;
  s.url = c.mqtt.url;
  s.client_id = c.mqtt.client_id.empty() ? "plant-agent-" + c.agent.site + "-" + c.agent.id : c.mqtt.client_id;
  s.username = c.mqtt.username;
  s.password = password;
  s.ca_file = c.mqtt.ca_file;
  s.cert_file = c.mqtt.cert_file;
  s.key_file = c.mqtt.key_file;
  s.tls_verify = c.mqtt.tls_verify;
  s.keepalive = std::chrono::duration_cast<std::chrono::seconds>(c.mqtt.keepalive);
  s.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(c.mqtt.connect_timeout);
  const encoding::topic_set topics = encoding::make_topics(c.mqtt.topic_prefix, c.agent.site, c.agent.id);
  s.will = mqtt_link::will_message{topics.status,
                                   encoding::encode_last_will(identity_of(c), PLANT_VERSION, c.hash, started_at), 1,
                                   true};
  options.reconnect_min_delay = c.mqtt.reconnect_min_delay;
  options.reconnect_max_delay = c.mqtt.reconnect_max_delay;
  options.window = static_cast<int>(c.mqtt.max_inflight);
  if (c.mqtt.format == config::wire_format::sparkplug) {
    // One outbox message becomes a DDATA per source, and births add one per source:
    // Paho's own in-flight limit (set from this) must stay well above what that makes.
    options.window = std::min(32767, options.window * 8 + 64);
  }
  options.protocol = c.mqtt.protocol;
  return options;
}

sparkplug::edge_node_settings sparkplug_settings(const config::agent_config& c) {
  sparkplug::edge_node_settings s;
  s.group_id = c.sparkplug.group_id.empty() ? c.agent.site : c.sparkplug.group_id;
  s.edge_node_id = c.sparkplug.edge_node_id.empty() ? c.agent.id : c.sparkplug.edge_node_id;
  s.primary_host_id = c.sparkplug.primary_host_id;
  s.version = PLANT_VERSION;
  s.qos = c.mqtt.qos;
  for (const auto& material : c.materials) s.materials.push_back(material.id);
  s.bdseq_file = std::filesystem::path(c.agent.state_dir) / "sparkplug" / "bdseq";
  s.max_payload_bytes = c.mqtt.max_message_bytes;
  // Paho's own limit as mqtt_settings() and mqtt_publisher set it (kept above the window).
  s.max_in_flight = static_cast<std::size_t>(std::min(65535, mqtt_settings(c, "", 0).window * 2 + 8));
  return s;
}

std::size_t payload_limit_for(std::uint32_t maximum_packet_size, const encoding::topic_set& topics) {
  if (maximum_packet_size == 0) return 0;
  const std::size_t topic = std::max({topics.telemetry.size(), topics.alerts.size(), topics.status.size()});
  // PUBLISH: fixed header (1 + up to 4 length bytes), topic (2 + its bytes),
  // packet id (2), MQTT 5 property length (up to 4, no properties sent).
  const std::size_t overhead = 1 + 4 + 2 + topic + 2 + 4;
  // A broker limit below the overhead leaves room for nothing; 1 byte keeps "a limit" distinct from "none".
  return maximum_packet_size > overhead ? maximum_packet_size - overhead : 1;
}

transport::outbox_options outbox_settings(const config::agent_config& c) {
  transport::outbox_options box;
  box.window = c.mqtt.max_inflight;
  box.backfill_share = c.spool.backfill_share;
  box.queue_max_messages = c.mqtt.queue_max_messages;
  box.qos = c.mqtt.qos;
  box.sync = c.spool.sync;
  box.sync_interval = c.spool.sync_interval;
  box.max_message_bytes = c.mqtt.max_message_bytes;
  box.refusal_min_delay = c.mqtt.reconnect_min_delay;
  box.refusal_max_delay = c.mqtt.reconnect_max_delay;
  return box;
}

batching batching_settings(const config::agent_config& c) {
  // The schema bounds max_message_bytes to 15 MiB, so it fits a 32-bit size_t (armhf).
  return batching{c.mqtt.max_batch, c.mqtt.publish_interval, static_cast<std::size_t>(c.mqtt.max_message_bytes)};
}

}  // namespace plant::app
