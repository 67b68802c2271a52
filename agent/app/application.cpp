#include "agent/app/application.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/app/derived_settings.hpp"
#include "agent/app/health_endpoint.hpp"
#include "agent/app/state_dir_lock.hpp"
#include "agent/app/systemd_notify.hpp"
#include "agent/app/telemetry_pipeline.hpp"
#include "agent/edge/shortage_detector.hpp"
#include "agent/encoding/envelope.hpp"
#include "agent/sources/polled_source.hpp"
#include "agent/sources/source_registry.hpp"
#include "agent/sparkplug/edge_node.hpp"
#include "common/spool/spool.hpp"
#include "agent/store/memory_store.hpp"
#include "agent/store/spool_store.hpp"
#include "agent/transport/mqtt_publisher.hpp"
#include "agent/transport/outbox.hpp"

namespace plant::app {

application::application(config::agent_config config, std::shared_ptr<const config::table_value> tree,
                         std::string config_path, std::vector<std::string> overrides)
    : config_(std::move(config)),
      tree_(std::move(tree)),
      config_path_(std::move(config_path)),
      overrides_(std::move(overrides)),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      heartbeat_timer_(io_),
      housekeeping_timer_(io_),
      watchdog_timer_(io_),
      shutdown_timer_(io_),
      status_timer_(io_) {}

application::~application() = default;

// --- start-up ----------------------------------------------------------------------

void application::open_store() {
  if (!config_.spool.enabled) {
    log_.info("spool disabled (spool.enabled = false): unacknowledged messages live in memory only");
    store_ = std::make_unique<store::memory_store>(config_.mqtt.queue_max_messages, memory_bound_bytes(config_));
    return;
  }
  spool::options options;
  options.dir = std::filesystem::path(config_.agent.state_dir) / "spool";
  options.sync = config_.spool.sync;
  options.max_bytes = config_.spool.max_bytes;
  options.max_age_ms = config_.spool.max_age.count();
  options.segment_bytes = config_.spool.segment_bytes;
  options.sync_interval_ms = config_.spool.sync_interval.count();
  auto disk = std::make_unique<spool::spool>(options);
  spool::recovery_report report;
  try {
    report = disk->recover(wall_clock_ms());
  } catch (const spool::spool_access_error& e) {
    throw startup_error(e.what());
  }
  for (const auto& finding : report.findings) log::write(log::level::warn, "spool", "", finding);
  std::ostringstream summary;
  summary << "recovered " << report.records << " unacknowledged messages (" << report.bytes << " bytes) in "
          << report.segments << " segments in " << report.elapsed_us / 1000 << " ms; next seq " << report.next_seq;
  std::uint64_t lost = 0;
  for (const auto& range : report.corrupted) lost += range.count();
  if (lost > 0) summary << "; " << lost << " messages lost to damage";
  log::write(log::level::info, "spool", "", summary.str());
  recovered_corrupted_ = report.corrupted;
  recovered_lost_from_memory_ = report.lost_from_memory;
  recovered_after_power_cut_ = report.other_boot;
  if (!disk->healthy()) store_problem_ = disk->last_error();
  store_ = std::make_unique<store::spool_store>(std::move(disk), config_.mqtt.queue_max_messages,
                                                memory_bound_bytes(config_), 4u << 20);
}

void application::start_transport() {
  topics_ = encoding::make_topics(config_.mqtt.topic_prefix, config_.agent.site, config_.agent.id);
  transport::publisher_events events;
  events.connected = [this] { on_connected(); };
  events.connection_lost = [this](const std::string&) {
    if (outbox_) outbox_->on_connection_lost();
  };
  events.delivered = [this](std::uint64_t tag) {
    if (tag != 0 && outbox_) outbox_->on_delivered(tag);  // tag 0: status messages
  };
  events.refused = [this](std::uint64_t tag, const transport::publish_refusal& refusal) {
    if (outbox_) outbox_->on_refused(tag, refusal);
  };
  events.writable = [this] {
    if (outbox_) outbox_->on_writable();
  };
  std::string password;
  try {
    password = read_password(config_);
  } catch (const std::exception& e) {
    throw startup_error(e.what());
  }
  transport::message_publisher* session = nullptr;
  if (config_.mqtt.format == config::wire_format::sparkplug) {
    // The outbox publishes through the edge node, which speaks Sparkplug on the connection.
    edge_node_ = std::make_unique<sparkplug::edge_node>(io_, sparkplug_settings(config_), events, [this] {
      return encoding::encode_status(identity_of(config_), collect_stats(), encoding::agent_state::online,
                                     encoding::status_reason::heartbeat, wall_clock_ms(), SIZE_MAX);
    });
    transport::publisher_events wire = edge_node_->wire_events();
    // The broker's limits for this connection reach the node before its births.
    wire.connected = [this, births = wire.connected] {
      const transport::broker_limits& limits = publisher_->limits();
      edge_node_->set_broker_limits(limits.receive_maximum, payload_limit_for(limits.maximum_packet_size, topics_));
      births();
    };
    publisher_ = std::make_unique<transport::mqtt_publisher>(io_, connection_options(config_, password), wire);
    edge_node_->attach(*publisher_, [this](const std::string& reason, bool at_once) {
      publisher_->restart_session(reason, at_once);
    });
    session = edge_node_.get();
    log_.info("Sparkplug B edge node " + sparkplug_settings(config_).group_id + "/" +
              sparkplug_settings(config_).edge_node_id +
              (config_.sparkplug.primary_host_id.empty() ? std::string(", no primary host")
                                                         : ", primary host " + config_.sparkplug.primary_host_id));
  } else {
    publisher_ = std::make_unique<transport::mqtt_publisher>(io_, connection_options(config_, password), events);
    session = publisher_.get();
  }
  connection_fingerprint_ = connection_fingerprint(config_);
  outbox_ = std::make_unique<transport::outbox>(io_, outbox_settings(config_), *store_, *session, topics_);
  outbox_->resume_after_recovery(recovered_corrupted_, recovered_lost_from_memory_, recovered_after_power_cut_);
  pipeline_ = std::make_unique<telemetry_pipeline>(io_, *outbox_, identity_of(config_), batching_settings(config_));
  pipeline_->start();
}

void application::start_sources() {
  auto made = sources::make_sources(config_.sources, sources::source_context{config_.agent.state_dir, wall_clock_ms()});
  for (std::size_t i = 0; i < made.size(); ++i) {
    sources_.push_back(std::make_unique<sources::polled_source>(io_, std::move(made[i]),
                                                                config_.sources[i].settings->common, *pipeline_));
  }
  for (auto& source : sources_) source->start();
}

void application::start_shortage_detection() {
  detector_.reset();
  pipeline_->set_observer(nullptr);
  pipeline_->set_supply_observer(nullptr);
  if (!config_.shortage.enabled || config_.materials.empty()) return;
  detector_ = std::make_unique<edge::shortage_detector>(config_.materials, config_.shortage);
  {
    std::vector<edge::shortage_alert> none_yet;  // no readings yet: nothing to decide
    for (const auto& [key, snapshot] : supply_snapshots_) detector_->observe_supply(snapshot, key.first, none_yet);
  }
  // The detector sees every sample in sample time, before it is batched, so an
  // alert is sealed next to the data that caused it.
  pipeline_->set_observer([this, alerts = std::vector<edge::shortage_alert>()](const sample& s,
                                                                               const std::string&) mutable {
    detector_->observe(s, alerts);
    if (!alerts.empty()) publish_alerts(alerts);
  });
  pipeline_->set_supply_observer([this, alerts = std::vector<edge::shortage_alert>()](
                                     const sources::supply_snapshot& snapshot, const std::string& source) mutable {
    alerts.clear();
    const bool receipts = snapshot.kind == sources::supply_snapshot::kind_t::receipts;
    log_.info(source + ": " + std::to_string(snapshot.rows.size()) + (receipts ? " open receipts" : " planned demand rows") +
              " from " + snapshot.file + " replace the previous ones");
    supply_snapshots_[{source, static_cast<int>(snapshot.kind)}] = snapshot;
    detector_->observe_supply(snapshot, source, alerts);
    if (!alerts.empty()) publish_alerts(alerts);
  });
  log_.info("shortage detection on for " + std::to_string(config_.materials.size()) + " materials");
}

void application::start_health() {
  if (config_.health.listen.empty()) return;
  health_endpoint_options options;
  options.listen = config_.health.listen;
  health_ = std::make_unique<health_endpoint>(io_, options, [this] { return collect_stats(); });
  auto result = health_->start();
  if (!result.ok()) throw startup_error(result.message);
}

// --- the stats snapshot and the status made from it ---------------------------------

agent_stats application::collect_stats() const {
  agent_stats s;
  s.version = PLANT_VERSION;
  s.agent = config_.agent.id;
  s.site = config_.agent.site;
  s.config_hash = config_.hash;
  s.started_at_ms = started_at_;

  s.broker_url = publisher_->url();
  s.connected = publisher_->connected();
  s.protocol = mqtt_link::to_string(publisher_->limits().version);
  s.broker_refusal = outbox_->last_refusal();
  s.broker_error = publisher_->last_error();
  s.reconnects = publisher_->reconnects();

  s.samples_in = pipeline_->samples_in();
  s.last_seq = outbox_->last_seq();
  s.messages = outbox_->counters();
  s.ack_latency = outbox_->ack_latency();
  const store::store_stats store = store_->stats();
  s.backlog_messages = store.unacked_messages;
  s.backlog_bytes = store.unacked_bytes;
  if (store.oldest_unacked_created) {
    s.backlog_oldest_age_ms = std::max<epoch_ms>(0, wall_clock_ms() - *store.oldest_unacked_created);
  }
  s.max_backlog_age = config_.health.max_backlog_age;
  s.spool_enabled = config_.spool.enabled;
  s.spool_healthy = store.healthy;
  s.spool_error = store.last_error;
  s.spool_bytes = store.disk_bytes;
  s.spool_write_errors = store.write_errors;
  s.spool_syncs = store.sync_calls;
  s.memory_only = outbox_->memory_only();

  s.dropped = outbox_->dropped().count();
  s.dropped_ranges = outbox_->dropped().ranges();
  s.corrupted = outbox_->corrupted().count();
  s.corrupted_ranges = outbox_->corrupted().ranges();
  s.last_error = !store.healthy                ? store.last_error
                 : !store_problem_.empty()       ? store_problem_
                 : !s.broker_refusal.empty()     ? "the broker refuses messages: " + s.broker_refusal
                                                 : publisher_->last_error();

  for (const auto& source : sources_) s.sources.push_back(source->stats());
  s.log_suppressed = log::suppressed_total();
  if (detector_) s.materials = detector_->snapshot();
  for (const auto& file : publisher_->tls_files().files) {
    if (file.not_after) s.tls_certificates.push_back({file.key, (*file.not_after - wall_clock_ms()) / 1000});
  }
  if (edge_node_) {
    agent_stats::sparkplug_session session;
    session.born = edge_node_->connected();
    session.host_online = edge_node_->host_online();
    session.bdseq = edge_node_->bdseq();
    session.metrics = edge_node_->metric_count();
    session.counters = edge_node_->counters();
    s.sparkplug = session;
  }
  return s;
}

void application::publish_status(encoding::status_reason reason) {
  if (!session_open()) return;
  const auto state = shutting_down_ ? encoding::agent_state::offline : encoding::agent_state::online;
  bool trimmed = false;
  std::string payload = encoding::encode_status(identity_of(config_), collect_stats(), state, reason, wall_clock_ms(),
                                                outbox_->max_message_bytes(), &trimmed);
  if (trimmed) {
    log_.limited(log::level::warn, "status-trimmed",
                 "the status message would pass the message size limit (mqtt.max_message_bytes or the broker's); "
                 "sent without the materials picture");
  }
  outbox_->publish_status(topics_.status, std::move(payload));
}

void application::publish_alerts(std::vector<edge::shortage_alert>& alerts) {
  for (const auto& alert : alerts) {
    const epoch_ms now = wall_clock_ms();
    std::string text = alert.material.material + ": " + std::string(edge::to_string(alert.previous)) + " -> " +
                       std::string(edge::to_string(alert.material.status));
    if (alert.material.projected_stockout > 0) {
      text += ", projected stockout in " +
              std::to_string((alert.material.projected_stockout - alert.material.at) / 3600000) + " h";
    }
    if (alert.material.reason != edge::shortage_reason::none)
      text += std::string(", ") + edge::to_string(alert.material.reason);
    if (alert.material.late_receipts > 0) text += " (" + std::to_string(alert.material.late_receipts) + " late)";
    log::write(alert.material.status >= edge::stock_status::critical ? log::level::warn : log::level::info,
               "shortage", "", text);
    outbox_->seal(
        encoding::stream::alert,
        [&](std::uint64_t seq) { return encoding::encode_alert(config_.agent.id, config_.agent.site, seq, alert, now); },
        now);
  }
  alerts.clear();
  // The retained status carries every material's current picture for late subscribers.
  schedule_status_soon();
}

transport::mqtt_options application::connection_options(const config::agent_config& c, const std::string& password) {
  transport::mqtt_options options = mqtt_settings(c, password, started_at_);
  if (edge_node_) {
    options.connection.will.reset();
    options.will_for_attempt = [this] { return edge_node_->will_for_next_connect(); };
    options.subscriptions = edge_node_->subscriptions();
  }
  return options;
}

bool application::session_open() const {
  if (edge_node_) return edge_node_->connected();
  return publisher_ && publisher_->connected();
}

void application::on_connected() {
  // The broker's own limits for this connection, before anything is sent on it.
  const transport::broker_limits& limits = publisher_->limits();
  outbox_->set_broker_limits(limits.receive_maximum, payload_limit_for(limits.maximum_packet_size, topics_));
  publish_status(encoding::status_reason::birth);
  outbox_->on_connected();
}

// --- timers ----------------------------------------------------------------------

void application::schedule_heartbeat() {
  heartbeat_timer_.expires_after(config_.agent.heartbeat_interval);
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || shutting_down_) return;
    publish_status(encoding::status_reason::heartbeat);
    // Expiry is days away, not seconds: the TLS files are looked at once an hour.
    const auto now = loop_clock::now();
    if (now - tls_checked_at_ >= std::chrono::hours(1)) {
      tls_checked_at_ = now;
      publisher_->check_tls_files();
    }
    schedule_heartbeat();
  });
}

void application::schedule_status_soon() {
  // Alerts often come several at once: one status after them, not one each.
  if (status_due_) return;
  status_due_ = true;
  status_timer_.expires_after(std::chrono::milliseconds(200));
  status_timer_.async_wait([this](const boost::system::error_code& ec) {
    status_due_ = false;
    if (!ec && !shutting_down_) publish_status(encoding::status_reason::heartbeat);
  });
}

void application::schedule_housekeeping() {
  // Age bounds are days; checking them every few seconds is plenty (sizes are checked at every seal).
  housekeeping_timer_.expires_after(std::chrono::seconds(5));
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    outbox_->enforce_bounds(wall_clock_ms());
    schedule_housekeeping();
  });
}

void application::schedule_watchdog() {
  auto interval = systemd::watchdog_interval();
  if (interval.count() == 0) return;
  watchdog_timer_.expires_after(interval / 2);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    // Sent from the loop itself: if the loop is stuck, systemd restarts us.
    systemd::watchdog();
    schedule_watchdog();
  });
}

// --- stopping ----------------------------------------------------------------------

void application::stop_sources() {
  for (auto& source : sources_) source->stop();
  sources_.clear();
}

void application::begin_shutdown() {
  if (shutting_down_) {
    log_.warn("second stop signal: exiting without waiting for the flush");
    finish_shutdown();
    return;
  }
  shutting_down_ = true;
  systemd::stopping();
  log_.info("stopping: flushing queued messages (at most " + std::to_string(config_.mqtt.shutdown_timeout.count()) +
            " ms)");
  if (health_) health_->stop();
  stop_sources();
  pipeline_->stop();
  heartbeat_timer_.cancel();
  status_timer_.cancel();
  shutdown_deadline_ = steady_now() + config_.mqtt.shutdown_timeout;
  wait_for_flush(shutdown_deadline_);
}

void application::wait_for_flush(loop_clock::time_point deadline) {
  if (outbox_->live_drained() || !session_open() || steady_now() >= deadline) {
    finish_shutdown();
    return;
  }
  shutdown_timer_.expires_after(std::chrono::milliseconds(10));
  shutdown_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
    if (ec) return;
    wait_for_flush(deadline);
  });
}

void application::finish_shutdown() {
  // What only memory holds dies with the process: say so, and report it as dropped
  // in the last status so a consumer's audit accounts for it.
  const std::uint64_t lost = outbox_->give_up_memory_only(
      config_.spool.enabled ? "the disk did not take them and the agent stopped before the broker acknowledged them"
                            : "spool.enabled = false and the agent stopped before the broker acknowledged them");
  const std::uint64_t kept = store_->stats().unacked_messages;
  if (kept > 0) {
    log_.warn("stopping with " + std::to_string(kept) +
              " unacknowledged messages in the spool; they are sent after the next start");
  } else if (lost == 0) {
    log_.info("every message was acknowledged");
  }
  publish_status(encoding::status_reason::shutdown);
  // What is left of shutdown_timeout, with a floor so the offline status and the
  // DISCONNECT get a moment on a healthy link even when the flush used it all.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(shutdown_deadline_ - steady_now());
  publisher_->stop(std::clamp(left, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)));
  outbox_->flush_store();
  housekeeping_timer_.cancel();
  watchdog_timer_.cancel();
  signals_.cancel();
  io_.stop();
}

int application::run() {
  log::set_level(to_log_level(config_.agent.level));
  started_at_ = wall_clock_ms();
  log_.info(std::string("plant-agent ") + PLANT_VERSION + " starting: agent " + config_.agent.id + " at site " +
            config_.agent.site + ", config " + config_path_ + " (hash " + config_.hash + ")");
  // mqtt.tls_verify = false is among the config warnings main() has printed.
  // One agent per state directory, before anything touches it.
  lock_ = std::make_unique<state_dir_lock>(config_.agent.state_dir);
  // Bound first, so a taken port fails the start before anything connects or
  // spawns threads (a started MQTT client does not unwind cleanly); it answers
  // only once the loop runs, after the sources have started.
  start_health();
  open_store();
  start_transport();
  start_shortage_detection();
  start_sources();
  // Connect last: everything that can fail at start-up has been created, and a
  // Paho client destroyed in the middle of a connect (an exception unwinding)
  // crashes inside the library. Nothing is lost meanwhile: the store takes it.
  publisher_->start();
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    on_signal(signal_number);
  });
  schedule_heartbeat();
  schedule_housekeeping();
  schedule_watchdog();
  systemd::ready("running: " + std::to_string(sources_.size()) + " sources");
  log_.info("running: " + std::to_string(sources_.size()) + " sources, publishing to " + config_.mqtt.url);
  io_.run();
  log_.info("stopped");
  return 0;
}

void application::on_signal(int signal_number) {
  if (signal_number == SIGHUP) {
    reload();
  } else {
    begin_shutdown();
  }
  if (io_.stopped()) return;
  signals_.async_wait([this](const boost::system::error_code& ec, int next_signal) {
    if (ec) return;
    on_signal(next_signal);
  });
}

}  // namespace plant::app
