#pragma once
/// Envelopes other than telemetry: agent status and shortage alerts, and the
/// replay marker.
#include <cstdint>
#include <string>
#include <vector>

#include "common/core/sample.hpp"

namespace plant::v1 {
class AgentStatus;
class MaterialStatus;
class ShortageAlert;
}  // namespace plant::v1

namespace plant::edge {
struct material_status;
struct shortage_alert;
}  // namespace plant::edge

namespace plant::encoding {

/// Serializes an Envelope{agent, site, seq 0, status}.
std::string encode_status(const std::string& agent, const std::string& site, const v1::AgentStatus& status,
                          epoch_ms created_at);
/// Serializes an Envelope{agent, site, seq, alert}.
std::string encode_alert(const std::string& agent, const std::string& site, std::uint64_t seq,
                         const v1::ShortageAlert& alert, epoch_ms created_at);

/// Copies the detector's view of one material into its wire form.
void fill_material_status(v1::MaterialStatus& out, const edge::material_status& in);
/// Serializes an alert from the detector as Envelope{agent, site, seq, alert}.
std::string encode_alert(const std::string& agent, const std::string& site, std::uint64_t seq,
                         const edge::shortage_alert& alert, epoch_ms created_at);

/// Marks serialized envelope bytes as replayed by appending field 4 (replayed =
/// true). Protobuf lets a later occurrence of a scalar field win, so the spool
/// keeps the bytes exactly as sealed and a resend costs two bytes, not a re-encode.
void mark_replayed(std::string& envelope_bytes);

}  // namespace plant::encoding
