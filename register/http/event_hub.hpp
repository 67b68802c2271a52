#pragma once
/// GET /api/events: Server-Sent Events for the board. Every register instance
/// LISTENs on PostgreSQL, so a board sees what any instance of a share group
/// stored, not only its own: the writers NOTIFY once per committed batch
/// (plant_register_changes), per new alert (plant_register_alert, the alert as
/// JSON) and per operator action (plant_register_action). On a change the hub
/// re-reads the current picture (agents, latest stock and lines, material
/// status) at most every refresh_interval and sends what differs.
///
/// Events: hello (on open: reload everything), alert, action, agent, stock,
/// line, material, ping (every ping_interval, so a page can tell a silent
/// link from a quiet plant). Runs on the io_context thread; the LISTEN
/// connection is opened while streams are open and retried while PostgreSQL is away.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/core/clock.hpp"
#include "common/core/log.hpp"
#include "common/http/http_server.hpp"
#include "register/db/pg_connection.hpp"

namespace plant::central::api {

struct event_hub_options {
  db::connection_options connection;
  std::size_t max_streams = 16;
  std::size_t max_rows = 100000;  ///< bound of each re-read
  std::chrono::milliseconds refresh_interval{500};
  std::chrono::milliseconds ping_interval{15000};
  std::chrono::milliseconds retry_interval{5000};
};

struct event_hub_stats {
  std::uint64_t streams_opened = 0;
  std::uint64_t streams_refused = 0;  ///< over max_streams (answered 503)
  std::uint64_t events_sent = 0;      ///< events queued, summed over streams
  std::uint64_t refreshes = 0;
  std::uint64_t database_errors = 0;
  bool listening = false;
};

class event_hub {
 public:
  event_hub(boost::asio::io_context& io, event_hub_options options);
  ~event_hub();
  event_hub(const event_hub&) = delete;
  event_hub& operator=(const event_hub&) = delete;

  /// The answer to GET /api/events.
  http::answer open();
  /// Closes the LISTEN connection and the timers (streams end with the server).
  void stop();
  const event_hub_stats& stats() const { return stats_; }
  std::size_t open_streams() const;

 private:
  struct row {
    std::string change_key;  ///< what is compared
    std::string json;        ///< what is sent
  };
  using snapshot = std::map<std::string, row>;  ///< "<kind>\x1f<site>\x1f<agent>\x1f<name>" -> row

  void attach(std::shared_ptr<http::event_stream> stream);
  void ensure_listening();
  void wait_readable();
  void on_readable();
  void schedule_refresh();
  void refresh(bool send);
  snapshot read_snapshot();
  void broadcast(std::string_view event, std::string_view data);
  void prune();
  void ping_later();
  void connection_lost(const std::string& why);

  boost::asio::io_context& io_;
  event_hub_options options_;
  std::vector<std::shared_ptr<http::event_stream>> streams_;
  std::unique_ptr<db::connection> conn_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> socket_;
  boost::asio::steady_timer refresh_timer_;
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer retry_timer_;
  bool refresh_pending_ = false;
  bool retry_pending_ = false;
  bool ping_running_ = false;
  bool stopped_ = false;
  snapshot last_;
  event_hub_stats stats_;
  log::logger log_{"events"};
};

}  // namespace plant::central::api
