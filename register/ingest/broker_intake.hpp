#pragma once
/// The register's MQTT side: one subscriber (QoS 1, persistent session,
/// optionally a shared subscription) whose deliveries go into the journal.
///
/// When the PUBACK goes out (Paho C 1.3.12, MQTTAsync): the receive thread reads
/// a PUBLISH and, in MQTTProtocol_handlePublishes, calls Protocol_processPublication
/// first, which hands the message straight to the client's messageArrived callback
/// when the client's message queue is empty, and only after that returns does it
/// send the PUBACK (MQTTPacket_send_puback, or queue it behind pending writes).
/// Paho C++ 1.2's on_message_arrived runs our handler inside that callback and
/// returns true, so the queue never fills. So: our handler returns only once the
/// delivery is durable in the journal, and the broker's PUBACK can never
/// precede that. tests/integration/register_test.cpp checks it from the outside
/// (a journal that cannot write: nothing is acknowledged, nothing is lost).
///
/// A journal that cannot take a delivery (a full disk) blocks the handler, which
/// retries every second: the broker keeps the message meanwhile. Stopping while
/// blocked ends the process without that PUBACK (see application.cpp).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/core/backoff.hpp"
#include "common/core/log.hpp"
#include "common/mqtt/broker_subscriber.hpp"
#include "register/ingest/journal.hpp"

namespace plant::central::ingest {

struct intake_options {
  mqtt_link::subscriber_settings subscriber;  ///< topics are filled from prefix and share group
  std::string topic_prefix = "plant/v1";
  std::string share_group;
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{60000};
};

/// The subscription filters: [$share/<group>/]<prefix>/+/+/{telemetry,status,alerts}.
std::vector<std::string> subscription_topics(const std::string& prefix, const std::string& share_group);

struct intake_stats {
  std::atomic<bool> connected{false};
  std::atomic<std::uint64_t> received{0};        ///< deliveries handed over by the broker
  std::atomic<std::uint64_t> journaled{0};       ///< made durable (and so acknowledged)
  std::atomic<std::uint64_t> journal_failures{0};  ///< attempts the journal refused (retried)
  std::atomic<std::uint64_t> connects{0};
  std::atomic<bool> blocked{false};              ///< the handler is waiting for the journal right now
};

class broker_intake {
 public:
  broker_intake(boost::asio::io_context& io, intake_options options, journal& j);
  ~broker_intake();
  broker_intake(const broker_intake&) = delete;
  broker_intake& operator=(const broker_intake&) = delete;

  void start();
  /// Disconnects (bounded). Returns false when the handler is stuck on the journal: the
  /// caller must then end the process without letting Paho acknowledge.
  bool stop(std::chrono::milliseconds timeout);

  const intake_stats& stats() const { return stats_; }
  std::string last_error() const;

 private:
  void on_message(mqtt_link::received_message&& m);
  void schedule_reconnect();
  void connect();

  boost::asio::io_context& io_;
  intake_options options_;
  journal& journal_;
  intake_stats stats_;
  log::logger log_;       // the io_context thread's
  log::logger paho_log_;  // Paho's receive thread's (a logger is not shared between threads)
  backoff backoff_;
  boost::asio::steady_timer reconnect_timer_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex error_mu_;
  std::string last_error_;
  std::unique_ptr<mqtt_link::broker_subscriber> subscriber_;  // last: destroyed first
};

}  // namespace plant::central::ingest
