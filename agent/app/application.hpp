#pragma once
/// The daemon's composition root: one io_context thread owns all state.
/// Start order: state_dir lock, health listener bound (if health.listen), store
/// (spool recovery), MQTT, outbox, pipeline, shortage detection, sources, then
/// READY. Stop order: health listener, sources, last batch, bounded flush,
/// what only memory held reported, offline status, disconnect, final sync.
/// Reload (SIGHUP) lives in application_reload.cpp.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/app/agent_stats.hpp"
#include "agent/config/agent_config.hpp"
#include "agent/encoding/status_encoding.hpp"
#include "agent/encoding/topics.hpp"
#include "agent/sources/supply_snapshot.hpp"
#include "common/config/reload.hpp"
#include "common/config/schema.hpp"
#include "common/core/clock.hpp"
#include "common/core/log.hpp"

namespace plant::store {
class message_store;
}
namespace plant::sources {
class polled_source;
}
namespace plant::transport {
class mqtt_publisher;
class outbox;
struct mqtt_options;
struct outbox_options;
}  // namespace plant::transport
namespace plant::sparkplug {
class edge_node;
}
namespace plant::edge {
class shortage_detector;
struct shortage_alert;
}

namespace plant::app {

class telemetry_pipeline;
class health_endpoint;
class state_dir_lock;
struct batching;

/// Thrown for start-up errors; main() prints the message and exits non-zero.
class startup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class application {
 public:
  /// `tree` is the value tree `config` was made from (reload compares against it).
  application(config::agent_config config, std::shared_ptr<const config::table_value> tree,
              std::string config_path, std::vector<std::string> overrides);
  ~application();

  /// Runs until SIGTERM/SIGINT; returns the process exit status.
  int run();

 private:
  // Start-up, in order.
  void open_store();
  void start_transport();
  void start_shortage_detection();
  void start_sources();
  void start_health();

  // The stats snapshot and the status message made from it.
  agent_stats collect_stats() const;
  void publish_status(encoding::status_reason reason);
  void publish_alerts(std::vector<edge::shortage_alert>& alerts);
  void on_connected();
  /// The MQTT connection's options for `c`, with the Sparkplug Will and subscriptions in that mode.
  transport::mqtt_options connection_options(const config::agent_config& c, const std::string& password);
  /// True while the outbox may publish (connected; in Sparkplug mode also born).
  bool session_open() const;

  // Timers.
  void schedule_heartbeat();
  void schedule_housekeeping();
  void schedule_watchdog();
  void schedule_status_soon();

  // Stopping.
  void begin_shutdown();
  void wait_for_flush(loop_clock::time_point deadline);
  void finish_shutdown();
  void stop_sources();
  void on_signal(int signal_number);

  // Reloading (application_reload.cpp).
  void reload();
  void apply_changes(config::agent_config next, const config::reload_plan& plan, bool reconnect);

  config::agent_config config_;
  std::shared_ptr<const config::table_value> tree_;
  std::string config_path_;
  std::vector<std::string> overrides_;
  log::logger log_{"agent"};
  epoch_ms started_at_ = 0;
  std::string connection_fingerprint_;  ///< password and TLS file contents, to notice a change on SIGHUP

  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  loop_timer heartbeat_timer_;
  loop_clock::time_point tls_checked_at_{};  ///< last hourly look at the TLS files (heartbeat)
  loop_timer housekeeping_timer_;
  loop_timer watchdog_timer_;
  loop_timer shutdown_timer_;
  /// SIGTERM + mqtt.shutdown_timeout: the flush and the DISCONNECT both end by then.
  loop_clock::time_point shutdown_deadline_{};
  loop_timer status_timer_;

  encoding::topic_set topics_;
  std::unique_ptr<state_dir_lock> lock_;
  std::unique_ptr<store::message_store> store_;
  std::vector<seq_range> recovered_corrupted_;
  std::vector<seq_range> recovered_lost_from_memory_;
  bool recovered_after_power_cut_ = false;
  std::string store_problem_;
  std::unique_ptr<transport::mqtt_publisher> publisher_;
  /// mqtt.format = "sparkplug": between the outbox and publisher_.
  std::unique_ptr<sparkplug::edge_node> edge_node_;
  std::unique_ptr<transport::outbox> outbox_;
  std::unique_ptr<telemetry_pipeline> pipeline_;
  std::vector<std::unique_ptr<sources::polled_source>> sources_;
  std::unique_ptr<edge::shortage_detector> detector_;
  /// The newest receipts and demand snapshot of each source, so a detector rebuilt by a
  /// reload starts from the orders and plans it had (sources hand them on only when new).
  std::map<std::pair<std::string, int>, sources::supply_snapshot> supply_snapshots_;
  std::unique_ptr<health_endpoint> health_;  ///< null unless health.listen is set
  bool shutting_down_ = false;
  bool status_due_ = false;  ///< a status goes out shortly (after alerts)
};

}  // namespace plant::app
