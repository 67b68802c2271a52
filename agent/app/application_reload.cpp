// SIGHUP: the schema decides what each changed key does. Live keys are applied
// at once, reconnect keys by reconnecting to the broker with the new settings,
// restart keys are reported and keep their running values. Every changed key is
// logged by name with what happened to it.
#include <algorithm>

#include "agent/app/application.hpp"
#include "agent/app/derived_settings.hpp"
#include "agent/app/systemd_notify.hpp"
#include "agent/app/telemetry_pipeline.hpp"
#include "agent/config/config_loader.hpp"
#include "agent/edge/shortage_detector.hpp"
#include "agent/sources/polled_source.hpp"
#include "agent/sparkplug/edge_node.hpp"
#include "common/spool/spool.hpp"
#include "agent/store/memory_store.hpp"
#include "agent/store/spool_store.hpp"
#include "agent/transport/mqtt_publisher.hpp"
#include "agent/transport/outbox.hpp"

namespace plant::app {

namespace {

std::string outcome(const config::key_change& change) {
  switch (change.policy) {
    case config::reload_policy::live: return "applied";
    case config::reload_policy::reconnect: return "applied by reconnecting to the broker";
    case config::reload_policy::restart:
      return "takes effect after a restart; running with " +
             (change.before.empty() ? std::string("its absence") : change.before) + " until then";
  }
  return "applied";
}

}  // namespace

void application::reload() {
  systemd::reloading();
  log_.info("SIGHUP: reloading " + config_path_);
  config::load_result result = config::load_config_file(config_path_, overrides_);
  for (const auto& warning : result.warnings) log::write(log::level::warn, "config", "", warning.to_string());
  if (!result.config) {
    for (const auto& error : result.errors) log::write(log::level::error, "config", "", error.to_string());
    log_.error("reload rejected: " + std::to_string(result.errors.size()) +
               " errors; keeping the running configuration");
    systemd::ready("running; last reload rejected");
    return;
  }
  config::reload_plan plan = config::plan_reload(*tree_, *result.tree);
  // A rotated certificate or a new password under the same file name is a change too.
  const bool files_changed = connection_fingerprint(*result.config) != connection_fingerprint_;
  if (plan.changes.empty() && !files_changed) {
    log_.info("reloaded: nothing changed");
    systemd::ready("running");
    return;
  }
  for (const auto& change : plan.changes) {
    const auto level = change.policy == config::reload_policy::restart ? log::level::warn : log::level::info;
    log::write(level, "config", "", config::describe(change) + " (" + outcome(change) + ")");
  }
  if (files_changed) log_.info("the password or TLS files changed (applied by reconnecting to the broker)");
  config::agent_config next = config::make_agent_config(plan.merged, config_.source_path);
  const bool reconnect = files_changed || plan.any(config::reload_policy::reconnect);
  try {
    apply_changes(std::move(next), plan, reconnect);
  } catch (const std::exception& e) {
    // A new password file that cannot be read: the running connection stays.
    log_.error(std::string("reload: ") + e.what() + "; keeping the running connection settings");
  }
  tree_ = std::make_shared<const config::table_value>(std::move(plan.merged));
  log_.info("reloaded: " + std::to_string(sources_.size()) + " sources, " + std::to_string(plan.changes.size()) +
            " keys changed, config hash " + config_.hash);
  publish_status(encoding::status_reason::reload);
  systemd::ready("running");
}

void application::apply_changes(config::agent_config next, const config::reload_plan& plan, bool reconnect) {
  // Everything that can throw (reading a new password) before anything changes.
  std::unique_ptr<transport::mqtt_options> connection;
  if (reconnect) connection = std::make_unique<transport::mqtt_options>(connection_options(next, read_password(next)));

  const bool sources_changed = plan.touches("source.");
  const bool shortage_changed = plan.touches("shortage.") || plan.touches("material");
  if (sources_changed) {
    stop_sources();
    pipeline_->seal_now();
  }
  config_ = std::move(next);
  log::set_level(to_log_level(config_.agent.level));
  pipeline_->set_batching(batching_settings(config_));
  outbox_->set_options(outbox_settings(config_));
  if (auto* disk = dynamic_cast<store::spool_store*>(store_.get())) {
    disk->set_spool_bounds(config_.spool.max_bytes, config_.spool.max_age.count(), config_.spool.segment_bytes);
    disk->set_fallback_bounds(config_.mqtt.queue_max_messages, memory_bound_bytes(config_));
    disk->disk().set_sync_mode(config_.spool.sync, config_.spool.sync_interval.count());
  } else if (auto* memory = dynamic_cast<store::memory_store*>(store_.get())) {
    memory->set_bounds(config_.mqtt.queue_max_messages, memory_bound_bytes(config_));
  }
  outbox_->enforce_bounds(wall_clock_ms());
  if (plan.touches("agent.heartbeat_interval")) {
    heartbeat_timer_.cancel();
    schedule_heartbeat();
  }
  // The detector's estimates take hours to build: they are kept unless the materials changed.
  if (shortage_changed) start_shortage_detection();
  if (sources_changed) start_sources();
  if (edge_node_ && (shortage_changed || sources_changed)) {
    std::vector<std::string> materials, source_names;
    for (const auto& material : config_.materials) materials.push_back(material.id);
    for (const auto& source : config_.sources) source_names.push_back(source.settings->common.name);
    edge_node_->reconfigure(materials, source_names);
  }
  if (connection) {
    topics_ = encoding::make_topics(config_.mqtt.topic_prefix, config_.agent.site, config_.agent.id);
    outbox_->set_topics(topics_);
    connection_fingerprint_ = connection_fingerprint(config_);
    // A chosen disconnect discards the Will: a Sparkplug node says its NDEATH first.
    if (edge_node_) edge_node_->end_session("reconnecting with new settings");
    publisher_->reconfigure(std::move(*connection));
  }
}

}  // namespace plant::app
