#pragma once
/// The agent's status message (birth, heartbeat, reload, shutdown, and the Last
/// Will) from the one stats snapshot /metrics renders too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/app/agent_stats.hpp"
#include "agent/encoding/telemetry_batcher.hpp"

namespace plant::encoding {

/// Mirrors plant.v1.AgentStatus.State.
enum class agent_state : std::uint8_t { online = 1, offline = 2 };
/// Mirrors plant.v1.AgentStatus.Reason.
enum class status_reason : std::uint8_t { birth = 1, heartbeat = 2, shutdown = 3, connection_lost = 4, reload = 5 };

/// Serializes Envelope{agent, site, seq 0, status} from `stats`. When it would pass
/// `max_bytes`, the materials picture is left out (alerts carry it too) and
/// `trimmed` says so.
std::string encode_status(const envelope_identity& identity, const app::agent_stats& stats, agent_state state,
                          status_reason reason, epoch_ms now, std::size_t max_bytes, bool* trimmed = nullptr);

/// The Last Will: offline, connection lost, with what is known at connect time.
std::string encode_last_will(const envelope_identity& identity, const std::string& version,
                             const std::string& config_hash, epoch_ms started_at);

}  // namespace plant::encoding
