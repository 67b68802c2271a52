#include "agent/transport/mqtt_publisher.hpp"

#include <boost/asio/post.hpp>
#include <mqtt/async_client.h>

#include <algorithm>

namespace plant::transport {

std::string describe_mqtt_code(int code) {
  switch (code) {
    // CONNACK return codes (MQTT 3.1.1)
    case 1: return "broker refused the connection: unacceptable protocol version";
    case 2: return "broker refused the connection: client id rejected";
    case 3: return "broker refused the connection: server unavailable";
    case 4: return "broker refused the connection: bad username or password (check mqtt.username and mqtt.password_file)";
    case 5: return "broker refused the connection: not authorized (check mqtt.username and mqtt.password_file)";
    // Paho client codes
    case -1: return "connection failed (refused, unreachable, or TLS handshake failed)";
    case -2: return "persistence error";
    case -3: return "disconnected";
    case -4: return "too many messages in flight";
    case -5: return "bad UTF-8 string";
    case -6: return "NULL parameter";
    case -8: return "bad structure";
    case -9: return "bad QoS";
    case -10: return "SSL not supported by the client library";
    case -11: return "bad MQTT version";
    case -12: return "no more messages can be buffered";
    case -13: return "bad protocol in URL";
    case -14: return "connection timed out";
    case -15: return "operation incomplete";
    default: return "error " + std::to_string(code);
  }
}

// One listener object per operation kind; Paho keeps a reference, so it lives
// as long as the client. Every callback is posted to the loop.
class mqtt_publisher::paho_listener final : public mqtt::iaction_listener {
 public:
  enum class kind { connect, publish };
  paho_listener(mqtt_publisher& owner, kind k) : owner_(owner), kind_(k), alive_(owner.alive_) {}

  void on_success(const mqtt::token& tok) override {
    std::weak_ptr<bool> alive = alive_;
    auto* owner = &owner_;
    // The context carries the connect attempt or the publish id: a number, not a pointer.
    auto context = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(tok.get_user_context()));
    if (kind_ == kind::connect) {
      boost::asio::post(owner_.io_, [alive, owner, context] {
        if (alive.lock()) owner->on_connect_success(context);
      });
    } else {
      boost::asio::post(owner_.io_, [alive, owner, context] {
        if (alive.lock()) owner->on_delivery(context);
      });
    }
  }

  void on_failure(const mqtt::token& tok) override {
    if (kind_ != kind::connect) return;  // a failed publish is resent after the reconnect that follows
    std::weak_ptr<bool> alive = alive_;
    auto* owner = &owner_;
    auto attempt = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(tok.get_user_context()));
    int code = tok.get_return_code();
    boost::asio::post(owner_.io_, [alive, owner, attempt, code] {
      if (alive.lock()) owner->on_connect_failure(attempt, code);
    });
  }

 private:
  mqtt_publisher& owner_;
  kind kind_;
  std::weak_ptr<bool> alive_;
};

mqtt_publisher::mqtt_publisher(boost::asio::io_context& io, mqtt_options options, publisher_events events)
    : io_(io),
      options_(std::move(options)),
      events_(std::move(events)),
      log_("mqtt", options_.client_id),
      reconnect_timer_(io),
      connect_deadline_(io),
      backoff_(options_.reconnect_min_delay, options_.reconnect_max_delay,
               std::hash<std::string>{}(options_.client_id) ^
                   static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())),
      alive_(std::make_shared<bool>(true)) {
  connect_listener_ = std::make_unique<paho_listener>(*this, paho_listener::kind::connect);
  publish_listener_ = std::make_unique<paho_listener>(*this, paho_listener::kind::publish);
  create_client();
}

void mqtt_publisher::create_client() {
  mqtt::create_options create(MQTTVERSION_3_1_1);
  // No Paho persistence: the agent's spool owns durability (TOOLCHAIN trap 2).
  client_ = std::make_unique<mqtt::async_client>(options_.url, options_.client_id, create, nullptr);
  std::weak_ptr<bool> alive = alive_;
  client_->set_connection_lost_handler([this, alive](const std::string& cause) {
    boost::asio::post(io_, [this, alive, cause] {
      if (alive.lock()) on_connection_lost(cause);
    });
  });
}

mqtt_publisher::~mqtt_publisher() {
  alive_.reset();
  reconnect_timer_.cancel();
  if (!client_) return;
  // Every Paho call here can throw (setCallbacks fails while a connect is in
  // progress), and a destructor must not: the broker notices the closed socket.
  try {
    client_->disable_callbacks();
  } catch (const std::exception&) {
  }
  try {
    if (client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::milliseconds(200));
  } catch (const std::exception&) {
  }
}

void mqtt_publisher::start() {
  stopping_ = false;
  connect_now();
}

void mqtt_publisher::connect_now() {
  if (stopping_ || connecting_ || connected_) return;
  mqtt::connect_options_builder builder;
  builder.clean_session(true)  // in-flight messages are resent from the spool, not by Paho
      .keep_alive_interval(std::chrono::seconds(std::max<long long>(1, options_.keepalive.count() / 1000)))
      .connect_timeout(std::chrono::seconds(std::max<long long>(1, options_.connect_timeout.count() / 1000)))
      // Debian's Paho C 1.3.12 stalls once its in-flight count reaches
      // max_inflight (TOOLCHAIN trap 1), so keep it strictly above our window.
      .max_inflight(std::min(65535, options_.window * 2 + 8))
      .automatic_reconnect(false)
      // The default (MQTTVERSION_DEFAULT) retries a refused 3.1.1 CONNECT as 3.1:
      // two handshakes per attempt and a misleading second error.
      .mqtt_version(MQTTVERSION_3_1_1);
  if (!options_.will_topic.empty()) {
    mqtt::will_options will(options_.will_topic, options_.will_payload, 1, true);
    builder.will(std::move(will));
  }
  if (!options_.username.empty()) builder.user_name(options_.username);
  if (!options_.password.empty()) builder.password(options_.password);
  if (options_.url.rfind("ssl://", 0) == 0) {
    mqtt::ssl_options ssl;
    if (!options_.ca_file.empty()) ssl.set_trust_store(options_.ca_file);
    if (!options_.cert_file.empty()) ssl.set_key_store(options_.cert_file);
    if (!options_.key_file.empty()) ssl.set_private_key(options_.key_file);
    ssl.set_enable_server_cert_auth(options_.tls_verify);
    ssl.set_verify(options_.tls_verify);  // also checks the host name against the certificate
    // No set_error_handler(): Paho C++ 1.2 hands the C library a context pointer
    // into one of the ssl_options copies connect_options makes, and the next TLS
    // error calls through freed memory (a crash seen here). The failure reason
    // below says what to check instead.
    builder.ssl(std::move(ssl));
  }
  connecting_ = true;
  std::uint32_t attempt = ++connect_attempt_;
  log_.debug("connecting to " + options_.url + " (attempt " + std::to_string(attempt) + ")");
  try {
    client_->connect(builder.finalize(), reinterpret_cast<void*>(static_cast<std::uintptr_t>(attempt)),
                     *connect_listener_);
  } catch (const mqtt::exception& e) {
    connecting_ = false;
    schedule_reconnect(describe_mqtt_code(e.get_return_code()));
    return;
  }
  connect_deadline_.expires_after(options_.connect_timeout + std::chrono::seconds(2));
  std::weak_ptr<bool> alive = alive_;
  connect_deadline_.async_wait([this, alive, attempt](const boost::system::error_code& ec) {
    if (!ec && alive.lock()) on_connect_deadline(attempt);
  });
}

void mqtt_publisher::on_connect_deadline(std::uint32_t attempt) {
  if (!connecting_ || attempt != connect_attempt_) return;
  // Paho never reported back on this attempt: abandon that client object (its
  // late callbacks carry a stale attempt number) and start over with a new one.
  connecting_ = false;
  log_.warn("connect attempt to " + options_.url + " did not finish within " +
            std::to_string(options_.connect_timeout.count() + 2000) + " ms; starting a fresh client");
  try {
    client_->disable_callbacks();
  } catch (const std::exception&) {
  }
  // Destroying a client whose connect is stuck can block inside Paho; keep it
  // (a few KB each, counted) rather than risk stalling the event loop.
  abandoned_.push_back(std::move(client_));
  if (abandoned_.size() > max_abandoned_clients) abandoned_.erase(abandoned_.begin());
  create_client();
  schedule_reconnect("connect attempt timed out");
}

void mqtt_publisher::on_connect_success(std::uint32_t attempt) {
  if (attempt != connect_attempt_) return;  // from an abandoned attempt
  connect_deadline_.cancel();
  connecting_ = false;
  connected_ = true;
  if (ever_connected_) ++reconnects_;
  ever_connected_ = true;
  last_error_.clear();
  backoff_.reset();
  in_flight_.clear();
  log_.info("connected to " + options_.url);
  if (events_.connected) events_.connected();
}

void mqtt_publisher::on_connect_failure(std::uint32_t attempt, int code) {
  if (attempt != connect_attempt_) return;
  connect_deadline_.cancel();
  connecting_ = false;
  std::string reason = describe_mqtt_code(code);
  if (code == -1 && options_.url.rfind("ssl://", 0) == 0) {
    reason = "TCP or TLS connect failed: check that the broker listens with TLS there, that mqtt.ca_file signed "
             "its certificate for this host name" +
             std::string(options_.cert_file.empty() ? "" : ", and that it accepts mqtt.cert_file");
  }
  schedule_reconnect(reason);
}

void mqtt_publisher::on_connection_lost(const std::string& cause) {
  if (!connected_) return;
  connected_ = false;
  in_flight_.clear();
  std::string reason = cause.empty() ? "connection lost" : "connection lost: " + cause;
  if (events_.connection_lost) events_.connection_lost(reason);
  schedule_reconnect(reason);
}

void mqtt_publisher::schedule_reconnect(const std::string& reason) {
  last_error_ = reason;
  if (stopping_) return;
  auto delay = backoff_.next();
  // The same reason again and again (a dead broker) is one line a minute, not one per attempt.
  log_.limited(log::level::warn, reason,
               "cannot reach " + options_.url + ": " + reason + "; retrying in " +
                   std::to_string(delay.count()) + " ms (attempt " + std::to_string(backoff_.attempts()) + ")");
  reconnect_timer_.expires_after(delay);
  std::weak_ptr<bool> alive = alive_;
  reconnect_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    connect_now();
  });
}

bool mqtt_publisher::publish(const std::string& topic, std::string payload, int qos, bool retain,
                             std::uint64_t tag) {
  if (!connected_) return false;
  std::uint32_t id = next_publish_id_++;
  if (next_publish_id_ == 0) next_publish_id_ = 1;
  try {
    auto message = mqtt::make_message(topic, std::move(payload), qos, retain);
    client_->publish(message, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)), *publish_listener_);
  } catch (const mqtt::exception& e) {
    log_.limited(log::level::warn, "publish", "publish to " + topic + " failed: " + describe_mqtt_code(e.get_return_code()));
    return false;
  }
  in_flight_.emplace(id, tag);
  return true;
}

void mqtt_publisher::on_delivery(std::uint32_t publish_id) {
  auto found = in_flight_.find(publish_id);
  if (found == in_flight_.end()) return;  // from a connection that has since dropped
  std::uint64_t tag = found->second;
  in_flight_.erase(found);
  if (events_.delivered) events_.delivered(tag);
}

void mqtt_publisher::stop(std::chrono::milliseconds timeout) {
  stopping_ = true;
  reconnect_timer_.cancel();
  connect_deadline_.cancel();
  if (!client_ || !connected_) return;
  try {
    // A clean DISCONNECT: the broker discards the Last Will, so the retained
    // status stays whatever we published last (the offline shutdown status).
    client_->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout + std::chrono::milliseconds(500));
  } catch (const mqtt::exception& e) {
    log_.warn(std::string("disconnect: ") + describe_mqtt_code(e.get_return_code()));
  }
  connected_ = false;
  in_flight_.clear();
}

}  // namespace plant::transport
