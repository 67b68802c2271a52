#pragma once
/// The transport contract the outbox publishes through. The Paho client is one
/// implementation; unit tests of the outbox use a fake.
#include <cstdint>
#include <functional>
#include <string>

namespace plant::transport {

/// What a publisher reports back. Always invoked on the event-loop thread.
struct publisher_events {
  std::function<void()> connected;
  std::function<void(const std::string& reason)> connection_lost;
  /// The broker acknowledged the message published with `tag` (PUBACK for QoS 1).
  std::function<void(std::uint64_t tag)> delivered;
};

class message_publisher {
 public:
  virtual ~message_publisher() = default;
  /// True between the connected and connection_lost events.
  virtual bool connected() const = 0;
  /// Queues one message on the live connection. Returns false when it could not
  /// be handed over (not connected, client refused); the caller keeps it.
  virtual bool publish(const std::string& topic, std::string payload, int qos, bool retain, std::uint64_t tag) = 0;
};

}  // namespace plant::transport
