#pragma once
/// The one fake publisher for unit tests of what publishes (outbox, pipeline):
/// it records every publish, can be connected or not, and can answer retry or
/// drop the way the Paho publisher does when the connection just died or the
/// client refuses a message.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/transport/message_publisher.hpp"

namespace plant::test {

class capture_publisher final : public transport::message_publisher {
 public:
  struct sent {
    std::string topic;
    std::string payload;
    std::uint64_t tag = 0;
    bool retain = false;
    int qos = 0;
  };

  bool connected() const override { return connected_; }
  transport::publish_outcome publish(const std::string& topic, std::string payload, int qos, bool retain,
                                     std::uint64_t tag) override {
    ++attempts;
    if (!connected_) return transport::publish_outcome::retry;
    if (answer) {
      const auto outcome = answer(tag);
      if (outcome != transport::publish_outcome::ok) return outcome;
    }
    log.push_back({topic, std::move(payload), tag, retain, qos});
    if (tag != 0) unacked.push_back(tag);
    return transport::publish_outcome::ok;
  }

  /// Tags published and not yet taken by take_unacked().
  std::vector<std::uint64_t> take_unacked() {
    std::vector<std::uint64_t> out;
    out.swap(unacked);
    return out;
  }

  bool connected_ = false;
  std::vector<sent> log;
  std::vector<std::uint64_t> unacked;
  std::uint64_t attempts = 0;
  /// When set, decides each publish (ok, retry, drop); ok records it as usual.
  std::function<transport::publish_outcome(std::uint64_t tag)> answer;
};

}  // namespace plant::test
