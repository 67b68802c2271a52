#include "watch/mqtt/message_queue.hpp"

#include <utility>

namespace plant::watch {

message_queue::message_queue(std::size_t max_messages, std::size_t max_bytes)
    : max_messages_(max_messages), max_bytes_(max_bytes) {}

message_queue::push_result message_queue::push(received_message&& message) {
  push_result result;
  const std::size_t size = message.payload.size() + message.topic.size();
  std::lock_guard<std::mutex> lock(mutex_);
  // One oversized message is still taken into an empty queue, or it could never pass.
  if (items_.size() >= max_messages_ || (!items_.empty() && bytes_ + size > max_bytes_)) {
    ++dropped_;
    return result;
  }
  items_.push_back(std::move(message));
  bytes_ += size;
  result.accepted = true;
  if (!drain_scheduled_) {
    drain_scheduled_ = true;
    result.wake = true;
  }
  return result;
}

bool message_queue::pop_batch(std::vector<received_message>& out, std::size_t max) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 0; i < max && !items_.empty(); ++i) {
    bytes_ -= items_.front().payload.size() + items_.front().topic.size();
    out.push_back(std::move(items_.front()));
    items_.pop_front();
  }
  if (items_.empty()) {
    drain_scheduled_ = false;
    return false;
  }
  return true;
}

std::uint64_t message_queue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

std::size_t message_queue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return items_.size();
}

}  // namespace plant::watch
