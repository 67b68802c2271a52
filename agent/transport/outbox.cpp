#include "agent/transport/outbox.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "agent/encoding/envelope.hpp"
#include "agent/spool/spool.hpp"

namespace plant::transport {

outbox::outbox(boost::asio::io_context& io, outbox_options options, spool::spool* spool,
               message_publisher& publisher, encoding::topic_set topics)
    : io_(io),
      options_(options),
      spool_(spool),
      publisher_(publisher),
      topics_(std::move(topics)),
      sync_timer_(io) {
  options_.window = std::max<std::size_t>(1, options_.window);
  schedule_sync_timer();
}

outbox::~outbox() {
  alive_.reset();
  sync_timer_.cancel();
}

void outbox::resume_after_recovery(const spool::recovery_report& report) {
  for (const auto& range : report.corrupted) corrupted_.add(range.first, range.last);
  next_seq_ = std::max<std::uint64_t>(report.next_seq, 1);
  if (spool_) next_seq_ = std::max(next_seq_, spool_->next_seq_floor());
  // Everything the spool still holds was never acknowledged: it is the backlog.
  backlog_cursor_ = report.acked_through + 1;
  backlog_end_ = next_seq_;
  durable_seq_ = next_seq_ - 1;
}

void outbox::submit(encoding::stream stream, std::string payload, epoch_ms created_at) {
  queued_message message;
  message.seq = next_seq_++;
  message.stream = stream;
  message.created_at = created_at;
  message.payload = std::move(payload);
  ++counters_.sealed;

  if (spool_) {
    spool::record record;
    record.seq = message.seq;
    record.created = created_at;
    record.stream = static_cast<std::uint8_t>(stream);
    record.payload = message.payload;
    if (auto ec = spool_->append(record)) {
      // Keep going from memory; the next append tries the disk again, so
      // spooling resumes by itself when space returns.
      ++counters_.spool_write_errors;
      log_.limited(log::level::error, "spool-append",
                   spool_->last_error() + "; keeping messages in memory until the spool recovers");
    } else {
      message.on_disk = true;
      unsynced_appends_ = true;
      // Cheap while within bounds; checking at every append is what keeps the
      // directory within max_bytes plus one segment at any ingest rate.
      enforce_bounds(created_at);
    }
  }
  if (spool_ && options_.sync == config::sync_mode::always && message.on_disk) request_sync();
  if (!publisher_.connected()) {
    // While the broker is away, new messages are backlog, not live: after the
    // reconnect "live" means sealed since then, and the rest is sent marked replayed.
    if (message.on_disk) {
      add_to_backlog(message.seq);
      return;
    }
    message.resend = true;
  }
  live_bytes_ += message.payload.size();
  live_.push_back(std::move(message));
  trim_live_queue();
  pump();
}

void outbox::add_to_backlog(std::uint64_t seq) {
  // A drained backlog restarts at this seq rather than rescanning everything
  // published live since the last drain.
  if (backlog_cursor_ >= backlog_end_) backlog_cursor_ = seq;
  backlog_cursor_ = std::min(backlog_cursor_, seq);
  backlog_end_ = std::max(backlog_end_, seq + 1);
}

void outbox::trim_live_queue() {
  while (live_.size() > options_.queue_max_messages ||
         (live_bytes_ > options_.queue_max_bytes && live_.size() > 1)) {
    queued_message oldest = std::move(live_.front());
    live_.pop_front();
    live_bytes_ -= oldest.payload.size();
    if (oldest.on_disk) {
      // Still on disk: it simply joins the backlog, read back when there is room.
      add_to_backlog(oldest.seq);
    } else {
      give_up(oldest.seq, oldest.seq, "the in-memory queue is full and the spool cannot hold it");
    }
  }
}

void outbox::give_up(std::uint64_t first, std::uint64_t last, const std::string& why) {
  dropped_.add(first, last);
  // The spool's acknowledgement watermark must move past seqs that will never be acknowledged.
  if (spool_) {
    for (std::uint64_t seq = first; seq <= last; ++seq) spool_->acknowledge(seq);
  }
  log_.limited(log::level::error, "drop:" + why,
               "dropped seq " + std::to_string(first) + ".." + std::to_string(last) + ": " + why +
                   " (" + std::to_string(dropped_.count()) + " dropped since start)");
}

bool outbox::publishable(const queued_message& m) const {
  // sync = always: nothing leaves before its fdatasync completed.
  return !(m.on_disk && options_.sync == config::sync_mode::always && m.seq > durable_seq_);
}

bool outbox::has_room() const { return publisher_.connected() && live_.size() < options_.window; }

void outbox::send(queued_message message, bool from_backlog) {
  std::string bytes = message.payload;
  if (message.resend || from_backlog) {
    encoding::mark_replayed(bytes);
    ++counters_.replayed;
  }
  const std::string& topic = encoding::topic_for(topics_, message.stream);
  const auto handed_over_at = std::chrono::steady_clock::now();
  if (!publisher_.publish(topic, std::move(bytes), options_.qos, encoding::retained(message.stream), message.seq)) {
    ++counters_.publish_errors;
    // Not handed over: keep it where a reconnect will find it.
    if (from_backlog) {
      backlog_cursor_ = std::min(backlog_cursor_, message.seq);
    } else {
      live_bytes_ += message.payload.size();
      live_.push_front(std::move(message));
    }
    return;
  }
  ++counters_.published;
  if (from_backlog) ++backlog_in_flight_;
  message.from_backlog = from_backlog;
  message.sent_at = handed_over_at;
  auto seq = message.seq;
  in_flight_.emplace(seq, std::move(message));
}

void outbox::pump() {
  if (!publisher_.connected()) return;
  const std::size_t backlog_cap =
      std::max<std::size_t>(1, static_cast<std::size_t>(options_.backfill_share * static_cast<double>(options_.window)));
  while (in_flight_.size() < options_.window) {
    if (!live_.empty() && publishable(live_.front())) {
      queued_message message = std::move(live_.front());
      live_.pop_front();
      live_bytes_ -= message.payload.size();
      send(std::move(message), false);
      continue;
    }
    if (backlog_in_flight_ < backlog_cap && backlog_pending()) {
      std::uint64_t end = std::min(backlog_end_, live_floor());
      std::optional<spool::record> record;
      while ((record = spool_->read_next(backlog_cursor_, end))) {
        if (in_flight_.count(record->seq) == 0) break;  // a live publish of it is still awaiting its ack
      }
      for (const auto& lost : spool_->take_read_losses()) {
        // Damage found while reading back (after recovery): reported like recovery's.
        corrupted_.add(lost.first, lost.last);
        log_.error("spool: seq " + std::to_string(lost.first) + ".." + std::to_string(lost.last) +
                   " unreadable (damaged on disk); reported as corrupted");
      }
      if (!record) {
        backlog_cursor_ = backlog_end_;  // nothing left below the live queue
        continue;
      }
      queued_message message;
      message.seq = record->seq;
      message.stream = static_cast<encoding::stream>(record->stream);
      message.created_at = record->created;
      message.payload = std::move(record->payload);
      message.on_disk = true;
      send(std::move(message), true);
      continue;
    }
    break;
  }
}

void outbox::on_connected() {
  // The previous connection's unacknowledged messages are resent from the
  // spool: rewind to the lowest unacknowledged seq. Live ones still go first.
  if (spool_) {
    backlog_cursor_ = std::min(backlog_cursor_, spool_->acked_through() + 1);
    backlog_end_ = std::max(backlog_end_, live_floor());
  }
  pump();
}

void outbox::on_connection_lost() {
  // Clean session: the broker forgets what was in flight. What is on disk is
  // found again by the backlog rewind in on_connected(); what is only in
  // memory goes back to the front of the live queue, oldest first.
  std::vector<queued_message> memory_only;
  for (auto& [seq, message] : in_flight_) {
    if (message.on_disk && spool_) {
      add_to_backlog(seq);
    } else {
      memory_only.push_back(std::move(message));
    }
  }
  in_flight_.clear();
  backlog_in_flight_ = 0;
  // Queued messages that are on disk become backlog too; the rest stay queued, marked as resends.
  std::deque<queued_message> still_queued;
  for (auto& message : live_) {
    if (message.on_disk && spool_) {
      add_to_backlog(message.seq);
      live_bytes_ -= message.payload.size();
    } else {
      message.resend = true;
      still_queued.push_back(std::move(message));
    }
  }
  live_ = std::move(still_queued);
  std::sort(memory_only.begin(), memory_only.end(),
            [](const queued_message& a, const queued_message& b) { return a.seq > b.seq; });
  for (auto& message : memory_only) {
    message.resend = true;
    live_bytes_ += message.payload.size();
    live_.push_front(std::move(message));
  }
}

void outbox::on_delivered(std::uint64_t seq) {
  auto found = in_flight_.find(seq);
  if (found == in_flight_.end()) return;
  if (found->second.from_backlog && backlog_in_flight_ > 0) --backlog_in_flight_;
  ack_latency_.observe(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                             found->second.sent_at));
  in_flight_.erase(found);
  ++counters_.acked;
  if (spool_) {
    spool_->acknowledge(seq);
    unsynced_acks_ = true;
  }
  pump();
}

void outbox::enforce_bounds(epoch_ms now) {
  if (!spool_) return;
  for (const auto& range : spool_->enforce_bounds(now)) {
    // Messages still in memory (queued or in flight) remain deliverable from
    // there: only the rest is lost, so the report matches a consumer's gaps.
    std::uint64_t run_start = 0;
    bool in_run = false;
    auto in_memory = [&](std::uint64_t seq) {
      if (in_flight_.count(seq)) return true;
      return !live_.empty() && seq >= live_.front().seq && seq <= live_.back().seq;
    };
    for (std::uint64_t seq = range.first; seq <= range.last; ++seq) {
      if (in_memory(seq)) {
        if (auto f = in_flight_.find(seq); f != in_flight_.end()) f->second.on_disk = false;
        if (in_run) give_up(run_start, seq - 1, "spool over spool.max_bytes/max_age; oldest segment removed");
        in_run = false;
      } else if (!in_run) {
        in_run = true;
        run_start = seq;
      }
    }
    if (in_run) give_up(run_start, range.last, "spool over spool.max_bytes/max_age; oldest segment removed");
    for (auto& message : live_) {
      if (message.seq >= range.first && message.seq <= range.last) message.on_disk = false;
    }
  }
  // Seqs dropped from disk can no longer be read back.
  if (backlog_cursor_ < spool_->acked_through() + 1) backlog_cursor_ = spool_->acked_through() + 1;
}

std::uint64_t outbox::backlog_messages() const {
  std::uint64_t count = spool_ ? spool_->unacked_messages() : 0;
  for (const auto& message : live_) count += message.on_disk ? 0 : 1;
  for (const auto& [seq, message] : in_flight_) count += (message.on_disk && spool_) ? 0 : 1;
  return count;
}

std::uint64_t outbox::backlog_bytes() const {
  std::uint64_t bytes = spool_ ? spool_->unacked_bytes() : 0;
  for (const auto& message : live_) bytes += message.on_disk ? 0 : message.payload.size();
  for (const auto& [seq, message] : in_flight_) bytes += (message.on_disk && spool_) ? 0 : message.payload.size();
  return bytes;
}

std::optional<epoch_ms> outbox::oldest_unacked() const {
  std::optional<epoch_ms> oldest = spool_ ? spool_->oldest_unacked_created() : std::nullopt;
  auto consider = [&](epoch_ms t) {
    if (!oldest || t < *oldest) oldest = t;
  };
  if (!live_.empty()) consider(live_.front().created_at);
  for (const auto& [seq, message] : in_flight_) consider(message.created_at);
  return oldest;
}

bool outbox::spool_healthy() const { return spool_ && spool_->healthy(); }

std::string outbox::spool_error() const { return spool_ ? spool_->last_error() : std::string(); }

void outbox::request_sync() {
  if (!spool_ || sync_in_flight_) return;
  if (!unsynced_appends_ && !unsynced_acks_) return;
  sync_in_flight_ = true;
  unsynced_appends_ = false;
  unsynced_acks_ = false;
  std::weak_ptr<bool> alive = alive_;
  // The io_context by its own reference, not through `this`: the spool's final
  // sync may run this callback after the outbox is gone.
  boost::asio::io_context& io = io_;
  spool_->request_sync([this, &io, alive](std::uint64_t durable) {
    // Runs on the spool's sync thread: hop back onto the loop.
    boost::asio::post(io, [this, alive, durable] {
      if (alive.lock()) on_synced(durable);
    });
  });
}

void outbox::on_synced(std::uint64_t durable_seq) {
  sync_in_flight_ = false;
  durable_seq_ = std::max(durable_seq_, durable_seq);
  // Group commit: whatever was appended while that fdatasync ran goes in the next one.
  if (options_.sync == config::sync_mode::always && unsynced_appends_) request_sync();
  pump();
}

void outbox::schedule_sync_timer() {
  if (!spool_) return;
  auto period = options_.sync == config::sync_mode::never ? std::chrono::milliseconds(1000) : options_.sync_interval;
  sync_timer_.expires_after(period);
  std::weak_ptr<bool> alive = alive_;
  sync_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    request_sync();
    schedule_sync_timer();
  });
}

void outbox::flush_spool() {
  if (!spool_) return;
  unsynced_acks_ = true;  // always write the acknowledgement record at shutdown
  // Waits on the sync thread directly: the loop is shutting down and must not
  // return before the data is on disk. Shared state, in case the wait times out.
  struct wait_state {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
  };
  auto state = std::make_shared<wait_state>();
  spool_->request_sync([state](std::uint64_t) {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->done = true;
    state->done_cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(state->mutex);
  state->done_cv.wait_for(lock, std::chrono::seconds(10), [&] { return state->done; });
}

}  // namespace plant::transport
