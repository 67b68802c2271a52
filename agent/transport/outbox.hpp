#pragma once
/// The outbox owns delivery: it hands out sequence numbers, puts every sealed
/// message into the store before publishing it, keeps the in-flight window
/// below Paho's limit, sends live messages ahead of the backlog, resends what a
/// dropped connection left unacknowledged, tells sources when what they
/// produced is safe, and accounts for every message it gives up on. It runs on
/// the event-loop thread only.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/agent_config.hpp"
#include "agent/encoding/topics.hpp"
#include "agent/store/message_store.hpp"
#include "agent/transport/message_publisher.hpp"
#include "common/core/backoff.hpp"
#include "common/core/clock.hpp"
#include "common/core/latency_histogram.hpp"
#include "common/core/log.hpp"
#include "common/core/seq_ranges.hpp"

namespace plant::transport {

struct outbox_options {
  std::size_t window = 64;                ///< messages in flight at most
  double backfill_share = 0.5;            ///< share of the window the backlog may use
  std::size_t queue_max_messages = 1000;  ///< live messages waiting for the window; older ones wait as backlog
  int qos = 1;
  config::sync_mode sync = config::sync_mode::batch;
  std::chrono::milliseconds sync_interval{50};
  std::size_t max_message_bytes = 256u << 10;  ///< larger messages are refused at sealing (reported dropped)
  /// Pause after the broker refuses a message, doubling while it keeps refusing (mqtt.reconnect_*_delay).
  std::chrono::milliseconds refusal_min_delay{1000};
  std::chrono::milliseconds refusal_max_delay{60000};
};

struct outbox_counters {
  std::uint64_t sealed = 0;
  std::uint64_t published = 0;       ///< publishes handed to the connection, resends included
  std::uint64_t acked = 0;
  std::uint64_t replayed = 0;        ///< of the published, sent again or from the backlog
  std::uint64_t publish_errors = 0;  ///< publishes the connection could not take (retried later)
  std::uint64_t refused = 0;         ///< messages the client refused for good (reported dropped)
  std::uint64_t broker_refusals = 0; ///< publishes an MQTT 5 broker refused (held or dropped by reason)
};

/// Where a sealed message went.
struct seal_result {
  std::uint64_t seq = 0;
  store::durability where = store::durability::dropped;
};

class outbox {
 public:
  outbox(boost::asio::io_context& io, outbox_options options, store::message_store& store,
         message_publisher& publisher, encoding::topic_set topics);
  ~outbox();
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  /// Continues the sequence after the store's recovery and queues what it holds as backlog;
  /// `corrupted` are the seqs recovery found destroyed, `lost_from_memory` those handed out that
  /// no record on disk holds (only memory held them, or `after_power_cut` the rest of the synced
  /// reservation); both are reported in every status.
  void resume_after_recovery(const std::vector<seq_range>& corrupted,
                             const std::vector<seq_range>& lost_from_memory = {}, bool after_power_cut = false);
  /// The sequence number the next sealed message gets.
  std::uint64_t next_seq() const { return next_seq_; }
  /// Seals one message: `encode(seq)` makes its bytes with the seq it is given, then the
  /// message goes to the store and (when connected) onto the wire.
  seal_result seal(encoding::stream stream, const std::function<std::string(std::uint64_t seq)>& encode,
                   epoch_ms created_at);
  /// The unsequenced path (the retained status): published only while connected, never stored.
  bool publish_status(const std::string& topic, std::string payload);
  /// Calls done(true) once every message in [first, last] is safe (synced to disk, or acknowledged
  /// by the broker), or done(false) as soon as one of them is dropped.
  void when_safe(std::uint64_t first, std::uint64_t last, std::function<void(bool safe)> done);

  void on_connected();
  void on_connection_lost();
  void on_delivered(std::uint64_t seq);
  /// The publisher answered retry while staying connected and can take more now.
  void on_writable();
  /// The broker refused `seq` (MQTT 5): dropped and reported when it never will take those
  /// bytes, else held in the store and sent again after a pause that grows while it refuses.
  void on_refused(std::uint64_t seq, const publish_refusal& refusal);
  /// This connection's broker limits: at most `receive_maximum` in flight, and no payload over
  /// `max_payload_bytes` (0 = the broker set none). Applies until the next call.
  void set_broker_limits(std::size_t receive_maximum, std::size_t max_payload_bytes);
  /// The window in effect: mqtt.max_inflight, or less when the broker says so.
  std::size_t window() const { return std::min(options_.window, broker_window_); }
  /// The largest payload sent now: mqtt.max_message_bytes, or less when the broker says so.
  std::size_t max_message_bytes() const;
  /// Why the broker last refused a message; empty once one is accepted again.
  const std::string& last_refusal() const { return last_refusal_; }
  /// Drops what is over the store's bounds and reports it.
  void enforce_bounds(epoch_ms now);
  /// New options after a reload (the window takes effect at once, the rest at the next message).
  void set_options(const outbox_options& options);
  /// New topics after a reload; the backlog follows them.
  void set_topics(encoding::topic_set topics) { topics_ = std::move(topics); }
  /// A clean stop: what only memory holds is lost with the process; reported as dropped
  /// (so the final status accounts for it) and logged. Returns how many.
  std::uint64_t give_up_memory_only(const std::string& why);

  /// Nothing live is waiting or in flight (the backlog may still be in the store).
  bool live_drained() const { return live_.empty() && in_flight_.empty(); }
  /// True while an unthrottled source may produce more: the live queue is short.
  bool has_room() const;
  /// Requests a final sync of the store and waits for it (shutdown).
  void flush_store();

  const outbox_counters& counters() const { return counters_; }
  /// Time from handing a message to the publisher to its acknowledgement (this connection's sends only).
  const latency_histogram& ack_latency() const { return ack_latency_; }
  std::uint64_t last_seq() const { return next_seq_ - 1; }
  std::size_t in_flight() const { return in_flight_.size(); }
  /// Messages held only in memory (the store's fallback, or no spool at all).
  std::uint64_t memory_only() const { return memory_only_.count(); }
  /// Sequence numbers given up on (bounds, a full memory store, refused by the client).
  const seq_ranges& dropped() const { return dropped_; }
  /// Sequence numbers lost to a damaged spool (found at recovery or when read back).
  const seq_ranges& corrupted() const { return corrupted_; }

 private:
  struct in_flight_message {
    store::stored_message message;  ///< kept so a bound that removes the stored copy loses nothing in flight
    loop_clock::time_point sent_at{};
    bool from_backlog = false;      ///< on the backlog's share of the window
    bool store_lost = false;        ///< a bound removed the stored copy: keep it in memory if it must be resent
  };
  struct safety_waiter {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::function<void(bool)> done;
  };

  void pump();
  bool publishable(std::uint64_t seq) const;
  /// Sends one message; false when the publisher asked to retry (the pump stops).
  bool send(store::stored_message message, bool from_backlog, bool resend);
  bool backlog_pending() const { return backlog_cursor_ < backlog_end_; }
  std::uint64_t live_floor() const { return live_.empty() ? next_seq_ : live_.front(); }
  void add_to_backlog(std::uint64_t seq);
  void report_dropped(std::uint64_t first, std::uint64_t last, const std::string& why);
  void report_lost_from_store(const std::vector<seq_range>& lost, const std::string& why, bool corrupted);
  void settle(std::uint64_t first, std::uint64_t last);
  void check_waiters();
  void note_unsynced();
  void request_sync();
  void arm_sync_timer(loop_clock::time_point due);
  void on_synced(std::uint64_t durable_seq);
  void hold_after_refusal();

  boost::asio::io_context& io_;
  outbox_options options_;
  store::message_store& store_;
  message_publisher& publisher_;
  encoding::topic_set topics_;
  log::logger log_{"outbox"};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  std::uint64_t next_seq_ = 1;
  std::deque<std::uint64_t> live_;  ///< sealed while connected, not yet sent (the store has them)
  std::map<std::uint64_t, in_flight_message> in_flight_;
  std::size_t backlog_in_flight_ = 0;
  // Seqs in [backlog_cursor_, backlog_end_) may need sending from the store.
  std::uint64_t backlog_cursor_ = 1;
  std::uint64_t backlog_end_ = 1;
  bool blocked_ = false;  ///< the publisher asked to retry: no publish until the next connect
  bool held_ = false;     ///< the broker refused a message: no publish until hold_timer_ fires
  std::size_t broker_window_ = SIZE_MAX;
  std::size_t broker_payload_limit_ = 0;  ///< 0 = none stated
  std::string last_refusal_;

  seq_ranges dropped_;
  seq_ranges corrupted_;
  seq_ranges memory_only_{seq_ranges::unbounded};  ///< sealed, held only in memory, not yet acknowledged
  seq_ranges unsafe_{seq_ranges::unbounded};       ///< sealed, neither synced nor acknowledged yet
  std::vector<safety_waiter> waiters_;
  outbox_counters counters_;
  latency_histogram ack_latency_;

  loop_timer hold_timer_;
  backoff hold_backoff_;

  // Group commit state: the timer runs only while something waits for a sync.
  loop_timer sync_timer_;
  bool sync_timer_armed_ = false;
  bool sync_in_flight_ = false;
  bool unsynced_ = false;
  mutable bool reservation_wanted_ = false;  // publishable() met a seq the disk does not reserve yet
};

}  // namespace plant::transport
