#pragma once
/// MQTT brokers other than Mosquitto, for the tests that must hold on any broker:
/// aedes (npm, MQTT 3.1.1, in-memory sessions) run by tests/brokers/aedes_broker.mjs,
/// and RabbitMQ's MQTT plugin (Debian's rabbitmq-server 3.10, MQTT 3.1.1), each a
/// private instance on free loopback ports in its own temp dir.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::test {

enum class broker_kind { aedes, rabbitmq };

/// "aedes" or "rabbitmq".
const char* to_string(broker_kind kind);

class other_broker {
 public:
  explicit other_broker(broker_kind kind);
  /// Stops the broker and, for RabbitMQ, its epmd (a daemon outside the process group).
  ~other_broker();
  other_broker(const other_broker&) = delete;
  other_broker& operator=(const other_broker&) = delete;

  /// Starts the broker and waits until its MQTT listener accepts connections (RabbitMQ
  /// takes 5-15 s); a failure includes the broker's output.
  testing::AssertionResult start();
  /// SIGTERM and wait.
  testing::AssertionResult stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  broker_kind kind() const { return kind_; }
  std::uint16_t port() const { return port_; }
  /// "tcp://127.0.0.1:PORT".
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  /// What the broker printed and logged.
  std::string log_text() const;

 private:
  temp_dir dir_;  // first: outlives the process
  broker_kind kind_;
  std::uint16_t port_ = 0;
  std::uint16_t epmd_port_ = 0;  ///< RabbitMQ's Erlang port mapper, started by the node; 0 for aedes
  child_process process_;
};

}  // namespace plant::test
