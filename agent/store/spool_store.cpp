#include "agent/store/spool_store.hpp"

#include <algorithm>

namespace plant::store {

spool_store::spool_store(std::unique_ptr<spool::spool> spool, std::size_t fallback_messages,
                         std::size_t fallback_bytes, std::size_t cache_bytes)
    : spool_(std::move(spool)), fallback_(fallback_messages, fallback_bytes), cache_max_bytes_(cache_bytes) {}

std::uint64_t spool_store::next_seq_floor() const {
  return std::max(spool_->next_seq_floor(), fallback_.next_seq_floor());
}

void spool_store::remember(const stored_message& message) {
  if (message.payload.size() > cache_max_bytes_) return;
  cache_bytes_ += message.payload.size();
  cache_.emplace(message.seq, message);
  // The oldest leave the cache first; they are still on disk.
  while (cache_bytes_ > cache_max_bytes_ && !cache_.empty()) {
    cache_bytes_ -= cache_.begin()->second.payload.size();
    cache_.erase(cache_.begin());
  }
}

void spool_store::forget(std::uint64_t seq) {
  auto found = cache_.find(seq);
  if (found == cache_.end()) return;
  cache_bytes_ -= found->second.payload.size();
  cache_.erase(found);
}

bool spool_store::seq_is_reserved(std::uint64_t seq) const {
  // An ack record that cannot be written cannot reserve anything: then publishing
  // beats holding everything back, and a restart after a power cut may reuse seqs.
  return seq < spool_->floor_on_disk() || spool_->ack_record_failing();
}

durability spool_store::put(stored_message message) {
  spool::record r;
  r.seq = message.seq;
  r.created = message.created;
  r.stream = static_cast<std::uint8_t>(message.stream);
  r.payload = message.payload;
  if (!spool_->append(r)) {
    remember(message);
    return durability::durable;
  }
  // Keep going from memory; the next put tries the disk again, so spooling
  // resumes by itself when space returns.
  ++write_errors_;
  // Its seq is reserved in the ack record (which a full disk still takes) before it may go out.
  spool_->reserve_seq(message.seq);
  const durability where = fallback_.put(std::move(message));
  log_.limited(log::level::error, "append",
               spool_->last_error() + "; keeping messages in memory (" + std::to_string(fallback_.size()) +
                   " held now) until the spool takes writes again");
  return where;
}

std::optional<stored_message> spool_store::get(std::uint64_t seq) {
  if (auto found = cache_.find(seq); found != cache_.end()) return found->second;
  if (fallback_.holds(seq)) return fallback_.get(seq);
  std::uint64_t cursor = seq;
  auto r = spool_->read_next(cursor, seq + 1);
  if (!r) return std::nullopt;
  return stored_message{r->seq, static_cast<encoding::stream>(r->stream), r->created, std::move(r->payload)};
}

std::optional<stored_message> spool_store::next_unacked(std::uint64_t& cursor, std::uint64_t end) {
  // The lower of the next on disk and the next in memory; the other is found by the next call.
  std::uint64_t disk_cursor = cursor, memory_cursor = cursor;
  auto from_memory = fallback_.next_unacked(memory_cursor, end);
  const std::uint64_t disk_end = from_memory ? from_memory->seq : end;
  if (auto r = spool_->read_next(disk_cursor, disk_end)) {
    cursor = disk_cursor;
    if (auto cached = cache_.find(r->seq); cached != cache_.end()) return cached->second;
    return stored_message{r->seq, static_cast<encoding::stream>(r->stream), r->created, std::move(r->payload)};
  }
  if (from_memory) cursor = memory_cursor;
  return from_memory;
}

std::uint64_t spool_store::acked_through() const {
  return fallback_.size() == 0 ? spool_->acked_through() : std::min(spool_->acked_through(), fallback_.acked_through());
}

void spool_store::acknowledge(std::uint64_t seq) {
  forget(seq);
  fallback_.acknowledge(seq);
  spool_->acknowledge(seq);
}

void spool_store::keep_in_memory(stored_message message) { fallback_.put(std::move(message)); }

void spool_store::give_up(std::uint64_t first, std::uint64_t last) {
  for (auto it = cache_.lower_bound(first); it != cache_.end() && it->first <= last;) {
    cache_bytes_ -= it->second.payload.size();
    it = cache_.erase(it);
  }
  fallback_.give_up(first, last);
  spool_->give_up(first, last);
}

std::vector<seq_range> spool_store::enforce_bounds(epoch_ms now) {
  seq_ranges lost{1u << 16, seq_ranges::overflow::merge_oldest};
  for (const seq_range& r : spool_->enforce_bounds(now)) {
    // What the cache still holds stays deliverable: it moves to the memory store,
    // and only the rest is lost.
    std::uint64_t next = r.first;
    for (auto it = cache_.lower_bound(r.first); it != cache_.end() && it->first <= r.last;) {
      if (it->first > next) lost.add(next, it->first - 1);
      next = it->first + 1;
      cache_bytes_ -= it->second.payload.size();
      fallback_.put(std::move(it->second));
      it = cache_.erase(it);
    }
    if (next <= r.last) lost.add(next, r.last);
  }
  for (const seq_range& r : fallback_.enforce_bounds(now)) lost.add(r.first, r.last);
  return lost.ranges();
}

std::vector<seq_range> spool_store::take_read_losses() { return spool_->take_read_losses(); }

void spool_store::request_sync(std::function<void(std::uint64_t)> done) { spool_->request_sync(std::move(done)); }

std::uint64_t spool_store::synced_through() const { return spool_->durable_seq(); }

void spool_store::set_spool_bounds(std::uint64_t max_bytes, std::int64_t max_age_ms, std::uint64_t segment_bytes) {
  spool_->set_bounds(max_bytes, max_age_ms, segment_bytes);
}

store_stats spool_store::stats() const {
  store_stats s = fallback_.stats();
  s.unacked_messages += spool_->unacked_messages();
  s.unacked_bytes += spool_->unacked_bytes();
  if (auto oldest = spool_->oldest_unacked_created()) {
    if (!s.oldest_unacked_created || *oldest < *s.oldest_unacked_created) s.oldest_unacked_created = oldest;
  }
  s.disk_bytes = spool_->disk_bytes() + spool_->unlink_pending_bytes();
  s.healthy = spool_->healthy();
  s.last_error = spool_->last_error();
  s.write_errors = write_errors_;
  s.sync_calls = spool_->sync_calls();
  return s;
}

}  // namespace plant::store
