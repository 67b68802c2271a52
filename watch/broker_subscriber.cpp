#include "watch/broker_subscriber.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
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

namespace plant::watch {

namespace {

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

bool split_host_port(const std::string& url, std::string& host, std::string& port) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const bool tls = url.compare(0, scheme_end, "ssl") == 0;
  std::string rest = url.substr(scheme_end + 3);
  port = tls ? "8883" : "1883";  // Paho's defaults when the URL has no port
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
    return !host.empty();
  }
  const std::size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    port = rest.substr(colon + 1);
    rest.resize(colon);
  }
  host = rest;
  return !host.empty();
}

}  // namespace

std::string probe_tcp(const std::string& url, std::chrono::milliseconds timeout) {
  std::string host;
  std::string port;
  if (!split_host_port(url, host, port)) return "cannot parse the URL";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) return gai == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(gai);
  std::string reason = "no address for the host";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int error = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready == 0) {
          error = ETIMEDOUT;
        } else if (ready < 0) {
          error = errno;
        } else {
          socklen_t length = sizeof error;
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        }
      }
    }
    ::close(fd);
    if (error == 0) {
      ::freeaddrinfo(found);
      return {};
    }
    reason = std::strerror(error);
  }
  ::freeaddrinfo(found);
  return reason;
}

std::string explain_connect_failure(int return_code, const std::string& paho_message, const std::string& url) {
  // 1..5 are MQTT 3.1.1 CONNACK refusals: the network is fine, the broker said no.
  switch (return_code) {
    case 1: return "the broker refused MQTT 3.1.1 (unacceptable protocol version)";
    case 2: return "the broker rejected the client id";
    case 3: return "the broker says the MQTT service is unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized (check the user name, password file or client certificate)";
    default: break;
  }
  // Paho's generic failure (-1) hides the cause; anything more specific is its own message.
  if (return_code != -1 && !paho_message.empty()) return paho_message;
  const std::string network = probe_tcp(url, std::chrono::milliseconds(2000));
  if (!network.empty()) return network;
  // Paho C++ 1.2 cannot safely report OpenSSL's reason (see the TLS options), so say what to check.
  if (url.rfind("ssl://", 0) == 0) return "TLS handshake failed (check --ca-file, or --cert-file/--key-file)";
  // Paho's wording here ("TCP connect completion failure") names no cause;
  // the usual one is a TLS-only port reached with tcp://.
  return "the server accepted TCP but not the MQTT handshake (for a TLS port use ssl://)";
}

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
    auto builder = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_3_1_1)
                       .clean_session(settings.clean_session)
                       .keep_alive_interval(settings.keep_alive)
                       .connect_timeout(settings.connect_timeout)
                       .automatic_reconnect(false);
    if (!settings.username.empty()) builder.user_name(settings.username).password(settings.password);
    if (settings.url.rfind("ssl://", 0) == 0) {
      // No set_error_handler(): Paho C++ 1.2 hands the C library a context
      // pointer into one of the ssl_options copies connect_options makes, and
      // the next TLS error calls through freed memory (a crash seen here).
      ssl_options.set_enable_server_cert_auth(settings.verify_server);
      ssl_options.set_verify(settings.verify_server);
      if (!settings.ca_file.empty()) ssl_options.set_trust_store(settings.ca_file);
      if (!settings.cert_file.empty()) ssl_options.set_key_store(settings.cert_file);
      if (!settings.key_file.empty()) ssl_options.set_private_key(settings.key_file);
      builder.ssl(ssl_options);
    }
    options = builder.finalize();

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
    const std::string reason = explain_connect_failure(rc, message, settings.url);
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
  mqtt::ssl_options ssl_options;
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

}  // namespace plant::watch
