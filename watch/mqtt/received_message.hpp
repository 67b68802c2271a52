#pragma once
/// One MQTT delivery as plant-watch sees it, and how it is decoded into a
/// plant.v1.Envelope.
#include <cstdint>
#include <string>
#include <string_view>


namespace plant::watch {

/// A delivery handed from Paho's thread to the main thread.
struct received_message {
  std::string topic;                ///< the topic it was published on
  std::string payload;              ///< the raw bytes
  bool retained = false;            ///< the broker's retained flag: a state replay, not the live stream
  std::int64_t received_at_us = 0;  ///< wall clock (Unix microseconds) when Paho handed it to us
};

}  // namespace plant::watch
