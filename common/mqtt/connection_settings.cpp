#include "common/mqtt/connection_settings.hpp"

#include <MQTTAsync.h>
#include <openssl/opensslv.h>

#include <mqtt/ssl_options.h>
#include <mqtt/will_options.h>

namespace plant::mqtt_link {

bool uses_tls(const std::string& url) { return url.rfind("ssl://", 0) == 0; }

void prepare_paho() {
  // Before any Paho thread exists: MQTTAsync_global_init re-initialises Paho's global mutexes.
  // Every client is made after this call (publisher and subscriber both call it first).
  static const bool prepared = [] {
#if OPENSSL_VERSION_NUMBER >= 0x10100000L
    // OpenSSL 1.1 and later initialise themselves (and read their config) on first use.
    MQTTAsync_init_options options = MQTTAsync_init_options_initializer;
    options.do_openssl_init = 0;
    MQTTAsync_global_init(&options);
#endif
    return true;
  }();
  (void)prepared;
}

const char* to_string(protocol_version version) { return version == protocol_version::v5 ? "5" : "3.1.1"; }

mqtt::connect_options make_connect_options(const connection_settings& s) {
  mqtt::connect_options_builder builder;
  // The version first: Paho resets the clean flags for it. The default
  // (MQTTVERSION_DEFAULT) retries a refused 3.1.1 CONNECT as 3.1: two
  // handshakes per attempt and a misleading second error.
  builder.mqtt_version(static_cast<int>(s.version))
      .keep_alive_interval(s.keepalive)
      .connect_timeout(s.connect_timeout)
      .automatic_reconnect(false);
  if (s.version == protocol_version::v5) {
    // Paho refuses a v5 CONNECT with the 3.1.1 flag set. No Session Expiry
    // property: the session ends with the connection, as a clean 3.1.1 one does.
    builder.clean_session(false).clean_start(s.clean_session);
  } else {
    builder.clean_session(s.clean_session);
  }
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
    // Paho C 1.3.12 with OpenSSL 3 takes the protocol range from the system's OpenSSL
    // configuration and ignores this; prepare_tls refuses to connect if that allows less.
    ssl.set_ssl_version(MQTT_SSL_VERSION_TLS_1_2);
    // No set_error_handler(): Paho C++ 1.2 hands the C library a context pointer
    // into one of the ssl_options copies connect_options makes, and the next TLS
    // error calls through freed memory (a crash seen here). The failure wording in
    // broker_errors.hpp says what to check instead.
    builder.ssl(std::move(ssl));
  }
  return builder.finalize();
}

}  // namespace plant::mqtt_link
