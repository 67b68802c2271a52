#pragma once
/// What to tell a technician when a broker connection fails: the one wording of
/// MQTT 3.1.1 CONNACK refusals and Paho return codes for every program, with the
/// settings to check named the way each program names them.
#include <chrono>
#include <string>

namespace plant::mqtt_link {

/// How a program names the settings a refusal points at.
struct setting_names {
  std::string credentials = "mqtt.username and mqtt.password_file";  ///< for "bad user name or password"
  std::string trust_store = "mqtt.ca_file";                          ///< the CA file
  std::string client_certificate = "mqtt.cert_file";                 ///< the client certificate
};

/// A Paho or CONNACK return code as text ("broker refused the connection: not authorized ...").
std::string describe_return_code(int code, const setting_names& names = {});

/// Where a reason code came from: the same code means different things to fix.
enum class reason_context { connect, publish };

/// An MQTT 5 reason code of 0x80 or more (CONNACK, PUBACK, PUBREC, DISCONNECT) as text,
/// e.g. 0x87 "not authorized (check ...)"; `names` as for describe_return_code.
std::string describe_reason_code(int reason_code, reason_context context, const setting_names& names = {});

/// Why a TCP connection to the URL's host and port fails right now ("Connection refused",
/// "Name or service not known", ...), or "" when it succeeds. Paho reports only "TCP/TLS
/// connect failure", which does not tell a technician what to fix.
std::string probe_tcp(const std::string& url, std::chrono::milliseconds timeout);

/// What to check when a TLS connect fails and Paho cannot say why (no probing: safe on an event loop).
std::string tls_failure_hint(bool has_ca_file, bool has_client_certificate, const setting_names& names = {});

/// A failed connect as text (it may probe the network for up to 2 s: not for an event-loop thread): the CONNACK refusal, the network reason found by probing, or
/// for TLS what to check. `has_ca_file` / `has_client_certificate` say which TLS files are set,
/// so the hint names only what is there (or the system CAs).
std::string explain_connect_failure(int code, const std::string& paho_message, const std::string& url,
                                    bool has_ca_file, bool has_client_certificate, const setting_names& names = {});

}  // namespace plant::mqtt_link
