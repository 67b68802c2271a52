#pragma once
/// Envelopes other than telemetry: agent status and shortage alerts, and the
/// replay marker.
#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/sample.hpp"

namespace plant::v1 {
class AgentStatus;
class ShortageAlert;
}  // namespace plant::v1

namespace plant::encoding {

/// Serializes an Envelope{agent, site, seq 0, status}.
std::string encode_status(const std::string& agent, const std::string& site, const v1::AgentStatus& status,
                          epoch_ms created_at);
/// Serializes an Envelope{agent, site, seq, alert}.
std::string encode_alert(const std::string& agent, const std::string& site, std::uint64_t seq,
                         const v1::ShortageAlert& alert, epoch_ms created_at);

/// Marks serialized envelope bytes as replayed by appending field 4 (replayed =
/// true). Protobuf lets a later occurrence of a scalar field win, so the spool
/// keeps the bytes exactly as sealed and a resend costs two bytes, not a re-encode.
void mark_replayed(std::string& envelope_bytes);

}  // namespace plant::encoding
