#include "common/mqtt/broker_subscriber.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <mqtt/async_client.h>

#include "common/core/clock.hpp"
#include "common/mqtt/broker_errors.hpp"
#include "common/mqtt/connection_settings.hpp"

namespace plant::mqtt_link {

namespace {

// Microseconds matter for the audit's latency on loopback; the wall clock gives
// milliseconds, so the system clock is read directly here (and only here).
std::int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Paho keeps a failed token's message private; the exception it throws on wait is the only way to read it.
std::string paho_message_of(const mqtt::token& tok) {
  try {
    const_cast<mqtt::token&>(tok).try_wait();
  } catch (const mqtt::exception& e) {
    return e.get_message();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace

struct broker_subscriber::impl {
  // Paho calls back without holding its own lock, so a callback can still be
  // running (e.g. the 2 s probe) while we tear the client down; destruction
  // waits for those to leave before freeing what they use.
  class callback_scope {
   public:
    explicit callback_scope(impl& owner) : owner_(owner) { ++owner_.in_flight; }
    ~callback_scope() { --owner_.in_flight; }
    callback_scope(const callback_scope&) = delete;
    callback_scope& operator=(const callback_scope&) = delete;

   private:
    impl& owner_;
  };

  class connect_listener : public mqtt::iaction_listener {
   public:
    explicit connect_listener(impl& owner) : owner_(owner) {}
    void on_success(const mqtt::token&) override {
      callback_scope scope(owner_);
      owner_.on_connected();
    }
    void on_failure(const mqtt::token& tok) override {
      callback_scope scope(owner_);
      owner_.on_connect_failed(tok.get_return_code(), paho_message_of(tok));
    }

   private:
    impl& owner_;
  };

  class subscribe_listener : public mqtt::iaction_listener {
   public:
    explicit subscribe_listener(impl& owner) : owner_(owner) {}
    void on_success(const mqtt::token& tok) override {
      callback_scope scope(owner_);
      // MQTT 3.1.1 reports a refused filter as granted QoS 0x80 inside a "successful" SUBACK.
      // Nothing may escape into Paho's C thread, hence the catch.
      try {
        const mqtt::subscribe_response response = tok.get_subscribe_response();
        for (auto code : response.get_reason_codes()) {
          if (static_cast<int>(code) >= 0x80) owner_.on_subscribe_failed(tok, "refused by the broker");
        }
      } catch (const std::exception&) {
        // No SUBACK details available: the subscription stands as requested.
      }
    }
    void on_failure(const mqtt::token& tok) override {
      callback_scope scope(owner_);
      owner_.on_subscribe_failed(tok, paho_message_of(tok));
    }

   private:
    impl& owner_;
  };

  impl(subscriber_settings s, subscriber_events e)
      : settings(std::move(s)), events(std::move(e)), client(make_client(settings)) {
    connection_settings connection;
    connection.url = settings.url;
    connection.client_id = settings.client_id;
    connection.username = settings.username;
    connection.password = settings.password;
    connection.ca_file = settings.ca_file;
    connection.cert_file = settings.cert_file;
    connection.key_file = settings.key_file;
    connection.tls_verify = settings.verify_server;
    connection.keepalive = settings.keep_alive;
    connection.connect_timeout = settings.connect_timeout;
    connection.clean_session = settings.clean_session;
    options = make_connect_options(connection);

    client->set_message_callback([this](mqtt::const_message_ptr msg) {
      callback_scope scope(*this);
      received_message m;
      m.received_at_us = wall_clock_us();  // before queueing, so latency excludes our own backlog
      m.topic = msg->get_topic();
      m.payload = msg->get_payload_str();
      m.retained = msg->is_retained();
      if (events.message) events.message(std::move(m));
    });
    client->set_connection_lost_handler([this](const std::string& cause) {
      callback_scope scope(*this);
      if (!closing && events.connection_lost) events.connection_lost(cause);
    });
  }

  static std::unique_ptr<mqtt::async_client> make_client(const subscriber_settings& s) {
    try {
      // nullptr persistence: the broker's session (with --persistent) is our only store.
      mqtt_link::prepare_paho();
      return std::make_unique<mqtt::async_client>(s.url, s.client_id, static_cast<mqtt::iclient_persistence*>(nullptr));
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot create an MQTT client for " + s.url + ": " + e.what());
    }
  }

  void on_connected() {
    if (closing) return;
    // Subscribing here, on every connect, is what restores the subscriptions
    // after a reconnect with a clean session (the broker forgot them).
    for (std::size_t i = 0; i < settings.topics.size(); ++i) {
      try {
        client->subscribe(settings.topics[i], settings.qos, reinterpret_cast<void*>(i), sub_listener);
      } catch (const std::exception& e) {
        if (events.subscribe_failed) events.subscribe_failed(settings.topics[i], e.what());
      }
    }
    if (events.connected) events.connected();
  }

  void on_connect_failed(int rc, const std::string& message) {
    if (closing) return;  // no probe while shutting down: it would only delay the exit
    // On Paho's thread, so the network probe in here does not hold up the main loop.
    const std::string reason = explain_connect_failure(rc, message, settings.url, !settings.ca_file.empty(),
                                                                  !settings.cert_file.empty(), settings.names);
    if (!closing && events.connect_failed) events.connect_failed(reason);
  }

  void on_subscribe_failed(const mqtt::token& tok, const std::string& why) {
    const auto index = reinterpret_cast<std::size_t>(tok.get_user_context());
    const std::string topic = index < settings.topics.size() ? settings.topics[index] : "?";
    if (!closing && events.subscribe_failed) events.subscribe_failed(topic, why);
  }

  subscriber_settings settings;
  subscriber_events events;
  std::atomic<bool> closing{false};
  std::atomic<int> in_flight{0};
  mqtt::connect_options options;
  connect_listener conn_listener{*this};
  subscribe_listener sub_listener{*this};
  std::unique_ptr<mqtt::async_client> client;  // last: destroyed first, while the listeners still exist
};

broker_subscriber::broker_subscriber(subscriber_settings settings, subscriber_events events)
    : impl_(std::make_unique<impl>(std::move(settings), std::move(events))) {}

broker_subscriber::~broker_subscriber() {
  disconnect(std::chrono::milliseconds(1000));
  // Bounded: a callback blocked inside Paho must not hang the exit forever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->client.reset();
  // Callbacks that began while the client was being destroyed end before the listeners go.
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void broker_subscriber::connect() {
  try {
    impl_->client->connect(impl_->options, nullptr, impl_->conn_listener);
  } catch (const mqtt::exception& e) {
    if (impl_->events.connect_failed) {
      impl_->events.connect_failed(e.get_message().empty() ? e.what() : e.get_message());
    }
  }
}

bool broker_subscriber::publish(const std::string& topic, const std::string& payload, int qos) {
  if (impl_->closing.load()) return false;
  try {
    if (!impl_->client->is_connected()) return false;
    impl_->client->publish(topic, payload.data(), payload.size(), qos, false);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void broker_subscriber::disconnect(std::chrono::milliseconds timeout) {
  if (impl_->closing.exchange(true)) return;
  try {
    if (impl_->client->is_connected()) {
      auto tok = impl_->client->disconnect(static_cast<int>(timeout.count()));
      tok->wait_for(timeout + std::chrono::milliseconds(500));
    }
  } catch (const std::exception&) {
    // Already gone: a failed disconnect leaves nothing to clean up.
  }
}

}  // namespace plant::mqtt_link
