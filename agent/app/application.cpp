#include "agent/app/application.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/app/health_endpoint.hpp"
#include "agent/app/metrics_text.hpp"
#include "agent/app/systemd_notify.hpp"
#include "agent/app/telemetry_pipeline.hpp"
#include "agent/config/config_loader.hpp"
#include "agent/edge/shortage_detector.hpp"
#include "agent/encoding/envelope.hpp"
#include "agent/sources/polled_source.hpp"
#include "agent/sources/source_registry.hpp"
#include "agent/spool/spool.hpp"
#include "agent/transport/mqtt_publisher.hpp"
#include "agent/transport/outbox.hpp"
#include "plant/v1/plant.pb.h"

namespace plant::app {

namespace {

log::level to_log_level(config::log_level level) {
  switch (level) {
    case config::log_level::debug: return log::level::debug;
    case config::log_level::info: return log::level::info;
    case config::log_level::warn: return log::level::warn;
    case config::log_level::error: return log::level::error;
  }
  return log::level::info;
}

std::string client_id_for(const config::agent_config& config) {
  if (!config.mqtt.client_id.empty()) return config.mqtt.client_id;
  return "plant-agent-" + config.agent.site + "-" + config.agent.id;
}

void add_ranges(google::protobuf::RepeatedPtrField<v1::SeqRange>* out, const seq_ranges& ranges) {
  for (const auto& range : ranges.ranges()) {
    auto* r = out->Add();
    r->set_first(range.first);
    r->set_last(range.last);
  }
}

bool same_shortage_config(const config::agent_config& a, const config::agent_config& b) {
  auto same_material = [](const config::material_config& x, const config::material_config& y) {
    return x.id == y.id && x.unit == y.unit && x.safety_stock == y.safety_stock &&
           x.reorder_point == y.reorder_point && x.lead_time == y.lead_time && x.lines == y.lines &&
           x.margin == y.margin && x.critical_horizon == y.critical_horizon;
  };
  return a.shortage.enabled == b.shortage.enabled && a.shortage.margin == b.shortage.margin &&
         a.shortage.rate_half_life == b.shortage.rate_half_life &&
         std::equal(a.materials.begin(), a.materials.end(), b.materials.begin(), b.materials.end(), same_material);
}

}  // namespace

application::application(config::agent_config config, std::string config_path, std::vector<std::string> overrides)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      overrides_(std::move(overrides)),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      heartbeat_timer_(io_),
      housekeeping_timer_(io_),
      watchdog_timer_(io_),
      shutdown_timer_(io_) {}

application::~application() = default;

std::string application::read_password() const {
  if (config_.mqtt.password_file.empty()) return {};
  std::ifstream in(config_.mqtt.password_file);
  if (!in) throw startup_error("mqtt.password_file: cannot read '" + config_.mqtt.password_file + "'");
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

void application::open_spool() {
  if (!config_.spool.enabled) {
    log_.info("spool disabled (spool.enabled = false): unacknowledged messages live in memory only");
    return;
  }
  std::filesystem::path dir = std::filesystem::path(config_.agent.state_dir) / "spool";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    // Never a reason not to start: run from memory and say so in every status.
    spool_problem_ = "cannot create spool directory " + dir.string() + ": " + ec.message();
    log_.error(spool_problem_ + "; running without a spool");
    return;
  }
  spool::options options;
  options.dir = dir;
  options.sync = config_.spool.sync;
  options.max_bytes = config_.spool.max_bytes;
  options.max_age_ms = config_.spool.max_age.count();
  options.segment_bytes = config_.spool.segment_bytes;
  spool_ = std::make_unique<spool::spool>(options);
  auto report = spool_->recover(wall_clock_ms());
  for (const auto& finding : report.findings) log::write(log::level::warn, "spool", "", finding);
  std::ostringstream summary;
  summary << "recovered " << report.records << " unacknowledged messages (" << report.bytes << " bytes) in "
          << report.segments << " segments in " << report.elapsed_us / 1000 << " ms; next seq " << report.next_seq;
  std::uint64_t lost = 0;
  for (const auto& range : report.corrupted) lost += range.last - range.first + 1;
  if (lost > 0) summary << "; " << lost << " messages lost to damage";
  log::write(log::level::info, "spool", "", summary.str());
  recovery_ = std::make_unique<spool::recovery_report>(report);
}

void application::start_transport() {
  topics_ = encoding::make_topics(config_.mqtt.topic_prefix, config_.agent.site, config_.agent.id);

  v1::AgentStatus will;
  will.set_state(v1::AgentStatus::STATE_OFFLINE);
  will.set_reason(v1::AgentStatus::REASON_CONNECTION_LOST);
  will.set_version(PLANT_VERSION);
  will.set_config_hash(config_.hash);
  will.set_started_at(started_at_);

  transport::mqtt_options options;
  options.url = config_.mqtt.url;
  options.client_id = client_id_for(config_);
  options.username = config_.mqtt.username;
  options.password = read_password();
  options.ca_file = config_.mqtt.ca_file;
  options.cert_file = config_.mqtt.cert_file;
  options.key_file = config_.mqtt.key_file;
  options.tls_verify = config_.mqtt.tls_verify;
  options.keepalive = config_.mqtt.keepalive;
  options.connect_timeout = config_.mqtt.connect_timeout;
  options.reconnect_min_delay = config_.mqtt.reconnect_min_delay;
  options.reconnect_max_delay = config_.mqtt.reconnect_max_delay;
  options.window = static_cast<int>(config_.mqtt.max_inflight);
  options.will_topic = topics_.status;
  options.will_payload = encoding::encode_status(config_.agent.id, config_.agent.site, will, started_at_);

  transport::publisher_events events;
  events.connected = [this] { on_connected(); };
  events.connection_lost = [this](const std::string&) {
    if (outbox_) outbox_->on_connection_lost();
  };
  events.delivered = [this](std::uint64_t tag) {
    if (tag != 0 && outbox_) outbox_->on_delivered(tag);  // tag 0: status messages
  };
  publisher_ = std::make_unique<transport::mqtt_publisher>(io_, options, events);

  transport::outbox_options box;
  box.window = config_.mqtt.max_inflight;
  box.backfill_share = config_.spool.backfill_share;
  box.queue_max_messages = config_.mqtt.queue_max_messages;
  box.qos = config_.mqtt.qos;
  box.sync = config_.spool.sync;
  box.sync_interval = config_.spool.sync_interval;
  outbox_ = std::make_unique<transport::outbox>(io_, box, spool_.get(), *publisher_, topics_);
  if (recovery_) outbox_->resume_after_recovery(*recovery_);

  pipeline_ = std::make_unique<telemetry_pipeline>(
      io_, *outbox_, encoding::envelope_identity{config_.agent.id, config_.agent.site}, config_.mqtt.max_batch,
      config_.mqtt.publish_interval);
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
  if (!config_.shortage.enabled || config_.materials.empty()) return;
  detector_ = std::make_unique<edge::shortage_detector>(config_.materials, config_.shortage);
  // The detector sees every sample in sample time, before it is batched, so an
  // alert is sealed next to the data that caused it.
  pipeline_->set_observer([this, alerts = std::vector<edge::shortage_alert>()](const sample& s, const std::string&) mutable {
    detector_->observe(s, alerts);
    if (!alerts.empty()) publish_alerts(alerts);
  });
  log_.info("shortage detection on for " + std::to_string(config_.materials.size()) + " materials");
}

void application::start_health() {
  if (config_.health.listen.empty()) return;
  health_endpoint_options options;
  options.listen = config_.health.listen;
  health_ = std::make_unique<health_endpoint>(io_, options, [this] { return health_now(); });
  auto result = health_->start();
  if (!result.ok()) throw startup_error(result.message);
}

health_snapshot application::health_now() const {
  health_snapshot s;
  s.version = PLANT_VERSION;
  s.agent = config_.agent.id;
  s.site = config_.agent.site;
  s.config_hash = config_.hash;
  s.started_at_ms = started_at_;

  s.broker_url = publisher_->url();
  s.connected = publisher_->connected();
  s.broker_error = publisher_->last_error();
  s.reconnects = publisher_->reconnects();

  s.samples_in = pipeline_->samples_in();
  s.messages = outbox_->counters();
  s.ack_latency = outbox_->ack_latency();
  s.backlog_messages = outbox_->backlog_messages();
  s.backlog_bytes = outbox_->backlog_bytes();
  if (auto oldest = outbox_->oldest_unacked()) {
    s.backlog_oldest_age_ms = std::max<epoch_ms>(0, wall_clock_ms() - *oldest);
  }
  s.max_backlog_age = config_.health.max_backlog_age;

  s.spool_enabled = config_.spool.enabled;
  s.spool_healthy = spool_ && spool_->healthy();
  s.spool_error = !spool_problem_.empty() ? spool_problem_ : outbox_->spool_error();
  s.spool_bytes = spool_ ? spool_->disk_bytes() : 0;
  s.dropped = outbox_->dropped().count();
  s.corrupted = outbox_->corrupted().count();

  for (const auto& source : sources_) s.sources.push_back(source->stats());
  s.log_suppressed = log::suppressed_total();
  return s;
}

void application::publish_alerts(std::vector<edge::shortage_alert>& alerts) {
  for (const auto& alert : alerts) {
    epoch_ms now = wall_clock_ms();
    std::string text = alert.material.material + ": " + std::string(edge::to_string(alert.previous)) + " -> " +
                       std::string(edge::to_string(alert.material.status));
    if (alert.material.projected_stockout > 0) {
      text += ", projected stockout in " +
              std::to_string((alert.material.projected_stockout - alert.material.at) / 3600000) + " h";
    }
    log::write(alert.material.status >= edge::stock_status::critical ? log::level::warn : log::level::info,
               "shortage", "", text);
    outbox_->submit(encoding::stream::alert,
                    encoding::encode_alert(config_.agent.id, config_.agent.site, outbox_->next_seq(), alert, now),
                    now);
  }
  alerts.clear();
  // The retained status carries every material's current picture for late subscribers.
  status_due_ = true;
}

void application::stop_sources() {
  for (auto& source : sources_) source->stop();
  sources_.clear();
}

void application::on_connected() {
  publish_status(v1::AgentStatus::REASON_BIRTH);
  outbox_->on_connected();
}

void application::fill_status(v1::AgentStatus& status, int reason) const {
  status.set_state(shutting_down_ ? v1::AgentStatus::STATE_OFFLINE : v1::AgentStatus::STATE_ONLINE);
  status.set_reason(static_cast<v1::AgentStatus::Reason>(reason));
  status.set_version(PLANT_VERSION);
  status.set_config_hash(config_.hash);
  status.set_started_at(started_at_);
  epoch_ms now = wall_clock_ms();
  status.set_time(now);
  status.set_last_seq(outbox_->last_seq());

  const auto& box = outbox_->counters();
  auto* counters = status.mutable_counters();
  counters->set_samples_in(pipeline_->samples_in());
  counters->set_messages_sealed(box.sealed);
  counters->set_messages_published(box.published);
  counters->set_messages_acked(box.acked);
  counters->set_messages_replayed(box.replayed);
  counters->set_reconnects(publisher_->reconnects());
  counters->set_publish_errors(box.publish_errors);
  counters->set_spool_write_errors(box.spool_write_errors);
  counters->set_log_suppressed(log::suppressed_total());

  auto* backlog = status.mutable_backlog();
  backlog->set_messages(outbox_->backlog_messages());
  backlog->set_bytes(outbox_->backlog_bytes());
  if (auto oldest = outbox_->oldest_unacked()) backlog->set_oldest_age_ms(std::max<epoch_ms>(0, now - *oldest));
  backlog->set_spool_bytes(spool_ ? spool_->disk_bytes() : 0);
  backlog->set_spool_healthy(spool_ && spool_->healthy());

  for (const auto& source : sources_) {
    auto stats = source->stats();
    auto* health = status.add_sources();
    health->set_name(stats.name);
    health->set_kind(stats.kind);
    health->set_healthy(stats.healthy);
    health->set_polls(stats.polls);
    health->set_errors(stats.errors);
    health->set_samples(stats.samples);
    health->set_rejected(stats.rejected);
    health->set_skipped_ticks(stats.skipped_ticks);
    health->set_last_error(stats.last_error);
    health->set_reconnects(stats.reconnects);
  }
  status.set_dropped(outbox_->dropped().count());
  add_ranges(status.mutable_dropped_ranges(), outbox_->dropped());
  status.set_corrupted(outbox_->corrupted().count());
  add_ranges(status.mutable_corrupted_ranges(), outbox_->corrupted());
  std::string error = !spool_problem_.empty() ? spool_problem_ : outbox_->spool_error();
  if (error.empty()) error = publisher_->last_error();
  status.set_last_error(error);
  if (detector_) {
    for (const auto& material : detector_->snapshot()) encoding::fill_material_status(*status.add_materials(), material);
  }
}

void application::publish_status(int reason) {
  if (!publisher_ || !publisher_->connected()) return;
  v1::AgentStatus status;
  fill_status(status, reason);
  std::string payload =
      encoding::encode_status(config_.agent.id, config_.agent.site, status, wall_clock_ms());
  // Tag 0: status is state, not part of the sequenced stream; a lost one is
  // superseded by the next heartbeat.
  publisher_->publish(topics_.status, std::move(payload), 1, true, 0);
}

void application::schedule_heartbeat() {
  heartbeat_timer_.expires_after(config_.agent.heartbeat_interval);
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || shutting_down_) return;
    publish_status(v1::AgentStatus::REASON_HEARTBEAT);
    schedule_heartbeat();
  });
}

void application::schedule_housekeeping() {
  housekeeping_timer_.expires_after(std::chrono::seconds(1));
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    outbox_->enforce_bounds(wall_clock_ms());
    if (status_due_) {
      status_due_ = false;
      publish_status(v1::AgentStatus::REASON_HEARTBEAT);
    }
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

void application::reload() {
  systemd::reloading();
  log_.info("SIGHUP: reloading " + config_path_);
  auto result = config::load_config_file(config_path_, overrides_);
  if (!result.config) {
    for (const auto& error : result.errors) log::write(log::level::error, "config", "", error.to_string());
    log_.error("reload rejected: " + std::to_string(result.errors.size()) +
               " errors; keeping the running configuration");
    systemd::ready("running; last reload rejected");
    return;
  }
  config::agent_config next = std::move(*result.config);
  auto needs_restart = [&](bool changed, const char* key) {
    if (changed) log_.warn(std::string(key) + " changed; it takes effect after a restart");
  };
  needs_restart(next.agent.id != config_.agent.id, "agent.id");
  needs_restart(next.agent.site != config_.agent.site, "agent.site");
  needs_restart(next.agent.state_dir != config_.agent.state_dir, "agent.state_dir");
  needs_restart(next.mqtt.url != config_.mqtt.url || next.mqtt.client_id != config_.mqtt.client_id ||
                    next.mqtt.username != config_.mqtt.username ||
                    next.mqtt.password_file != config_.mqtt.password_file ||
                    next.mqtt.ca_file != config_.mqtt.ca_file || next.mqtt.cert_file != config_.mqtt.cert_file ||
                    next.mqtt.key_file != config_.mqtt.key_file || next.mqtt.topic_prefix != config_.mqtt.topic_prefix,
                "the MQTT connection (mqtt.url, credentials, TLS files, topic_prefix)");
  needs_restart(next.health.listen != config_.health.listen, "health.listen");
  needs_restart(next.spool.enabled != config_.spool.enabled || next.spool.sync != config_.spool.sync ||
                    next.spool.max_bytes != config_.spool.max_bytes ||
                    next.spool.segment_bytes != config_.spool.segment_bytes,
                "spool.*");
  // Keep what needs a restart; take everything else.
  next.agent.id = config_.agent.id;
  next.agent.site = config_.agent.site;
  next.agent.state_dir = config_.agent.state_dir;
  next.mqtt.url = config_.mqtt.url;
  next.mqtt.client_id = config_.mqtt.client_id;
  next.mqtt.topic_prefix = config_.mqtt.topic_prefix;
  next.spool = config_.spool;
  next.health.listen = config_.health.listen;

  stop_sources();
  pipeline_->seal_now();
  // The detector's estimates take hours to build: keep them unless the materials changed.
  bool materials_changed = !same_shortage_config(next, config_);
  config_ = std::move(next);
  log::set_level(to_log_level(config_.agent.level));
  pipeline_->set_batching(config_.mqtt.max_batch, config_.mqtt.publish_interval);
  if (materials_changed) start_shortage_detection();
  start_sources();
  log_.info("reloaded: " + std::to_string(sources_.size()) + " sources, config hash " + config_.hash);
  publish_status(v1::AgentStatus::REASON_RELOAD);
  systemd::ready("running");
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
  wait_for_flush(std::chrono::steady_clock::now() + config_.mqtt.shutdown_timeout);
}

void application::wait_for_flush(std::chrono::steady_clock::time_point deadline) {
  if (outbox_->live_drained() || !publisher_->connected() || std::chrono::steady_clock::now() >= deadline) {
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
  if (!outbox_->live_drained()) {
    log_.warn("shutdown timeout: " + std::to_string(outbox_->backlog_messages()) +
              " unacknowledged messages stay in the spool for the next start");
  }
  publish_status(v1::AgentStatus::REASON_SHUTDOWN);
  publisher_->stop(std::chrono::milliseconds(1000));
  outbox_->flush_spool();
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
  // Bound first, so a taken port fails the start before anything connects or
  // spawns threads (a started MQTT client does not unwind cleanly); it answers
  // only once the loop runs, after the sources have started.
  start_health();
  open_spool();
  start_transport();
  start_shortage_detection();
  start_sources();
  // Connect last: everything that can fail at start-up has been created, and a
  // Paho client destroyed in the middle of a connect (an exception unwinding)
  // crashes inside the library. Nothing is lost meanwhile: the spool takes it.
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
