#include "agent/transport/mqtt_publisher.hpp"

#include <boost/asio/post.hpp>
#include <mqtt/async_client.h>

#include <algorithm>

#include "common/mqtt/broker_errors.hpp"

namespace plant::transport {

// One listener object per operation kind; Paho keeps a reference, so it lives
// as long as the client. Every callback is posted to the loop.
class mqtt_publisher::paho_listener final : public mqtt::iaction_listener {
 public:
  enum class kind { connect, publish, subscribe };
  paho_listener(mqtt_publisher& owner, kind k) : owner_(owner), kind_(k), alive_(owner.alive_) {}

  void on_success(const mqtt::token& tok) override {
    std::weak_ptr<bool> alive = alive_;
    auto* owner = &owner_;
    // The context carries the connect attempt or the publish id: a number, not a pointer.
    auto context = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(tok.get_user_context()));
    if (kind_ == kind::connect) {
      broker_limits limits = limits_of(tok);
      boost::asio::post(owner_.io_, [alive, owner, context, limits] {
        if (alive.lock()) owner->on_connect_success(context, limits);
      });
    } else if (kind_ == kind::subscribe) {
      const bool granted = all_granted(tok);
      boost::asio::post(owner_.io_, [alive, owner, context, granted] {
        if (alive.lock()) owner->on_subscribed(context, granted, granted ? "" : "the broker refused a subscription");
      });
    } else {
      boost::asio::post(owner_.io_, [alive, owner, context] {
        if (alive.lock()) owner->on_delivery(context);
      });
    }
  }

  void on_failure(const mqtt::token& tok) override {
    std::weak_ptr<bool> alive = alive_;
    auto* owner = &owner_;
    auto context = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(tok.get_user_context()));
    const int code = tok.get_return_code();
    // Under 3.1.1 Paho reports MQTTPP_V3_CODE here; only MQTT 5 carries a real reason.
    const int reason = tok.get_reason_code() == mqtt::ReasonCode::MQTTPP_V3_CODE ? 0 : tok.get_reason_code();
    if (kind_ == kind::connect) {
      boost::asio::post(owner_.io_, [alive, owner, context, code, reason] {
        if (alive.lock()) owner->on_connect_failure(context, code, reason);
      });
      return;
    }
    if (kind_ == kind::subscribe) {
      boost::asio::post(owner_.io_, [alive, owner, context, code] {
        if (alive.lock())
          owner->on_subscribed(context, false, "subscribe failed: " + mqtt_link::describe_return_code(code));
      });
      return;
    }
    // A publish that failed without a broker's reason died with its connection:
    // it is resent after the reconnect that follows.
    if (reason < 0x80) return;
    boost::asio::post(owner_.io_, [alive, owner, context, reason] {
      if (alive.lock()) owner->on_publish_refused(context, reason);
    });
  }

 private:
  // MQTT 3.1.1 reports a refused filter as granted QoS 0x80 inside a "successful" SUBACK.
  static bool all_granted(const mqtt::token& tok) {
    try {
      const mqtt::subscribe_response response = tok.get_subscribe_response();
      for (auto code : response.get_reason_codes())
        if (static_cast<int>(code) >= 0x80) return false;
    } catch (const std::exception&) {
      // No SUBACK details: the subscriptions stand as requested.
    }
    return true;
  }

  // Runs on Paho's thread inside the callback, where the token is complete.
  static broker_limits limits_of(const mqtt::token& tok) {
    broker_limits limits;
    try {
      const mqtt::connect_response response = tok.get_connect_response();
      if (response.get_mqtt_version() < MQTTVERSION_5) return limits;
      limits.version = mqtt_link::protocol_version::v5;
      const mqtt::properties& props = response.get_properties();
      if (props.contains(mqtt::property::RECEIVE_MAXIMUM))
        limits.receive_maximum = mqtt::get<std::uint16_t>(props, mqtt::property::RECEIVE_MAXIMUM);
      if (props.contains(mqtt::property::MAXIMUM_PACKET_SIZE))
        limits.maximum_packet_size = mqtt::get<std::uint32_t>(props, mqtt::property::MAXIMUM_PACKET_SIZE);
    } catch (const std::exception&) {
      // No connect response to read: nothing is known about the broker's limits.
    }
    return limits;
  }

  mqtt_publisher& owner_;
  kind kind_;
  std::weak_ptr<bool> alive_;
};

mqtt_publisher::mqtt_publisher(boost::asio::io_context& io, mqtt_options options, publisher_events events)
    : io_(io),
      options_(std::move(options)),
      events_(std::move(events)),
      log_("mqtt", options_.connection.client_id),
      reconnect_timer_(io),
      connect_deadline_(io),
      backoff_(options_.reconnect_min_delay, options_.reconnect_max_delay,
               std::hash<std::string>{}(options_.connection.client_id) ^
                   static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())),
      alive_(std::make_shared<bool>(true)) {
  version_ = options_.protocol == config::mqtt_protocol::v3_1_1 ? mqtt_link::protocol_version::v3_1_1
                                                                : mqtt_link::protocol_version::v5;
  connect_listener_ = std::make_unique<paho_listener>(*this, paho_listener::kind::connect);
  publish_listener_ = std::make_unique<paho_listener>(*this, paho_listener::kind::publish);
  subscribe_listener_ = std::make_unique<paho_listener>(*this, paho_listener::kind::subscribe);
  create_client();
}

void mqtt_publisher::create_client() {
  // The client is made for one protocol version; a fallback makes a new one.
  mqtt_link::prepare_paho();
  mqtt::create_options create(static_cast<int>(version_));
  // No Paho persistence: the agent's spool owns durability (TOOLCHAIN trap 2).
  client_ = std::make_unique<mqtt::async_client>(options_.connection.url, options_.connection.client_id, create, nullptr);
  std::weak_ptr<bool> alive = alive_;
  client_->set_connection_lost_handler([this, alive](const std::string& cause) {
    boost::asio::post(io_, [this, alive, cause] {
      if (alive.lock()) on_connection_lost(cause);
    });
  });
  if (options_.subscriptions.empty()) return;
  client_->set_message_callback([this, alive](mqtt::const_message_ptr message) {
    // Commands and STATE are small; a peer sending more is not read (and cannot grow the queue).
    if (!message || message->get_payload().size() > max_subscribed_payload_bytes) return;
    std::string topic = message->get_topic();
    std::string payload = message->get_payload_str();
    boost::asio::post(io_, [this, alive, topic = std::move(topic), payload = std::move(payload)] {
      if (alive.lock() && connected_ && events_.message) events_.message(topic, payload);
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
  mqtt_link::connection_settings settings = options_.connection;
  // Debian's Paho C 1.3.12 stalls once its in-flight count reaches
  // max_inflight (TOOLCHAIN trap 1), so keep it strictly above our window.
  settings.max_inflight = std::min(65535, options_.window * 2 + 8);
  settings.clean_session = true;  // in-flight messages are resent from the store, not by Paho
  settings.version = version_;
  if (options_.will_for_attempt) settings.will = options_.will_for_attempt();
  if (const std::string problem = prepare_tls(); !problem.empty()) {
    // Paho would fail on these files with a vaguer error; the data waits in the spool.
    schedule_reconnect(problem);
    return;
  }
  connecting_ = true;
  std::uint32_t attempt = ++connect_attempt_;
  log_.debug("connecting to " + options_.connection.url + " (attempt " + std::to_string(attempt) + ")");
  try {
    client_->connect(mqtt_link::make_connect_options(settings),
                     reinterpret_cast<void*>(static_cast<std::uintptr_t>(attempt)), *connect_listener_);
  } catch (const mqtt::exception& e) {
    connecting_ = false;
    schedule_reconnect(mqtt_link::describe_return_code(e.get_return_code()));
    return;
  }
  connect_deadline_.expires_after(options_.connection.connect_timeout + std::chrono::seconds(2));
  std::weak_ptr<bool> alive = alive_;
  connect_deadline_.async_wait([this, alive, attempt](const boost::system::error_code& ec) {
    if (!ec && alive.lock()) on_connect_deadline(attempt);
  });
}

std::string mqtt_publisher::prepare_tls() {
  const auto& c = options_.connection;
  if (!mqtt_link::uses_tls(c.url)) return "";
  tls_ = mqtt_link::read_tls_files(c.ca_file, c.cert_file, c.key_file);
  if (client_tls_ && client_tls_->fingerprint() != tls_.fingerprint()) {
    log_.info("TLS files changed on disk (" + mqtt_link::changed_files(*client_tls_, tls_) +
              "): the next connection is made with them");
    abandon_client("TLS files changed");
  }
  client_tls_ = tls_;
  warn_of_expiry();
  if (const std::string minimum = mqtt_link::tls_minimum_problem(); !minimum.empty()) {
    return "TLS connections need TLS 1.2 or newer, and " + minimum;
  }
  return tls_.first_problem();
}

void mqtt_publisher::check_tls_files() {
  const auto& c = options_.connection;
  if (!mqtt_link::uses_tls(c.url)) return;
  tls_ = mqtt_link::read_tls_files(c.ca_file, c.cert_file, c.key_file);
  if (connected_ && client_tls_ && client_tls_->fingerprint() != tls_.fingerprint()) {
    log_.limited(log::level::info, "tls-changed",
                 "TLS files changed on disk (" + mqtt_link::changed_files(*client_tls_, tls_) +
                     "): used from the next connection (SIGHUP reconnects with them now)");
  }
  warn_of_expiry();
}

void mqtt_publisher::warn_of_expiry() {
  // Once a day, not once per attempt: a gateway reconnecting every minute would bury it.
  const auto now = loop_clock::now();
  if (expiry_warned_at_ && now - *expiry_warned_at_ < std::chrono::hours(24)) return;
  bool warned = false;
  for (const auto& file : tls_.files) {
    const std::string warning = mqtt_link::expiry_warning(file, wall_clock_ms(), mqtt_link::expiry_warning_window);
    if (warning.empty()) continue;
    log_.warn("mqtt." + file.key + ": " + warning);
    warned = true;
  }
  if (warned) expiry_warned_at_ = now;
}

void mqtt_publisher::on_connect_deadline(std::uint32_t attempt) {
  if (!connecting_ || attempt != connect_attempt_) return;
  // Paho never reported back on this attempt: abandon that client object (its
  // late callbacks carry a stale attempt number) and start over with a new one.
  connecting_ = false;
  // The same stuck broker makes this every attempt: one line a minute, not one per attempt.
  log_.limited(log::level::warn, "connect-deadline",
               "connect attempt to " + options_.connection.url + " did not finish within " +
                   std::to_string(options_.connection.connect_timeout.count() * 1000 + 2000) +
                   " ms; starting a fresh client");
  abandon_client("connect attempt timed out");
  schedule_reconnect("connect attempt timed out");
}

void mqtt_publisher::abandon_client(const std::string&) {
  try {
    client_->disable_callbacks();
  } catch (const std::exception&) {
  }
  // Destroying a client whose connect is stuck can block inside Paho; keep it
  // (a few KB each, bounded) rather than risk stalling the event loop.
  abandoned_.push_back(std::move(client_));
  if (abandoned_.size() > max_abandoned_clients) abandoned_.erase(abandoned_.begin());
  create_client();
}

void mqtt_publisher::on_connect_success(std::uint32_t attempt, broker_limits limits) {
  if (attempt != connect_attempt_) return;  // from an abandoned attempt
  limits_ = limits;
  connect_deadline_.cancel();
  connecting_ = false;
  connected_ = true;
  if (ever_connected_) ++reconnects_;
  ever_connected_ = true;
  last_error_.clear();
  backoff_.reset();
  in_flight_.clear();
  lost_handled_ = false;
  std::string said = std::string(" (MQTT ") + mqtt_link::to_string(limits_.version);
  if (limits_.receive_maximum < 65535) said += ", receive maximum " + std::to_string(limits_.receive_maximum);
  if (limits_.maximum_packet_size > 0) said += ", maximum packet size " + std::to_string(limits_.maximum_packet_size);
  log_.info("connected to " + options_.connection.url + said + ")");
  if (events_.session_started) events_.session_started();
  if (options_.subscriptions.empty()) {
    report_connected();
    return;
  }
  // Whoever relies on these subscriptions (Sparkplug's NCMD and STATE) hears of the
  // connection only once the broker has granted them.
  subscribed_ = false;
  try {
    std::vector<int> qos(options_.subscriptions.size(), 1);
    client_->subscribe(mqtt::string_collection::create(options_.subscriptions), qos,
                       reinterpret_cast<void*>(static_cast<std::uintptr_t>(attempt)), *subscribe_listener_);
  } catch (const mqtt::exception& e) {
    lose_connection("subscribe failed: " + mqtt_link::describe_return_code(e.get_return_code()));
  }
}

void mqtt_publisher::on_subscribed(std::uint32_t attempt, bool granted, const std::string& why) {
  if (attempt != connect_attempt_ || !connected_ || subscribed_) return;
  if (!granted) {
    log_.limited(log::level::warn, "subscribe", why + " (" + options_.subscriptions.front() + "...); reconnecting");
    // Close this connection first: the reconnect must not find the client still connected.
    try {
      client_->disconnect(0)->wait_for(std::chrono::milliseconds(200));
    } catch (const std::exception&) {
      abandon_client(why);
    }
    lose_connection(why);
    return;
  }
  report_connected();
}

void mqtt_publisher::report_connected() {
  subscribed_ = true;
  if (events_.connected) events_.connected();
}

void mqtt_publisher::restart_session(const std::string& reason, bool at_once) {
  if (!connected_) return;
  try {
    // A moment for what was just published (Sparkplug's own NDEATH) to be acknowledged.
    client_->disconnect(200)->wait_for(std::chrono::milliseconds(500));
  } catch (const std::exception&) {
    // The connection is treated as gone either way.
  }
  if (!at_once) {
    // Something on this session failed: the next one comes after the usual backoff.
    lost_handled_ = false;
    lose_connection(reason);
    return;
  }
  // A chosen restart, not a failure: no backoff, no "cannot reach" warning.
  lost_handled_ = true;
  connected_ = false;
  in_flight_.clear();
  log_.info("starting a new session: " + reason);
  if (events_.connection_lost) events_.connection_lost(reason);
  connect_now();
}

void mqtt_publisher::on_connect_failure(std::uint32_t attempt, int code, int reason_code) {
  if (attempt != connect_attempt_) return;
  connect_deadline_.cancel();
  connecting_ = false;
  // Paho reports an MQTT 5 CONNACK refusal as the return code itself.
  if (reason_code < 0x80 && code >= 0x80) reason_code = code;
  if (fall_back_to_3_1_1(code, reason_code)) {
    connect_now();
    return;
  }
  // No network probe here: it could block the event loop for seconds.
  std::string reason = reason_code >= 0x80 ? "broker refused the connection: " +
                                                 mqtt_link::describe_reason_code(reason_code, mqtt_link::reason_context::connect)
                       : code == -1 && mqtt_link::uses_tls(options_.connection.url)
                           ? mqtt_link::tls_failure_hint(!options_.connection.ca_file.empty(),
                                                         !options_.connection.cert_file.empty())
                           : mqtt_link::describe_return_code(code);
  schedule_reconnect(reason);
}

bool mqtt_publisher::fall_back_to_3_1_1(int code, int reason_code) {
  if (options_.protocol != config::mqtt_protocol::automatic || version_ != mqtt_link::protocol_version::v5) return false;
  // A 3.1.1 broker answers a version it does not speak with CONNACK code 1
  // (MQTT-3.1.2-2); an MQTT 5 one that is configured without 5 says 0x84.
  if (code != 1 && reason_code != 1 && reason_code != 0x84) return false;
  version_ = mqtt_link::protocol_version::v3_1_1;
  log_.warn("the broker at " + options_.connection.url +
            " refused MQTT 5; using 3.1.1 until the next restart or reload. Under 3.1.1 a broker that "
            "drops a message (ACL, message_size_limit, quota) still acknowledges it: keep mqtt.max_message_bytes "
            "below its message_size_limit and its ACL open for this agent's topics");
  abandon_client("falling back to MQTT 3.1.1");
  return true;
}

void mqtt_publisher::on_connection_lost(const std::string& cause) {
  if (!connected_ || lost_handled_) return;
  connected_ = false;
  lose_connection(cause.empty() ? "connection lost" : "connection lost: " + cause);
}

void mqtt_publisher::lose_connection(const std::string& reason) {
  // Once per connection, whichever noticed first: Paho's callback or a failed publish.
  if (lost_handled_) return;
  lost_handled_ = true;
  connected_ = false;
  in_flight_.clear();
  if (events_.connection_lost) events_.connection_lost(reason);
  schedule_reconnect(reason);
}

void mqtt_publisher::reconfigure(mqtt_options options) {
  const bool was_connected = connected_;
  try {
    if (client_ && client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::milliseconds(500));
  } catch (const std::exception&) {
    // The new client replaces it either way.
  }
  options_ = std::move(options);
  version_ = options_.protocol == config::mqtt_protocol::v3_1_1 ? mqtt_link::protocol_version::v3_1_1
                                                                : mqtt_link::protocol_version::v5;
  abandon_client("reconfigured");
  client_tls_.reset();  // the new client starts from the files as they are now
  expiry_warned_at_.reset();
  backoff_ = backoff(options_.reconnect_min_delay, options_.reconnect_max_delay,
                     std::hash<std::string>{}(options_.connection.client_id));
  reconnect_timer_.cancel();
  connect_deadline_.cancel();
  connecting_ = false;
  ++connect_attempt_;  // answers for attempts of the old client are stale now
  if (was_connected) {
    lost_handled_ = false;
    lose_connection("reconnecting with new settings");
  }
  connect_now();
}

void mqtt_publisher::schedule_reconnect(const std::string& reason) {
  last_error_ = reason;
  if (stopping_) return;
  auto delay = backoff_.next();
  // The same reason again and again (a dead broker) is one line a minute, not one per attempt.
  log_.limited(log::level::warn, reason,
               "cannot reach " + options_.connection.url + ": " + reason + "; retrying in " +
                   std::to_string(delay.count()) + " ms (attempt " + std::to_string(backoff_.attempts()) + ")");
  reconnect_timer_.expires_after(delay);
  std::weak_ptr<bool> alive = alive_;
  reconnect_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    connect_now();
  });
}

publish_outcome mqtt_publisher::publish(const std::string& topic, std::string payload, int qos, bool retain,
                                       std::uint64_t tag) {
  if (!connected_) return publish_outcome::retry;
  std::uint32_t id = next_publish_id_++;
  if (next_publish_id_ == 0) next_publish_id_ = 1;
  try {
    auto message = mqtt::make_message(topic, std::move(payload), qos, retain);
    client_->publish(message, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)), *publish_listener_);
  } catch (const mqtt::exception& e) {
    const int code = e.get_return_code();
    log_.limited(log::level::warn, "publish:" + std::to_string(code),
                 "publish to " + topic + " failed: " + mqtt_link::describe_return_code(code));
    switch (code) {
      case -4:   // too many in flight (our window is below Paho's, so only after a reconnect race)
      case -12:  // no more messages can be buffered
        return publish_outcome::retry;
      case -5:   // bad UTF-8 in the topic
      case -6:
      case -8:
      case -9:   // bad QoS
        return publish_outcome::drop;
      default:
        // -3 disconnected, and whatever else Paho says when the connection is gone: the
        // connection is lost now, whether or not Paho's own callback has arrived yet.
        // Handled on the next loop turn, never inside the caller's publish loop.
        connected_ = false;
        boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), code] {
          if (alive.lock()) lose_connection("publish failed: " + mqtt_link::describe_return_code(code));
        });
        return publish_outcome::retry;
    }
  }
  in_flight_.emplace(id, tag);
  return publish_outcome::ok;
}

void mqtt_publisher::on_delivery(std::uint32_t publish_id) {
  auto found = in_flight_.find(publish_id);
  if (found == in_flight_.end()) return;  // from a connection that has since dropped
  std::uint64_t tag = found->second;
  in_flight_.erase(found);
  if (events_.delivered) events_.delivered(tag);
}

void mqtt_publisher::on_publish_refused(std::uint32_t publish_id, int reason_code) {
  auto found = in_flight_.find(publish_id);
  if (found == in_flight_.end()) return;  // from a connection that has since dropped
  std::uint64_t tag = found->second;
  in_flight_.erase(found);
  if (tag != 0 && events_.refused) events_.refused(tag, refusal_for(reason_code));
}

void mqtt_publisher::stop(std::chrono::milliseconds timeout) {
  stopping_ = true;
  reconnect_timer_.cancel();
  connect_deadline_.cancel();
  if (!client_ || !connected_) return;
  try {
    // A clean DISCONNECT: the broker discards the Last Will, so the retained
    // status stays whatever we published last (the offline shutdown status).
    client_->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
  } catch (const mqtt::exception& e) {
    log_.warn(std::string("disconnect: ") + mqtt_link::describe_return_code(e.get_return_code()));
  }
  connected_ = false;
  in_flight_.clear();
}

}  // namespace plant::transport
