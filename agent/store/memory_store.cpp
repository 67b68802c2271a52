#include "agent/store/memory_store.hpp"

#include <algorithm>

namespace plant::store {

std::string_view to_string(durability d) {
  switch (d) {
    case durability::durable: return "durable";
    case durability::memory: return "memory";
    case durability::dropped: return "dropped";
  }
  return "dropped";
}

memory_store::memory_store(std::size_t max_messages, std::size_t max_bytes)
    : max_messages_(std::max<std::size_t>(1, max_messages)), max_bytes_(max_bytes) {}

void memory_store::set_bounds(std::size_t max_messages, std::size_t max_bytes) {
  max_messages_ = std::max<std::size_t>(1, max_messages);
  max_bytes_ = max_bytes;
}

durability memory_store::put(stored_message message) {
  const std::uint64_t seq = message.seq;
  last_seq_ = std::max(last_seq_, seq);
  bytes_ += message.payload.size();
  messages_.emplace(seq, std::move(message));
  evict_over_bounds();
  return holds(seq) ? durability::memory : durability::dropped;
}

void memory_store::evict_over_bounds() {
  while (!messages_.empty() && (messages_.size() > max_messages_ || bytes_ > max_bytes_)) {
    auto oldest = messages_.begin();
    dropped_.add(oldest->first);
    bytes_ -= oldest->second.payload.size();
    messages_.erase(oldest);
  }
}

std::optional<stored_message> memory_store::get(std::uint64_t seq) {
  auto found = messages_.find(seq);
  if (found == messages_.end()) return std::nullopt;
  return found->second;
}

std::optional<stored_message> memory_store::next_unacked(std::uint64_t& cursor, std::uint64_t end) {
  auto found = messages_.lower_bound(cursor);
  if (found == messages_.end() || found->first >= end) return std::nullopt;
  cursor = found->first + 1;
  return found->second;
}

std::uint64_t memory_store::acked_through() const {
  return messages_.empty() ? last_seq_ : messages_.begin()->first - 1;
}

void memory_store::acknowledge(std::uint64_t seq) {
  auto found = messages_.find(seq);
  if (found == messages_.end()) return;
  bytes_ -= found->second.payload.size();
  messages_.erase(found);
}

void memory_store::keep_in_memory(stored_message message) { put(std::move(message)); }

void memory_store::give_up(std::uint64_t first, std::uint64_t last) {
  // Over the messages held, never over the range: a range can be 2^62 wide.
  for (auto it = messages_.lower_bound(first); it != messages_.end() && it->first <= last;) {
    bytes_ -= it->second.payload.size();
    it = messages_.erase(it);
  }
}

std::vector<seq_range> memory_store::enforce_bounds(epoch_ms) {
  evict_over_bounds();
  auto out = dropped_.ranges();
  dropped_.clear();
  return out;
}

void memory_store::request_sync(std::function<void(std::uint64_t)> done) {
  if (done) done(0);
}

store_stats memory_store::stats() const {
  store_stats s;
  s.unacked_messages = messages_.size();
  s.unacked_bytes = bytes_;
  s.memory_messages = messages_.size();
  // Seq order is sealing order, so the lowest seq is the oldest message.
  if (!messages_.empty()) s.oldest_unacked_created = messages_.begin()->second.created;
  return s;
}

}  // namespace plant::store
