#pragma once
/// The outbox owns delivery: it hands out sequence numbers, appends every
/// sealed message to the spool before publishing it, keeps the in-flight window
/// below Paho's limit, sends live messages ahead of the backlog, resends what a
/// dropped connection left unacknowledged, and accounts for every message it
/// gives up on. It runs on the event-loop thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/config/agent_config.hpp"
#include "common/core/latency_histogram.hpp"
#include "common/core/log.hpp"
#include "agent/core/sample.hpp"
#include "agent/encoding/topics.hpp"
#include "common/core/seq_ranges.hpp"
#include "agent/transport/message_publisher.hpp"

namespace plant::spool {
class spool;
struct recovery_report;
}  // namespace plant::spool

namespace plant::transport {

struct outbox_options {
  std::size_t window = 64;                ///< messages in flight at most
  double backfill_share = 0.5;            ///< share of the window the backlog may use
  std::size_t queue_max_messages = 1000;  ///< live messages held in memory
  std::size_t queue_max_bytes = 8u << 20;
  int qos = 1;
  config::sync_mode sync = config::sync_mode::batch;
  std::chrono::milliseconds sync_interval{50};
};

struct outbox_counters {
  std::uint64_t sealed = 0;
  std::uint64_t published = 0;
  std::uint64_t acked = 0;
  std::uint64_t replayed = 0;
  std::uint64_t publish_errors = 0;
  std::uint64_t spool_write_errors = 0;
};

class outbox {
 public:
  /// `spool` may be null (spool.enabled = false): messages then live in memory only.
  outbox(boost::asio::io_context& io, outbox_options options, spool::spool* spool, message_publisher& publisher,
         encoding::topic_set topics);
  ~outbox();
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  /// Continues the sequence and queues the backlog found by spool recovery.
  void resume_after_recovery(const spool::recovery_report& report);
  /// The sequence number the next sealed message must carry.
  std::uint64_t next_seq() const { return next_seq_; }
  /// Queues a message sealed with next_seq(): spool first, then the wire.
  void submit(encoding::stream stream, std::string payload, epoch_ms created_at);

  void on_connected();
  void on_connection_lost();
  void on_delivered(std::uint64_t seq);
  /// Drops whole spool segments over spool.max_bytes / max_age and reports them.
  void enforce_bounds(epoch_ms now);
  /// New topics after a reload; the backlog follows them.
  void set_topics(encoding::topic_set topics) { topics_ = std::move(topics); }

  /// Nothing live is waiting or in flight (the backlog may still be on disk).
  bool live_drained() const { return live_.empty() && in_flight_.empty(); }
  /// True while an unthrottled source may produce more: the live queue is short.
  bool has_room() const;
  /// Requests a final fdatasync and waits for it (shutdown).
  void flush_spool();

  const outbox_counters& counters() const { return counters_; }
  /// Time from handing a message to the publisher to its acknowledgement (this connection's sends only).
  const latency_histogram& ack_latency() const { return ack_latency_; }
  std::uint64_t backlog_messages() const;
  std::uint64_t backlog_bytes() const;
  std::optional<epoch_ms> oldest_unacked() const;
  std::uint64_t last_seq() const { return next_seq_ - 1; }
  std::size_t in_flight() const { return in_flight_.size(); }
  /// Sequence numbers given up on (bounds, no spool and a full queue).
  const seq_ranges& dropped() const { return dropped_; }
  /// Sequence numbers lost to a damaged spool (found at recovery or when read back).
  const seq_ranges& corrupted() const { return corrupted_; }
  bool spool_healthy() const;
  std::string spool_error() const;

 private:
  struct queued_message {
    std::uint64_t seq = 0;
    encoding::stream stream = encoding::stream::telemetry;
    epoch_ms created_at = 0;
    std::string payload;
    bool on_disk = false;   ///< the spool holds it, so memory may forget it
    bool resend = false;    ///< published before; mark replayed when sent again
    bool from_backlog = false;  ///< in flight on the backlog's share of the window
    std::chrono::steady_clock::time_point sent_at{};  ///< when handed to the publisher (in flight only)
  };

  void pump();
  bool publishable(const queued_message& m) const;
  void send(queued_message message, bool from_backlog);
  bool backlog_pending() const { return spool_ && backlog_cursor_ < backlog_end_; }
  std::uint64_t live_floor() const { return live_.empty() ? next_seq_ : live_.front().seq; }
  void trim_live_queue();
  void add_to_backlog(std::uint64_t seq);
  void give_up(std::uint64_t first, std::uint64_t last, const std::string& why);
  void request_sync();
  void on_synced(std::uint64_t durable_seq);
  void schedule_sync_timer();

  boost::asio::io_context& io_;
  outbox_options options_;
  spool::spool* spool_;
  message_publisher& publisher_;
  encoding::topic_set topics_;
  log::logger log_{"outbox"};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  std::uint64_t next_seq_ = 1;
  std::deque<queued_message> live_;
  std::size_t live_bytes_ = 0;
  std::unordered_map<std::uint64_t, queued_message> in_flight_;
  std::size_t backlog_in_flight_ = 0;
  // Seqs in [backlog_cursor_, backlog_end_) may need sending from the spool.
  std::uint64_t backlog_cursor_ = 1;
  std::uint64_t backlog_end_ = 1;
  seq_ranges dropped_;
  seq_ranges corrupted_;
  outbox_counters counters_;
  latency_histogram ack_latency_;

  // Group commit state.
  boost::asio::steady_timer sync_timer_;
  bool sync_in_flight_ = false;
  bool unsynced_appends_ = false;
  bool unsynced_acks_ = false;
  std::uint64_t durable_seq_ = 0;
};

}  // namespace plant::transport
