#pragma once
/// The store without a disk (spool.enabled = false, and the spool's fallback
/// while the disk refuses writes): messages in memory, bounded by count and
/// bytes; past either bound the oldest go, and are reported as dropped.
#include <cstddef>
#include <map>

#include "agent/store/message_store.hpp"

namespace plant::store {

class memory_store final : public message_store {
 public:
  memory_store(std::size_t max_messages, std::size_t max_bytes);

  std::uint64_t next_seq_floor() const override { return last_seq_ + 1; }
  /// Nothing survives a restart here anyway (spool.enabled = false: seqs start over).
  bool seq_is_reserved(std::uint64_t) const override { return true; }
  durability put(stored_message message) override;
  std::optional<stored_message> get(std::uint64_t seq) override;
  std::optional<stored_message> next_unacked(std::uint64_t& cursor, std::uint64_t end) override;
  std::uint64_t acked_through() const override;
  void acknowledge(std::uint64_t seq) override;
  void keep_in_memory(stored_message message) override;
  void give_up(std::uint64_t first, std::uint64_t last) override;
  std::vector<seq_range> enforce_bounds(epoch_ms now) override;
  std::vector<seq_range> take_read_losses() override { return {}; }
  void request_sync(std::function<void(std::uint64_t)> done) override;
  std::uint64_t synced_through() const override { return 0; }
  store_stats stats() const override;

  /// Changes the bounds (a reload); the next put or enforce_bounds applies them.
  void set_bounds(std::size_t max_messages, std::size_t max_bytes);
  /// True when `seq` is held.
  bool holds(std::uint64_t seq) const { return messages_.count(seq) != 0; }
  /// Messages held.
  std::size_t size() const { return messages_.size(); }

 private:
  void evict_over_bounds();

  std::size_t max_messages_;
  std::size_t max_bytes_;
  std::map<std::uint64_t, stored_message> messages_;
  std::size_t bytes_ = 0;
  std::uint64_t last_seq_ = 0;
  seq_ranges dropped_{1u << 16, seq_ranges::overflow::merge_oldest};
};

}  // namespace plant::store
