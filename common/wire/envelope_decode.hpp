#pragma once
/// plant.v1 on the wire: which agent a message comes from (its topic and its
/// envelope), and decoding that refuses what a consumer cannot afford: a
/// message that is not an Envelope, or one whose decoding would cost far more
/// memory than its bytes (many empty repeated elements).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plant/v1/plant.pb.h"

namespace plant::wire {

/// The `<site>/<agent>/<kind>` part of `<prefix>/<site>/<agent>/<kind>`.
struct topic_parts {
  std::string site;   ///< empty when the topic has fewer than four levels
  std::string agent;  ///< empty when the topic has fewer than four levels
  std::string kind;   ///< "telemetry", "alerts", "status" or anything else the topic ends with
};

/// Splits a topic into its last three levels; the prefix may have any number of levels.
topic_parts split_topic(std::string_view topic);

/// Parses `payload` into `out` (cleared first). On failure returns false and sets
/// `reason` ("not a plant.v1.Envelope", "an Envelope without telemetry, status or alert").
bool decode_envelope(std::string_view payload, plant::v1::Envelope& out, std::string& reason);

/// The site and agent a message belongs to: the envelope's own fields, else the topic's levels.
void resolve_origin(const plant::v1::Envelope& envelope, std::string_view topic, std::string& site,
                    std::string& agent);

/// Why a message must not be taken as its envelope's agent's, or "" when it may. The
/// topic is what a broker's ACL vouches for (only agent A may write under
/// <prefix>/<site A>/<agent A>/), so an envelope that names another site or agent than
/// its topic's levels is a forgery or a misconfigured agent, never that agent's data:
/// "the envelope names site 'b' agent 'x', the topic belongs to site 'a' agent 'y'".
std::string origin_conflict(const plant::v1::Envelope& envelope, std::string_view topic);

/// What decoding one message may cost at most.
struct decode_limits {
  std::size_t max_payload_bytes = 16u << 20;   ///< larger payloads are refused unread
  std::size_t max_elements = 250000;           ///< repeated elements (samples, sources, ranges, materials)
};

/// Counts the repeated elements of an Envelope's body from the wire format, without
/// decoding it; false (with `reason`) when it is over `limits` or not well formed.
bool affordable(std::string_view payload, const decode_limits& limits, std::string& reason);

}  // namespace plant::wire
