#pragma once
/// The daemon: one io_context thread owns all state. Start order: health
/// listener bound (if health.listen), spool recovery, MQTT, outbox, pipeline,
/// sources, then READY. Stop order: health listener, sources, last batch,
/// bounded flush, offline status, disconnect, final fdatasync.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/agent_config.hpp"
#include "common/core/log.hpp"
#include "agent/core/sample.hpp"
#include "agent/encoding/topics.hpp"

namespace plant::spool {
class spool;
struct recovery_report;
}
namespace plant::sources {
class polled_source;
}
namespace plant::transport {
class mqtt_publisher;
class outbox;
}  // namespace plant::transport
namespace plant::v1 {
class AgentStatus;
}
namespace plant::edge {
class shortage_detector;
struct shortage_alert;
}

namespace plant::app {

class telemetry_pipeline;
class health_endpoint;
struct health_snapshot;

/// Thrown for start-up errors; main() prints the message and exits non-zero.
class startup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class application {
 public:
  application(config::agent_config config, std::string config_path, std::vector<std::string> overrides);
  ~application();

  /// Runs until SIGTERM/SIGINT; returns the process exit status.
  int run();

 private:
  void open_spool();
  void start_transport();
  void start_sources();
  void start_shortage_detection();
  void start_health();
  health_snapshot health_now() const;
  void publish_alerts(std::vector<edge::shortage_alert>& alerts);
  void stop_sources();
  void on_connected();
  void publish_status(int reason);
  void fill_status(v1::AgentStatus& status, int reason) const;
  void schedule_heartbeat();
  void schedule_housekeeping();
  void schedule_watchdog();
  void begin_shutdown();
  void wait_for_flush(std::chrono::steady_clock::time_point deadline);
  void finish_shutdown();
  void reload();
  void on_signal(int signal_number);
  std::string read_password() const;

  config::agent_config config_;
  std::string config_path_;
  std::vector<std::string> overrides_;
  log::logger log_{"agent"};
  epoch_ms started_at_ = 0;

  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer housekeeping_timer_;
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer shutdown_timer_;

  encoding::topic_set topics_;
  std::unique_ptr<spool::spool> spool_;
  std::unique_ptr<spool::recovery_report> recovery_;
  std::string spool_problem_;
  std::unique_ptr<transport::mqtt_publisher> publisher_;
  std::unique_ptr<transport::outbox> outbox_;
  std::unique_ptr<telemetry_pipeline> pipeline_;
  std::vector<std::unique_ptr<sources::polled_source>> sources_;
  std::unique_ptr<edge::shortage_detector> detector_;
  std::unique_ptr<health_endpoint> health_;  ///< null unless health.listen is set
  bool shutting_down_ = false;
  bool status_due_ = false;  ///< publish a status at the next housekeeping tick (after alerts)
};

}  // namespace plant::app
