#pragma once
/// The components' settings as the config implies them: written once, used at
/// start-up and again at every reload, so the two cannot drift apart.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/app/telemetry_pipeline.hpp"
#include "agent/config/agent_config.hpp"
#include "agent/encoding/telemetry_batcher.hpp"
#include "agent/sparkplug/edge_node.hpp"
#include "agent/transport/mqtt_publisher.hpp"
#include "agent/transport/outbox.hpp"
#include "common/core/log.hpp"

namespace plant::app {

/// agent.log_level as the logger's level.
log::level to_log_level(config::log_level level);

/// Who the envelopes say they come from.
encoding::envelope_identity identity_of(const config::agent_config& c);

/// The memory a store may use for messages the disk cannot take: room for two windows
/// of the largest messages at least, so what is in flight never pushes the rest out.
std::size_t memory_bound_bytes(const config::agent_config& c);

/// The MQTT connection: `password` read from mqtt.password_file, the Last Will made
/// with `started_at` (when this run began).
transport::mqtt_options mqtt_settings(const config::agent_config& c, const std::string& password, epoch_ms started_at);

/// The Sparkplug edge node's identity and limits (mqtt.format = "sparkplug").
sparkplug::edge_node_settings sparkplug_settings(const config::agent_config& c);

/// The outbox's window, queue, QoS, sync and size limit.
transport::outbox_options outbox_settings(const config::agent_config& c);

/// How samples are cut into messages.
batching batching_settings(const config::agent_config& c);

/// The largest payload that fits a broker's Maximum Packet Size on the longest of
/// `topics` (0 = no limit stated, so none here either).
std::size_t payload_limit_for(std::uint32_t maximum_packet_size, const encoding::topic_set& topics);

/// The first line of mqtt.password_file ("" when none); throws std::runtime_error naming the file.
std::string read_password(const config::agent_config& c);

/// A hash of the password and TLS files' contents (never logged), to notice a change on SIGHUP.
std::string connection_fingerprint(const config::agent_config& c);

}  // namespace plant::app
