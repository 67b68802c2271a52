#pragma once
/// One MQTT delivery as plant-watch sees it, and how it is decoded into a
/// plant.v1.Envelope.
#include <cstdint>
#include <string>
#include <string_view>

#include "plant/v1/plant.pb.h"

namespace plant::watch {

/// A delivery handed from Paho's thread to the main thread.
struct received_message {
  std::string topic;                ///< the topic it was published on
  std::string payload;              ///< the raw bytes
  bool retained = false;            ///< the broker's retained flag: a state replay, not the live stream
  std::int64_t received_at_us = 0;  ///< wall clock (Unix microseconds) when Paho handed it to us
};

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

}  // namespace plant::watch
