#pragma once
/// Wraps one source with everything sources have in common: a drift-free poll
/// timer, overrun skipping, a worker thread for blocking sources, backoff after
/// failures, stale marking of last-known values, a log prefix and stats.
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/core/backoff.hpp"
#include "common/core/log.hpp"
#include "agent/sources/source.hpp"
#include "agent/sources/source_settings.hpp"
#include "common/core/clock.hpp"

namespace plant::sources {

/// Where polled samples go (the telemetry pipeline).
class sample_sink {
 public:
  virtual ~sample_sink() = default;
  /// Takes the samples of one poll of `source_name`.
  virtual void accept(std::vector<sample>& samples, const std::string& source_name) = 0;
  /// Takes a receipts or demand snapshot of `source_name` (not telemetry: it feeds the
  /// shortage detector only).
  virtual void accept_supply(const supply_snapshot& snapshot, const std::string& source_name) {
    (void)snapshot;
    (void)source_name;
  }
  /// False while the pipeline is saturated; unthrottled sources wait.
  virtual bool has_room() const = 0;
  /// Runs done(true) once everything accepted so far is safe (on disk or acknowledged),
  /// done(false) if any of it was dropped first.
  virtual void when_accepted_is_safe(std::function<void(bool safe)> done) = 0;
};

struct source_stats {
  std::string name;
  std::string kind;
  bool healthy = true;
  std::uint64_t polls = 0;
  std::uint64_t errors = 0;
  std::uint64_t samples = 0;
  std::uint64_t supply_snapshots = 0;  ///< receipts and demand snapshots handed on
  std::uint64_t rejected = 0;
  std::uint64_t skipped_ticks = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t unreported = 0;        ///< samples report by exception held back (the detector saw them)
  std::string last_error;
};

class polled_source {
 public:
  /// `common` gives the retry delays: the one backoff every source shares.
  polled_source(boost::asio::io_context& io, std::unique_ptr<source> wrapped, const source_common& common,
                sample_sink& sink);
  ~polled_source();
  polled_source(const polled_source&) = delete;
  polled_source& operator=(const polled_source&) = delete;

  /// Starts polling now and then every interval.
  void start();
  /// Stops the timer and joins the worker; safe to call twice.
  void stop();
  const std::string& name() const { return source_->name(); }
  /// A copy of the counters for the status message.
  source_stats stats() const;

 private:
  void schedule_next();
  void on_tick(const boost::system::error_code& ec);
  void poll_inline();
  void handle_result(poll_result result, epoch_ms polled_at);
  void republish_stale(epoch_ms now);
  /// Marks what report by exception holds back, then gives the samples to the sink.
  void hand_on(std::vector<sample>& samples, epoch_ms now);
  void worker_loop();

  boost::asio::io_context& io_;
  std::unique_ptr<source> source_;
  sample_sink& sink_;
  log::logger log_;
  loop_timer timer_;
  backoff backoff_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  source_stats stats_;
  std::vector<sample> last_values_;   ///< last good reading per point, for stale marking
  report_policy report_defaults_;     ///< the source's deadband keys, under each point's own
  bool filtering_ = false;            ///< some deadband key is set: report by exception is on
  bool untracked_logged_ = false;     ///< the filter's point bound was reached and said so
  exception_filter exception_filter_;
  loop_clock::time_point retry_at_{};
  bool failing_ = false;
  bool poll_running_ = false;
  bool overrun_logged_ = false;
  bool stopped_ = false;
  bool reading_more_ = false;  ///< the last poll said more is ready: poll again as soon as there is room

  // Blocking sources: one worker thread each, fed one poll at a time.
  std::thread worker_;
  std::mutex worker_mutex_;
  std::condition_variable worker_cv_;
  bool worker_has_request_ = false;
  bool worker_stop_ = false;
  epoch_ms worker_request_time_ = 0;
};

}  // namespace plant::sources
