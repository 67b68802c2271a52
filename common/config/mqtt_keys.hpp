#pragma once
/// The MQTT connection keys every program names, validates and documents the
/// same way: the agent's [mqtt] and the register's [mqtt] both start with these
/// and add their own. Stored into any section struct that has members of these
/// names (url, client_id, username, password_file, ca_file, cert_file,
/// key_file, tls_verify, keepalive, connect_timeout, reconnect_min_delay,
/// reconnect_max_delay, topic_prefix).
#include <string>
#include <vector>

#include "common/config/checks.hpp"
#include "common/config/schema.hpp"

namespace plant::config {

/// The keys, in reference order. `client_id_help` says what "" means for the program;
/// every key but the reconnect delays reconnects on SIGHUP.
template <class T>
std::vector<key_spec> mqtt_connection_keys(const std::string& client_id_help) {
  using vt = value_type;
  return {
      make_key("url", vt::string).def(quoted("tcp://localhost:1883")).checked(check_mqtt_url)
          .describe("\"tcp://host[:port]\" (port 1883) or \"ssl://host[:port]\" (port 8883).")
          .stored(store<&T::url>).on_reload_reconnect(),
      make_key("client_id", vt::string).def(quoted("")).describe("MQTT client id; " + client_id_help)
          .stored(store<&T::client_id>).on_reload_reconnect(),
      make_key("username", vt::string).def(quoted("")).describe("\"\" = connect without a user name.")
          .stored(store<&T::username>).on_reload_reconnect(),
      make_key("password_file", vt::path).def(quoted(""))
          .describe("File holding the password (keep it out of this file); \"\" = none.")
          .stored(store<&T::password_file>).on_reload_reconnect(),
      make_key("ca_file", vt::path).def(quoted(""))
          .describe("ssl:// only: CA certificates (PEM) to verify the broker; \"\" = system CAs.")
          .stored(store<&T::ca_file>).on_reload_reconnect(),
      make_key("cert_file", vt::path).def(quoted(""))
          .describe("ssl:// only: client certificate (PEM); needs key_file.").stored(store<&T::cert_file>)
          .on_reload_reconnect(),
      make_key("key_file", vt::path).def(quoted(""))
          .describe("ssl:// only: client private key (PEM); needs cert_file.").stored(store<&T::key_file>)
          .on_reload_reconnect(),
      make_key("tls_verify", vt::boolean).def("true")
          .describe("Verify the broker's certificate and host name.").stored(store<&T::tls_verify>)
          .on_reload_reconnect(),
      make_key("keepalive", vt::duration).def(quoted("30s")).range("1s", "1h").in_whole_seconds()
          .describe("MQTT keep-alive interval (whole seconds).").stored(store<&T::keepalive>).on_reload_reconnect(),
      make_key("connect_timeout", vt::duration).def(quoted("10s")).range("1s", "5m").in_whole_seconds()
          .describe("Give up a connection attempt after this (whole seconds).")
          .stored(store<&T::connect_timeout>).on_reload_reconnect(),
      make_key("reconnect_min_delay", vt::duration).def(quoted("1s")).range("10ms", "1h")
          .describe("First delay before reconnecting; doubles per failure.").stored(store<&T::reconnect_min_delay>),
      make_key("reconnect_max_delay", vt::duration).def(quoted("60s")).range("10ms", "24h")
          .describe("Longest delay before reconnecting; at least reconnect_min_delay.")
          .stored(store<&T::reconnect_max_delay>),
      make_key("topic_prefix", vt::string).def(quoted("plant/v1")).checked(check_topic_prefix)
          .describe("First topic levels of every message.").stored(store<&T::topic_prefix>).on_reload_reconnect(),
  };
}

}  // namespace plant::config
