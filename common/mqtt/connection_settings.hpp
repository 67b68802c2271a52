#pragma once
/// One MQTT connection's settings and how they become Paho connect options,
/// written once for the agent, plant-watch and the register: one exact protocol
/// version per attempt (3.1.1 or 5, never Paho's silent 3.1 retry), no automatic reconnect (each program owns its retry policy), and TLS without
/// Paho C++ 1.2's error handler (it keeps a pointer into a destroyed copy).
#include <chrono>
#include <optional>
#include <string>

#include <mqtt/connect_options.h>

namespace plant::mqtt_link {

/// The Last Will the broker publishes if the connection dies.
struct will_message {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retained = true;
};

/// The protocol levels in a CONNECT packet (and Paho's MQTTVERSION_* values).
enum class protocol_version : int { v3_1_1 = 4, v5 = 5 };

/// "3.1.1" or "5".
const char* to_string(protocol_version version);

struct connection_settings {
  std::string url;                        ///< tcp://host:port or ssl://host:port
  std::string client_id;
  std::string username;                   ///< empty = anonymous
  std::string password;                   ///< sent only with a user name; never logged
  std::string ca_file;                    ///< ssl://: trust store; empty = the system's CAs
  std::string cert_file;                  ///< ssl://: client certificate (mutual TLS)
  std::string key_file;                   ///< ssl://: its key
  bool tls_verify = true;                 ///< check the broker's certificate and host name
  std::chrono::seconds keepalive{30};
  std::chrono::seconds connect_timeout{10};
  protocol_version version = protocol_version::v3_1_1;
  bool clean_session = true;              ///< MQTT 5: clean start, with a session that ends with the connection
  int max_inflight = 0;                   ///< Paho's own limit; 0 = Paho's default
  std::optional<will_message> will;
};

/// The Paho connect options for `settings`.
mqtt::connect_options make_connect_options(const connection_settings& settings);

/// True for an ssl:// URL.
bool uses_tls(const std::string& url);

/// Tells Paho, once per process and before its first client, to leave OpenSSL's
/// initialisation to OpenSSL (which initialises itself on first use since 1.1):
/// Paho's own init loads every algorithm and error string at the first client,
/// about 1.6 MiB of resident pages in a process that never opens a TLS connection.
void prepare_paho();

}  // namespace plant::mqtt_link
