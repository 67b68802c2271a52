#pragma once
/// The agent's MQTT topics: <prefix>/<site>/<agent>/{telemetry,alerts,status}.
#include <cstdint>
#include <string>

namespace plant::encoding {

struct topic_set {
  std::string telemetry;  ///< sequenced TelemetryBatch envelopes, not retained
  std::string alerts;     ///< sequenced ShortageAlert envelopes, retained
  std::string status;     ///< AgentStatus envelopes, retained; also the Last Will topic
};

/// Builds the topics for one agent.
topic_set make_topics(const std::string& prefix, const std::string& site, const std::string& agent);

/// The spool and outbox know messages by stream, not by topic, so a reload
/// that changes the prefix re-targets the backlog too.
enum class stream : std::uint8_t { telemetry = 0, alert = 1 };

/// The topic for a stream.
const std::string& topic_for(const topic_set& topics, stream s);
/// Alerts are retained so a late subscriber sees the current picture.
inline bool retained(stream s) { return s == stream::alert; }

}  // namespace plant::encoding
