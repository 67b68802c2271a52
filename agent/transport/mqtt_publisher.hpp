#pragma once
/// message_publisher over the Paho C++ async client.
///
/// Paho's own file persistence and automatic reconnect stay off: the agent owns
/// durability (the spool) and reconnect policy (backoff with jitter). Paho's
/// callbacks run on Paho's threads; each one is posted into the io_context and
/// nothing else is touched from them.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/backoff.hpp"
#include "common/core/clock.hpp"
#include "common/core/log.hpp"
#include "agent/config/agent_config.hpp"
#include "agent/transport/message_publisher.hpp"
#include "common/mqtt/connection_settings.hpp"
#include "common/mqtt/tls_files.hpp"

namespace mqtt {
class async_client;
}

namespace plant::transport {

/// What the broker said about itself when the connection was made. MQTT 5
/// brokers state limits in their CONNACK; under 3.1.1 nothing is known.
struct broker_limits {
  mqtt_link::protocol_version version = mqtt_link::protocol_version::v3_1_1;
  /// QoS 1 and 2 publishes it accepts unacknowledged at once (Receive Maximum).
  std::uint32_t receive_maximum = 65535;
  /// The largest packet it accepts (Maximum Packet Size); 0 = not stated.
  std::uint32_t maximum_packet_size = 0;
};

struct mqtt_options {
  mqtt_link::connection_settings connection;  ///< url, credentials, TLS, keepalive, Last Will
  /// Which version to speak; `automatic` starts with 5 and keeps to 3.1.1 once a broker refuses 5.
  config::mqtt_protocol protocol = config::mqtt_protocol::automatic;
  std::chrono::milliseconds reconnect_min_delay{1000};
  std::chrono::milliseconds reconnect_max_delay{60000};
  int window = 64;                 ///< the agent's in-flight window; Paho's max_inflight is set above it
  /// Asked before every connect attempt for the Last Will to put in that CONNECT (Sparkplug's
  /// NDEATH carries the session's bdSeq); unset = connection.will for every attempt.
  std::function<std::optional<mqtt_link::will_message>()> will_for_attempt;
  /// Filters subscribed (QoS 1) on every connect; `connected` is reported once the broker has
  /// granted them, and each delivery arrives as publisher_events::message.
  std::vector<std::string> subscriptions;
};

class mqtt_publisher final : public message_publisher {
 public:
  mqtt_publisher(boost::asio::io_context& io, mqtt_options options, publisher_events events);
  ~mqtt_publisher() override;

  /// Starts connecting; retries with backoff until stop().
  void start();
  /// Disconnects cleanly (no Last Will), waiting at most `timeout`.
  void stop(std::chrono::milliseconds timeout);

  bool connected() const override { return connected_; }
  publish_outcome publish(const std::string& topic, std::string payload, int qos, bool retain,
                          std::uint64_t tag) override;

  /// Reconnects since start (the first connect is not one).
  std::uint64_t reconnects() const { return reconnects_; }
  /// Why the last connect attempt or the connection failed; empty when connected.
  const std::string& last_error() const { return last_error_; }
  const std::string& url() const { return options_.connection.url; }
  /// The current (or last) connection's broker limits.
  const broker_limits& limits() const { return limits_; }
  /// New settings (a reload): the connection is closed and made again with them.
  void reconfigure(mqtt_options options);
  /// Ends the current session with a clean DISCONNECT (the broker discards the Will) and
  /// starts a new one, at once or after the backoff; `reason` is reported as the loss.
  void restart_session(const std::string& reason, bool at_once);
  /// ssl://: the CA, certificate and key files as last read (before every connect
  /// attempt, and by check_tls_files); empty for tcp://.
  const mqtt_link::tls_files& tls_files() const { return tls_; }
  /// Reads the TLS files again and warns (once a day) of a certificate within 30 days of
  /// expiry. A change on disk is used at the next connect attempt either way.
  void check_tls_files();
  /// Subscribed messages larger than this are not read.
  static constexpr std::size_t max_subscribed_payload_bytes = 64u << 10;

 private:
  class paho_listener;
  void connect_now();
  void create_client();
  void on_connect_success(std::uint32_t attempt, broker_limits limits);
  void on_connect_failure(std::uint32_t attempt, int code, int reason_code);
  /// True (and switched to 3.1.1) when `automatic` meets a broker that refuses MQTT 5.
  bool fall_back_to_3_1_1(int code, int reason_code);
  void on_connect_deadline(std::uint32_t attempt);
  void on_connection_lost(const std::string& cause);
  void abandon_client(const std::string& why);
  void lose_connection(const std::string& reason);
  void on_delivery(std::uint32_t publish_id);
  void on_subscribed(std::uint32_t attempt, bool granted, const std::string& why);
  void report_connected();
  void on_publish_refused(std::uint32_t publish_id, int reason_code);
  void schedule_reconnect(const std::string& reason);
  /// Reads the TLS files for the next attempt; a problem with them, or "".
  std::string prepare_tls();
  void warn_of_expiry();

  boost::asio::io_context& io_;
  mqtt_options options_;
  publisher_events events_;
  log::logger log_;
  std::unique_ptr<mqtt::async_client> client_;
  std::unique_ptr<paho_listener> connect_listener_;
  std::unique_ptr<paho_listener> publish_listener_;
  std::unique_ptr<paho_listener> subscribe_listener_;
  loop_timer reconnect_timer_;
  // Paho C 1.3.12 can leave a TLS connect attempt hanging forever (after an
  // "unknown CA" failure, the next attempt never reports back), so every
  // attempt has our own deadline too.
  loop_timer connect_deadline_;
  std::uint32_t connect_attempt_ = 0;
  static constexpr std::size_t max_abandoned_clients = 4;
  std::vector<std::unique_ptr<mqtt::async_client>> abandoned_;
  backoff backoff_;
  // Handlers posted from Paho threads check this before touching `this`.
  std::shared_ptr<bool> alive_;
  bool connected_ = false;
  bool connecting_ = false;
  bool stopping_ = false;
  bool ever_connected_ = false;
  bool subscribed_ = false;   ///< this connection's subscriptions were granted
  bool lost_handled_ = false;  ///< this connection's loss was reported (by Paho or by a failed publish)
  std::uint64_t reconnects_ = 0;
  mqtt_link::protocol_version version_ = mqtt_link::protocol_version::v5;  ///< spoken by the current client
  broker_limits limits_;
  std::string last_error_;
  // Publishes in flight on the current connection: publish id -> caller's tag.
  // Cleared when the connection drops, so late callbacks for an old connection
  // find nothing and are ignored.
  std::unordered_map<std::uint32_t, std::uint64_t> in_flight_;
  std::uint32_t next_publish_id_ = 1;
  mqtt_link::tls_files tls_;
  // The TLS files the current Paho client connected with: when they change on
  // disk, the next attempt is made with a new client, so Paho builds its TLS
  // context from the new files whatever it caches.
  std::optional<mqtt_link::tls_files> client_tls_;
  std::optional<loop_clock::time_point> expiry_warned_at_;
};

}  // namespace plant::transport
