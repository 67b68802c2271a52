#pragma once
/// The typed, validated configuration. Only the loader (config_loader.hpp)
/// creates one; everything else reads it. Every key named here is documented
/// with its default in config/plant-agent.toml and in the schema.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/source_registry.hpp"
#include "common/spool/sync_mode.hpp"

namespace plant::config {

using millis = std::chrono::milliseconds;

enum class log_level { debug, info, warn, error };
/// spool.sync, in the order of its choices (the spool's own enum).
using sync_mode = spool::sync_mode;
/// mqtt.protocol, in the order of its choices.
enum class mqtt_protocol { automatic, v5, v3_1_1 };
/// mqtt.format, in the order of its choices.
enum class wire_format { plant, sparkplug };

struct agent_section {
  std::string id;                       ///< agent.id, required
  std::string site;                     ///< agent.site, required
  std::string state_dir = "/var/lib/plant-agent";
  log_level level = log_level::info;    ///< agent.log_level
  millis heartbeat_interval{30000};
};

struct mqtt_section {
  std::string url = "tcp://localhost:1883";   ///< tcp://host:port or ssl://host:port
  std::string client_id;                      ///< empty: "plant-agent-<site>-<id>"
  int qos = 1;
  mqtt_protocol protocol = mqtt_protocol::automatic;
  wire_format format = wire_format::plant;    ///< plant.v1 envelopes, or Sparkplug B 3.0 only
  std::string username;
  std::string password_file;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool tls_verify = true;                     ///< verify the server certificate
  millis keepalive{30000};
  std::string topic_prefix = "plant/v1";
  millis publish_interval{1000};
  std::size_t max_batch = 1000;               ///< samples per telemetry message
  std::size_t max_inflight = 64;              ///< the agent's own window (Paho's is 2x)
  millis connect_timeout{10000};
  millis reconnect_min_delay{1000};
  millis reconnect_max_delay{60000};
  std::size_t queue_max_messages = 1000;      ///< messages held in memory when the spool cannot take them
  std::uint64_t max_message_bytes = 256u << 10;  ///< no MQTT payload is larger (batches are split under it)
  millis shutdown_timeout{5000};              ///< bounded flush on SIGTERM
};

struct spool_section {
  bool enabled = true;
  sync_mode sync = sync_mode::batch;
  millis sync_interval{1000};
  std::uint64_t max_bytes = 256ull << 20;
  millis max_age{7ll * 24 * 3600 * 1000};
  std::uint64_t segment_bytes = 16ull << 20;
  double backfill_share = 0.5;
};

struct health_section {
  std::string listen;                         ///< "" = off; "127.0.0.1:9464"
  millis max_backlog_age{300000};
};

/// [sparkplug]: used when mqtt.format = "sparkplug".
struct sparkplug_section {
  std::string group_id;                       ///< "" = agent.site
  std::string edge_node_id;                   ///< "" = agent.id
  std::string primary_host_id;                ///< "" = no host gating
};

struct shortage_section {
  bool enabled = true;
  millis margin{8ll * 3600 * 1000};           ///< low: stockout within lead_time + margin
  millis rate_half_life{2ll * 3600 * 1000};   ///< how fast the consumption rate adapts
  double surplus_margin = 0.2;                ///< surplus: quantity > reorder_point * (1 + margin)
  millis late_grace{4ll * 3600 * 1000};       ///< a late receipt still counts this long past its due time
};

struct material_config {
  std::string id;
  std::string unit;
  double safety_stock = 0.0;
  std::optional<double> reorder_point;
  millis lead_time{0};
  std::vector<std::string> lines;
  std::optional<millis> margin;               ///< overrides shortage.margin
  std::optional<millis> critical_horizon;     ///< default: lead_time
  std::optional<double> service_level;        ///< set: safety stock from variability (safety_stock then unset)
  millis lead_time_sd{0};                     ///< standard deviation of the lead time, for service_level
};

struct agent_config {
  agent_section agent;
  mqtt_section mqtt;
  spool_section spool;
  health_section health;
  sparkplug_section sparkplug;
  shortage_section shortage;
  std::vector<sources::configured_source> sources;  ///< every [[source.<kind>]] block, in file order
  std::vector<material_config> materials;

  std::string source_path;                    ///< the file it was loaded from
  std::string hash;                           ///< FNV-1a 64 of the effective config, 16 hex digits

  /// The settings of every source of kind `Settings`, in file order (copies; for tests and probes).
  template <class Settings>
  std::vector<Settings> sources_of() const {
    std::vector<Settings> found;
    for (const auto& entry : sources)
      if (const auto* typed = dynamic_cast<const Settings*>(entry.settings.get())) found.push_back(*typed);
    return found;
  }
};

}  // namespace plant::config
