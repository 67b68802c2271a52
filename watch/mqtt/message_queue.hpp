#pragma once
/// The hand-over from Paho's threads to the main thread: bounded by count and
/// bytes, counting what it drops, and telling the producer when the consumer
/// needs a wake-up (only when the queue goes from idle to busy, so a burst of
/// messages costs one wake-up, not one per message).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "common/mqtt/received_message.hpp"

namespace plant::watch {

/// Deliveries come from the shared subscriber (common/mqtt).
using mqtt_link::received_message;

class message_queue {
 public:
  /// What push() did.
  struct push_result {
    bool accepted = false;  ///< false: the queue was full and the message was dropped
    bool wake = false;      ///< true: the consumer is idle, schedule a drain
  };

  /// Bounds: at most `max_messages` messages and `max_bytes` payload bytes waiting.
  message_queue(std::size_t max_messages, std::size_t max_bytes);

  /// Adds a message (any thread).
  push_result push(received_message&& message);
  /// Moves up to `max` messages into `out` (appended); returns true when more are
  /// waiting. When it returns false the queue is idle again and the next push wakes.
  bool pop_batch(std::vector<received_message>& out, std::size_t max);

  /// Messages dropped because the queue was full.
  std::uint64_t dropped() const;
  /// Messages waiting.
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::deque<received_message> items_;
  std::size_t bytes_ = 0;
  std::size_t max_messages_;
  std::size_t max_bytes_;
  std::uint64_t dropped_ = 0;
  bool drain_scheduled_ = false;
};

}  // namespace plant::watch
