#include "register/ingest/broker_intake.hpp"

#include <boost/asio/post.hpp>

#include <random>
#include <thread>

namespace plant::central::ingest {

std::vector<std::string> subscription_topics(const std::string& prefix, const std::string& share_group) {
  std::vector<std::string> topics;
  const std::string head = share_group.empty() ? "" : "$share/" + share_group + "/";
  for (const char* kind : {"telemetry", "status", "alerts"}) topics.push_back(head + prefix + "/+/+/" + kind);
  return topics;
}

broker_intake::broker_intake(boost::asio::io_context& io, intake_options options, journal& j)
    : io_(io),
      options_(std::move(options)),
      journal_(j),
      log_("mqtt", options_.subscriber.client_id),
      paho_log_("ingest", options_.subscriber.client_id),
      backoff_(options_.reconnect_min, options_.reconnect_max, std::random_device{}()),
      reconnect_timer_(io) {
  options_.subscriber.topics = subscription_topics(options_.topic_prefix, options_.share_group);
  options_.subscriber.qos = 1;
  options_.subscriber.clean_session = false;
}

broker_intake::~broker_intake() { stop(std::chrono::milliseconds(1000)); }

std::string broker_intake::last_error() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return last_error_;
}

void broker_intake::start() {
  mqtt_link::subscriber_events events;
  events.connected = [this] {
    boost::asio::post(io_, [this] {
      stats_.connected = true;
      ++stats_.connects;
      backoff_.reset();
      {
        std::lock_guard<std::mutex> lock(error_mu_);
        last_error_.clear();
      }
      log_.info("connected to " + options_.subscriber.url + ", subscribed to " +
                options_.subscriber.topics.front() + " (and status, alerts) with QoS 1, persistent session");
    });
  };
  events.connect_failed = [this](const std::string& reason) {
    boost::asio::post(io_, [this, reason] {
      {
        std::lock_guard<std::mutex> lock(error_mu_);
        last_error_ = reason;
      }
      log_.limited(log::level::warn, "connect", "cannot connect to " + options_.subscriber.url + ": " + reason);
      schedule_reconnect();
    });
  };
  events.connection_lost = [this](const std::string& cause) {
    boost::asio::post(io_, [this, cause] {
      stats_.connected = false;
      {
        std::lock_guard<std::mutex> lock(error_mu_);
        last_error_ = "connection lost" + (cause.empty() ? std::string() : ": " + cause);
      }
      log_.warn("connection to " + options_.subscriber.url + " lost" + (cause.empty() ? "" : ": " + cause) +
                "; the broker keeps our session's messages");
      schedule_reconnect();
    });
  };
  events.subscribe_failed = [this](const std::string& filter, const std::string& reason) {
    boost::asio::post(io_, [this, filter, reason] {
      log_.error("cannot subscribe to '" + filter + "': " + reason);
      std::lock_guard<std::mutex> lock(error_mu_);
      last_error_ = "subscription to '" + filter + "' refused: " + reason;
    });
  };
  // Runs on Paho's receive thread, before the PUBACK (see the header).
  events.message = [this](mqtt_link::received_message&& m) { on_message(std::move(m)); };
  subscriber_ = std::make_unique<mqtt_link::broker_subscriber>(options_.subscriber, std::move(events));
  connect();
}

void broker_intake::connect() {
  if (stopping_) return;
  subscriber_->connect();
}

void broker_intake::schedule_reconnect() {
  if (stopping_) return;
  stats_.connected = false;
  reconnect_timer_.expires_after(backoff_.next());
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) connect();
  });
}

void broker_intake::on_message(mqtt_link::received_message&& m) {
  ++stats_.received;
  const epoch_ms received_at = m.received_at_us / 1000;
  std::string error;
  for (;;) {
    const journal::append_result appended = journal_.append_durable(m.topic, m.payload, m.retained, received_at, error);
    if (appended == journal::append_result::durable) break;
    if (appended == journal::append_result::too_large) {
      // No record can hold it, now or after a restart: holding it would stop all ingest.
      paho_log_.error("a delivery on '" + m.topic + "' cannot be journaled and is not stored: " + error);
      stats_.blocked = false;
      return;
    }
    ++stats_.journal_failures;
    stats_.blocked = true;
    {
      std::lock_guard<std::mutex> lock(error_mu_);
      last_error_ = "journal: " + error;
    }
    paho_log_.limited(log::level::error, "journal",
                 "cannot journal a delivery on '" + m.topic + "': " + error +
                     "; not acknowledging it (the broker keeps it), retrying every second");
    if (stopping_) {
      // Returning would acknowledge what is not stored: wait here for the process to end.
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  stats_.blocked = false;
  ++stats_.journaled;
}

bool broker_intake::stop(std::chrono::milliseconds timeout) {
  if (stopping_.exchange(true)) return !stats_.blocked;
  reconnect_timer_.cancel();
  if (stats_.blocked) return false;
  if (subscriber_) subscriber_->disconnect(timeout);
  return true;
}

}  // namespace plant::central::ingest
