#pragma once
/// The transport contract the outbox publishes through. The Paho client is one
/// implementation; unit tests of the outbox use a fake.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/transport/publish_refusal.hpp"

namespace plant::transport {

/// What happened to one publish.
enum class publish_outcome : std::uint8_t {
  ok,     ///< handed to the connection; `delivered(tag)` follows when the broker acknowledges it
  retry,  ///< not now (not connected, the client's buffer is full); try again after the next `connected`
  drop,   ///< the message itself was refused and never will be sent (too large, invalid topic)
};

/// "ok", "retry", "drop".
std::string_view to_string(publish_outcome outcome);

/// What a publisher reports back. Always invoked on the event-loop thread.
struct publisher_events {
  std::function<void()> connected;
  std::function<void(const std::string& reason)> connection_lost;
  /// The broker acknowledged the message published with `tag` (PUBACK for QoS 1).
  std::function<void(std::uint64_t tag)> delivered;
  /// The broker refused the message published with `tag` (MQTT 5 only: a PUBACK or PUBREC
  /// with a reason code of 0x80 or more). The connection stays up.
  std::function<void(std::uint64_t tag, const publish_refusal& refusal)> refused;
  /// A message arrived on one of the connection's subscriptions (mqtt_options::subscriptions).
  std::function<void(const std::string& topic, const std::string& payload)> message;
  /// The broker accepted the CONNECT (CONNACK), before `connected`: the Will of that CONNECT
  /// now belongs to a session the broker holds.
  std::function<void()> session_started;
  /// A publish that answered retry can be tried again now, though the connection stayed up.
  std::function<void()> writable;
};

class message_publisher {
 public:
  virtual ~message_publisher() = default;
  /// True between the connected and connection_lost events (and false at once after a publish
  /// found the connection gone, before connection_lost arrives).
  virtual bool connected() const = 0;
  /// Hands one message to the connection; see publish_outcome.
  virtual publish_outcome publish(const std::string& topic, std::string payload, int qos, bool retain,
                                  std::uint64_t tag) = 0;
};

}  // namespace plant::transport
