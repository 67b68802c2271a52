#pragma once
/// The Paho side of a subscriber (plant-watch, plant-register): one MQTT connection that subscribes on every
/// successful connect and reports what happens through callbacks. It makes one
/// connection attempt per connect() call; the caller owns the retry policy.
/// All callbacks run on Paho's threads.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/mqtt/broker_errors.hpp"
#include "common/mqtt/received_message.hpp"

namespace plant::mqtt_link {

/// Where and how to connect.
struct subscriber_settings {
  std::string url;                        ///< tcp://host:port or ssl://host:port
  std::string client_id;                  ///< must be unique on the broker
  std::string username;                   ///< empty = anonymous
  std::string password;                   ///< sent only with a user name
  std::string ca_file;                    ///< trust store; empty = the system's
  std::string cert_file;                  ///< client certificate (mutual TLS)
  std::string key_file;                   ///< client key; empty = inside cert_file
  bool verify_server = true;              ///< check the broker's certificate
  std::vector<std::string> topics;        ///< filters to subscribe to
  int qos = 1;                            ///< subscription QoS
  bool clean_session = true;              ///< false keeps QoS 1 messages while we are away
  std::chrono::seconds keep_alive{30};    ///< MQTT keep-alive
  std::chrono::seconds connect_timeout{10};  ///< per attempt
  setting_names names;                    ///< how the program's own settings are named in messages
};

/// What the subscriber reports (on Paho's threads).
struct subscriber_events {
  std::function<void()> connected;                                ///< subscriptions were sent
  std::function<void(const std::string& reason)> connect_failed;  ///< the attempt failed, with a readable reason
  std::function<void(const std::string& cause)> connection_lost;  ///< an established connection broke
  std::function<void(const std::string& filter, const std::string& reason)> subscribe_failed;  ///< a filter was refused
  std::function<void(received_message&& message)> message;        ///< a delivery, stamped on arrival
};

class broker_subscriber {
 public:
  /// Creates the client (no network yet); throws std::runtime_error for a URL Paho refuses.
  broker_subscriber(subscriber_settings settings, subscriber_events events);
  /// Disconnects (bounded) and releases the client.
  ~broker_subscriber();
  broker_subscriber(const broker_subscriber&) = delete;
  broker_subscriber& operator=(const broker_subscriber&) = delete;

  /// Starts one connection attempt; the outcome arrives as connected or connect_failed.
  void connect();
  /// Publishes one message without waiting for the broker (a Sparkplug rebirth request);
  /// false when not connected or the client refused it.
  bool publish(const std::string& topic, const std::string& payload, int qos);
  /// Disconnects, waiting at most `timeout`; no callbacks follow once it returns.
  void disconnect(std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace plant::mqtt_link
