#include "common/mqtt/connection_settings.hpp"

#include <mqtt/ssl_options.h>
#include <mqtt/will_options.h>

namespace plant::mqtt_link {

bool uses_tls(const std::string& url) { return url.rfind("ssl://", 0) == 0; }

mqtt::connect_options make_connect_options(const connection_settings& s) {
  mqtt::connect_options_builder builder;
  builder.clean_session(s.clean_session)
      .keep_alive_interval(s.keepalive)
      .connect_timeout(s.connect_timeout)
      .automatic_reconnect(false)
      // The default (MQTTVERSION_DEFAULT) retries a refused 3.1.1 CONNECT as 3.1:
      // two handshakes per attempt and a misleading second error.
      .mqtt_version(MQTTVERSION_3_1_1);
  if (s.max_inflight > 0) builder.max_inflight(s.max_inflight);
  if (s.will) builder.will(mqtt::will_options(s.will->topic, s.will->payload, s.will->qos, s.will->retained));
  if (!s.username.empty()) {
    builder.user_name(s.username);
    if (!s.password.empty()) builder.password(s.password);
  }
  if (uses_tls(s.url)) {
    mqtt::ssl_options ssl;
    if (!s.ca_file.empty()) ssl.set_trust_store(s.ca_file);
    if (!s.cert_file.empty()) ssl.set_key_store(s.cert_file);
    if (!s.key_file.empty()) ssl.set_private_key(s.key_file);
    ssl.set_enable_server_cert_auth(s.tls_verify);
    ssl.set_verify(s.tls_verify);  // also checks the host name against the certificate
    // No set_error_handler(): Paho C++ 1.2 hands the C library a context pointer
    // into one of the ssl_options copies connect_options makes, and the next TLS
    // error calls through freed memory (a crash seen here). The failure wording in
    // broker_errors.hpp says what to check instead.
    builder.ssl(std::move(ssl));
  }
  return builder.finalize();
}

}  // namespace plant::mqtt_link
