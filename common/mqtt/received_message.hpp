#pragma once
/// One MQTT delivery as a subscriber (plant-watch, plant-register) receives it.
#include <cstdint>
#include <string>
#include <string_view>


namespace plant::mqtt_link {

/// A delivery as Paho's thread hands it over.
struct received_message {
  std::string topic;                ///< the topic it was published on
  std::string payload;              ///< the raw bytes
  bool retained = false;            ///< the broker's retained flag: a state replay, not the live stream
  std::int64_t received_at_us = 0;  ///< wall clock (Unix microseconds) when Paho handed it to us
};

}  // namespace plant::mqtt_link
