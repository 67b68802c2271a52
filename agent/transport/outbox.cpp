#include "agent/transport/outbox.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "agent/encoding/envelope.hpp"

namespace plant::transport {

std::string_view to_string(publish_outcome outcome) {
  switch (outcome) {
    case publish_outcome::ok: return "ok";
    case publish_outcome::retry: return "retry";
    case publish_outcome::drop: return "drop";
  }
  return "drop";
}

outbox::outbox(boost::asio::io_context& io, outbox_options options, store::message_store& store,
               message_publisher& publisher, encoding::topic_set topics)
    : io_(io),
      options_(options),
      store_(store),
      publisher_(publisher),
      topics_(std::move(topics)),
      hold_timer_(io),
      hold_backoff_(options.refusal_min_delay, options.refusal_max_delay, 0),
      sync_timer_(io) {
  options_.window = std::max<std::size_t>(1, options_.window);
}

outbox::~outbox() {
  alive_.reset();
  hold_timer_.cancel();
  sync_timer_.cancel();
}

void outbox::resume_after_recovery(const std::vector<seq_range>& corrupted,
                                   const std::vector<seq_range>& lost_from_memory, bool after_power_cut) {
  for (const auto& range : corrupted) corrupted_.add(range.first, range.last);
  for (const auto& range : lost_from_memory) {
    dropped_.add(range.first, range.last);
    const std::string seqs = "seq " + std::to_string(range.first) + ".." + std::to_string(range.last);
    if (after_power_cut) {
      // Mostly seqs reserved and never used; the rest were within the batch window.
      log_.warn(seqs + " were reserved before a power cut or a reboot without a clean stop and no record on disk "
                       "holds them; numbering resumes above them, and they are reported as dropped (any the broker "
                       "had acknowledged are not lost)");
    } else {
      log_.error(seqs + " were held only in memory (the disk did not take them) when the agent last stopped; they "
                        "are lost unless the broker had acknowledged them, and reported as dropped");
    }
  }
  next_seq_ = std::max<std::uint64_t>(store_.next_seq_floor(), 1);
  // Everything the store still holds was never acknowledged: it is the backlog.
  backlog_cursor_ = store_.acked_through() + 1;
  backlog_end_ = next_seq_;
}

void outbox::set_options(const outbox_options& options) {
  if (options.refusal_min_delay != options_.refusal_min_delay || options.refusal_max_delay != options_.refusal_max_delay)
    hold_backoff_ = backoff(options.refusal_min_delay, options.refusal_max_delay, 0);
  options_ = options;
  options_.window = std::max<std::size_t>(1, options_.window);
  pump();
}

seal_result outbox::seal(encoding::stream stream, const std::function<std::string(std::uint64_t)>& encode,
                         epoch_ms created_at) {
  seal_result result;
  result.seq = next_seq_++;
  ++counters_.sealed;
  store::stored_message message{result.seq, stream, created_at, encode(result.seq)};
  if (message.payload.size() > max_message_bytes()) {
    // The batcher splits telemetry below the limit, so this is a message that cannot be split.
    report_dropped(result.seq, result.seq,
                   std::to_string(message.payload.size()) + " bytes is over the message size limit (" +
                       std::to_string(max_message_bytes()) + ": mqtt.max_message_bytes or the broker's)");
    return result;
  }
  result.where = store_.put(std::move(message));
  switch (result.where) {
    case store::durability::dropped:
      report_dropped(result.seq, result.seq, "the memory store is full and the spool cannot take it");
      return result;
    case store::durability::memory:
      memory_only_.add(result.seq);
      note_unsynced();  // the next sync writes the ack record that reserves its seq
      break;
    case store::durability::durable:
      note_unsynced();
      break;
  }
  unsafe_.add(result.seq);
  // Cheap while within bounds; checking at every seal is what keeps the spool
  // directory within max_bytes plus one segment at any ingest rate.
  enforce_bounds(created_at);
  if (options_.sync == config::sync_mode::always && result.where == store::durability::durable) request_sync();
  if (publisher_.connected() && !blocked_) {
    live_.push_back(result.seq);
    // A slow broker: the oldest live messages wait as backlog instead (the store has them).
    while (live_.size() > options_.queue_max_messages) {
      add_to_backlog(live_.front());
      live_.pop_front();
    }
  } else {
    // While the broker is away, new messages are backlog, not live: after the
    // reconnect "live" means sealed since then, and the rest is sent marked replayed.
    add_to_backlog(result.seq);
  }
  pump();
  return result;
}

bool outbox::publish_status(const std::string& topic, std::string payload) {
  if (!publisher_.connected()) return false;
  // Tag 0: status is state, not part of the sequenced stream; a lost one is
  // superseded by the next heartbeat.
  return publisher_.publish(topic, std::move(payload), 1, true, 0) == publish_outcome::ok;
}

void outbox::when_safe(std::uint64_t first, std::uint64_t last, std::function<void(bool)> done) {
  waiters_.push_back({first, last, std::move(done)});
  check_waiters();
}

void outbox::add_to_backlog(std::uint64_t seq) {
  // A drained backlog restarts at this seq rather than rescanning everything
  // published live since the last drain.
  if (backlog_cursor_ >= backlog_end_) backlog_cursor_ = seq;
  backlog_cursor_ = std::min(backlog_cursor_, seq);
  backlog_end_ = std::max(backlog_end_, seq + 1);
}

void outbox::report_dropped(std::uint64_t first, std::uint64_t last, const std::string& why) {
  dropped_.add(first, last);
  store_.give_up(first, last);
  settle(first, last);
  log_.limited(log::level::error, "drop:" + why,
               "dropped seq " + std::to_string(first) + ".." + std::to_string(last) + ": " + why + " (" +
                   std::to_string(dropped_.count()) + " dropped since start)");
}

void outbox::settle(std::uint64_t first, std::uint64_t last) {
  unsafe_.erase(first, last);
  memory_only_.erase(first, last);
  check_waiters();
}

void outbox::check_waiters() {
  // Few waiters (one per CSV file being consumed), so a scan per change is cheap.
  for (std::size_t i = 0; i < waiters_.size();) {
    const safety_waiter& w = waiters_[i];
    const bool lost = dropped_.count_in(w.first, w.last) > 0 || corrupted_.count_in(w.first, w.last) > 0;
    if (!lost && unsafe_.count_in(w.first, w.last) > 0) {
      ++i;
      continue;
    }
    auto done = std::move(waiters_[i].done);
    waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(i));
    if (done) done(!lost);
  }
}

bool outbox::publishable(std::uint64_t seq) const {
  // Not before no restart, not even after a power cut, can hand its seq out again.
  if (!store_.seq_is_reserved(seq)) {
    reservation_wanted_ = true;
    return false;
  }
  if (memory_only_.contains(seq)) return true;
  // sync = always: nothing stored on disk leaves before its fdatasync completed.
  return options_.sync != config::sync_mode::always || seq <= store_.synced_through();
}

bool outbox::has_room() const { return publisher_.connected() && live_.size() < window(); }

std::size_t outbox::max_message_bytes() const {
  return broker_payload_limit_ == 0 ? options_.max_message_bytes
                                    : std::min(options_.max_message_bytes, broker_payload_limit_);
}

void outbox::set_broker_limits(std::size_t receive_maximum, std::size_t max_payload_bytes) {
  broker_window_ = std::max<std::size_t>(1, receive_maximum);
  broker_payload_limit_ = max_payload_bytes;
}

bool outbox::send(store::stored_message message, bool from_backlog, bool resend) {
  std::string bytes = message.payload;
  if (resend) encoding::mark_replayed(bytes);
  const std::string& topic = encoding::topic_for(topics_, message.stream);
  const auto handed_over_at = steady_now();
  const std::uint64_t seq = message.seq;
  switch (publisher_.publish(topic, std::move(bytes), options_.qos, encoding::retained(message.stream), seq)) {
    case publish_outcome::ok: break;
    case publish_outcome::retry:
      // The connection cannot take it now: keep it where a reconnect finds it and stop
      // pumping until then. Retrying at once would spin (the loop never gets to the
      // connection_lost event that is already queued behind this call).
      ++counters_.publish_errors;
      blocked_ = true;
      if (from_backlog) {
        backlog_cursor_ = std::min(backlog_cursor_, seq);
      } else {
        live_.push_front(seq);
      }
      return false;
    case publish_outcome::drop:
      ++counters_.refused;
      report_dropped(seq, seq, "refused by the MQTT client");
      return true;
  }
  ++counters_.published;
  if (resend) ++counters_.replayed;
  if (from_backlog) ++backlog_in_flight_;
  in_flight_.emplace(seq, in_flight_message{std::move(message), handed_over_at, from_backlog, false});
  return true;
}

void outbox::pump() {
  if (!publisher_.connected() || blocked_ || held_) return;
  const std::size_t window_now = window();
  const std::size_t backlog_cap =
      std::max<std::size_t>(1, static_cast<std::size_t>(options_.backfill_share * static_cast<double>(window_now)));
  while (in_flight_.size() < window_now) {
    if (!live_.empty() && publishable(live_.front())) {
      const std::uint64_t seq = live_.front();
      live_.pop_front();
      auto message = store_.get(seq);
      if (!message) continue;  // a bound removed it meanwhile; enforce_bounds reported it
      if (message->payload.size() > max_message_bytes()) {
        // Sealed before this broker's limit was known: it would only be refused.
        report_dropped(seq, seq, "over the broker's maximum packet size");
        continue;
      }
      if (!send(std::move(*message), false, false)) return;
      continue;
    }
    if (backlog_in_flight_ < backlog_cap && backlog_pending()) {
      const std::uint64_t end = std::min(backlog_end_, live_floor());
      std::optional<store::stored_message> message;
      while ((message = store_.next_unacked(backlog_cursor_, end))) {
        if (in_flight_.count(message->seq) == 0) break;  // a live publish of it is still awaiting its ack
      }
      report_lost_from_store(store_.take_read_losses(), "unreadable (damaged on disk since recovery)", true);
      if (!message) {
        backlog_cursor_ = backlog_end_;  // nothing left below the live queue
        continue;
      }
      if (!publishable(message->seq)) {
        backlog_cursor_ = message->seq;  // sent once its sync completes
        break;
      }
      if (message->payload.size() > max_message_bytes()) {
        report_dropped(message->seq, message->seq, "over the broker's maximum packet size");
        continue;
      }
      if (!send(std::move(*message), true, true)) return;
      continue;
    }
    break;
  }
  if (reservation_wanted_) {
    // The spool reserves seqs ahead of need; a burst outran it: a round extends it now.
    reservation_wanted_ = false;
    unsynced_ = true;
    request_sync();
  }
}

void outbox::on_connected() {
  blocked_ = false;
  // A new connection is a new chance: a refusal's hold does not carry over.
  held_ = false;
  hold_timer_.cancel();
  // The previous connection's unacknowledged messages are resent from the
  // store: rewind to the lowest unacknowledged seq. Live ones still go first.
  backlog_cursor_ = std::min(backlog_cursor_, store_.acked_through() + 1);
  backlog_end_ = std::max(backlog_end_, live_floor());
  pump();
}

void outbox::on_connection_lost() {
  // Clean session: the broker forgets what was in flight. It is all in the store
  // (or, where a bound removed the stored copy, put back into memory now) and is
  // resent from there after the reconnect, marked replayed.
  for (auto& [seq, sent] : in_flight_) {
    if (sent.store_lost) {
      memory_only_.add(seq);
      store_.keep_in_memory(std::move(sent.message));
    }
    add_to_backlog(seq);
  }
  in_flight_.clear();
  backlog_in_flight_ = 0;
  for (std::uint64_t seq : live_) add_to_backlog(seq);
  live_.clear();
  blocked_ = true;
}

void outbox::on_writable() {
  if (!publisher_.connected()) return;
  blocked_ = false;
  pump();
}

void outbox::on_delivered(std::uint64_t seq) {
  auto found = in_flight_.find(seq);
  if (found == in_flight_.end()) return;
  if (found->second.from_backlog && backlog_in_flight_ > 0) --backlog_in_flight_;
  ack_latency_.observe(std::chrono::duration_cast<std::chrono::microseconds>(steady_now() - found->second.sent_at));
  in_flight_.erase(found);
  ++counters_.acked;
  if (!last_refusal_.empty()) {
    last_refusal_.clear();
    hold_backoff_.reset();
  }
  store_.acknowledge(seq);
  note_unsynced();  // the ack record follows at the next sync
  settle(seq, seq);
  // An acknowledgement means the connection works and has room again (a retry
  // for a full client buffer clears here; one for a dead connection at the next connect).
  if (publisher_.connected()) blocked_ = false;
  pump();
}

void outbox::on_refused(std::uint64_t seq, const publish_refusal& refusal) {
  auto found = in_flight_.find(seq);
  if (found == in_flight_.end()) return;
  ++counters_.broker_refusals;
  in_flight_message sent = std::move(found->second);
  in_flight_.erase(found);
  if (sent.from_backlog && backlog_in_flight_ > 0) --backlog_in_flight_;
  if (refusal.permanent) {
    report_dropped(seq, seq, "the broker refused it: " + refusal.reason);
    pump();
    return;
  }
  // Kept: it goes out again from the store (or from memory, if a bound took the stored copy).
  if (sent.store_lost) {
    memory_only_.add(seq);
    store_.keep_in_memory(std::move(sent.message));
  }
  add_to_backlog(seq);
  last_refusal_ = refusal.reason;
  hold_after_refusal();
}

void outbox::hold_after_refusal() {
  if (held_) return;
  held_ = true;
  const auto delay = hold_backoff_.next();
  log_.limited(log::level::error, "refused:" + last_refusal_,
               "the broker refuses messages: " + last_refusal_ + "; they stay in the store, sending again in " +
                   std::to_string(delay.count()) + " ms");
  hold_timer_.expires_after(delay);
  std::weak_ptr<bool> alive = alive_;
  hold_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    held_ = false;
    pump();
  });
}

void outbox::report_lost_from_store(const std::vector<seq_range>& lost, const std::string& why, bool corrupted) {
  for (const seq_range& range : lost) {
    // Messages in flight keep their copy here: they are lost only if they must be
    // resent, and then they are kept in memory instead (on_connection_lost).
    // Iterates the window's members inside the range, never the range itself.
    std::uint64_t next = range.first;
    auto report = [&](std::uint64_t first, std::uint64_t last) {
      if (corrupted) {
        corrupted_.add(first, last);
        settle(first, last);
        log_.error("seqs " + std::to_string(first) + ".." + std::to_string(last) + " " + why +
                   "; reported as corrupted");
      } else {
        dropped_.add(first, last);
        settle(first, last);
        log_.limited(log::level::error, "drop:" + why,
                     "dropped seq " + std::to_string(first) + ".." + std::to_string(last) + ": " + why + " (" +
                         std::to_string(dropped_.count()) + " dropped since start)");
      }
    };
    for (auto it = in_flight_.lower_bound(range.first); it != in_flight_.end() && it->first <= range.last; ++it) {
      it->second.store_lost = true;
      if (it->first > next) report(next, it->first - 1);
      next = it->first + 1;
    }
    if (next <= range.last) report(next, range.last);
  }
}

void outbox::enforce_bounds(epoch_ms now) {
  report_lost_from_store(store_.enforce_bounds(now), "spool over spool.max_bytes/max_age or memory bound reached",
                         false);
  // Seqs dropped from the store can no longer be read back.
  backlog_cursor_ = std::max(backlog_cursor_, std::min(store_.acked_through() + 1, backlog_end_));
}

std::uint64_t outbox::give_up_memory_only(const std::string& why) {
  const std::uint64_t count = memory_only_.count();
  if (count == 0) return 0;
  for (const seq_range& range : memory_only_.ranges()) dropped_.add(range.first, range.last);
  std::string listed;
  for (const seq_range& range : memory_only_.ranges()) {
    if (listed.size() > 200) {
      listed += ", ...";
      break;
    }
    listed += (listed.empty() ? "" : ", ") + std::to_string(range.first) + ".." + std::to_string(range.last);
  }
  log_.error(std::to_string(count) + " unacknowledged messages held only in memory are lost (" + why + "): seq " +
             listed);
  memory_only_.clear();
  return count;
}

void outbox::note_unsynced() {
  unsynced_ = true;
  if (sync_timer_armed_ || options_.sync == config::sync_mode::always) return;
  // Armed only while something waits for a sync, so an idle agent does not wake for it.
  const auto period = options_.sync == config::sync_mode::never ? std::chrono::milliseconds(1000) : options_.sync_interval;
  arm_sync_timer(steady_now() + period);
}

void outbox::arm_sync_timer(loop_clock::time_point due) {
  if (sync_timer_armed_ && sync_timer_.expiry() <= due) return;
  sync_timer_armed_ = true;
  sync_timer_.expires_at(due);  // cancels a later wait, whose handler then sees operation_aborted
  std::weak_ptr<bool> alive = alive_;
  sync_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    sync_timer_armed_ = false;
    request_sync();
  });
}

void outbox::request_sync() {
  if (sync_in_flight_ || !unsynced_) return;
  sync_in_flight_ = true;
  unsynced_ = false;
  std::weak_ptr<bool> alive = alive_;
  // The io_context by its own reference, not through `this`: the store's final
  // sync may run this callback after the outbox is gone.
  boost::asio::io_context& io = io_;
  store_.request_sync([this, &io, alive](std::uint64_t durable) {
    // Runs on the spool's sync thread (or inline for memory): hop onto the loop.
    boost::asio::post(io, [this, alive, durable] {
      if (alive.lock()) on_synced(durable);
    });
  });
}

void outbox::on_synced(std::uint64_t durable_seq) {
  sync_in_flight_ = false;
  // Durable on disk now: safe, except what only memory holds.
  if (durable_seq > 0) {
    for (const seq_range& range : unsafe_.ranges()) {
      if (range.first > durable_seq) break;
      const std::uint64_t last = std::min(range.last, durable_seq);
      for (const seq_range& part : memory_only_.gaps_within(range.first, last)) unsafe_.erase(part.first, part.last);
    }
    check_waiters();
  }
  // Records whose batch window was still open stayed unsynced: a round by their due time
  // syncs those the broker has not acknowledged by then.
  if (auto due = store_.deferred_sync_due(); due && options_.sync != config::sync_mode::always) {
    unsynced_ = true;
    const auto wait = std::max(*due - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero());
    arm_sync_timer(steady_now() + std::chrono::duration_cast<loop_clock::duration>(wait));
  }
  // Group commit: whatever was appended while that sync ran goes in the next one.
  if (unsynced_) {
    if (options_.sync == config::sync_mode::always) {
      request_sync();
    } else {
      note_unsynced();
    }
  }
  pump();
}

void outbox::flush_store() {
  unsynced_ = true;  // always write the acknowledgement record at shutdown
  // Waits on the sync thread directly: the loop is shutting down and must not
  // return before the data is on disk. Shared state, in case the wait times out.
  struct wait_state {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
  };
  auto state = std::make_shared<wait_state>();
  store_.request_sync([state](std::uint64_t) {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->done = true;
    state->done_cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(state->mutex);
  state->done_cv.wait_for(lock, std::chrono::seconds(10), [&] { return state->done; });
}

}  // namespace plant::transport
