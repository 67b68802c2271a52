#pragma once
/// The store on disk: every message goes to the spool; while the disk refuses a
/// write (full, failing) the message is kept in a bounded memory store instead,
/// and the spool takes messages again by itself as soon as a write succeeds.
/// Recent payloads are also kept in a small cache, so sending a message sealed a
/// moment ago does not read it back from disk.
#include <map>
#include <memory>

#include "common/spool/spool.hpp"
#include "agent/store/memory_store.hpp"
#include "agent/store/message_store.hpp"
#include "common/core/log.hpp"

namespace plant::store {

class spool_store final : public message_store {
 public:
  /// Takes a recovered spool. `fallback_messages` / `fallback_bytes` bound what is held in
  /// memory while the disk refuses writes; `cache_bytes` bounds the recent-payload cache.
  spool_store(std::unique_ptr<spool::spool> spool, std::size_t fallback_messages, std::size_t fallback_bytes,
              std::size_t cache_bytes);

  std::uint64_t next_seq_floor() const override;
  bool seq_is_reserved(std::uint64_t seq) const override;
  std::optional<std::chrono::steady_clock::time_point> deferred_sync_due() const override {
    return spool_->deferred_sync_due();
  }
  durability put(stored_message message) override;
  std::optional<stored_message> get(std::uint64_t seq) override;
  std::optional<stored_message> next_unacked(std::uint64_t& cursor, std::uint64_t end) override;
  std::uint64_t acked_through() const override;
  void acknowledge(std::uint64_t seq) override;
  void keep_in_memory(stored_message message) override;
  void give_up(std::uint64_t first, std::uint64_t last) override;
  std::vector<seq_range> enforce_bounds(epoch_ms now) override;
  std::vector<seq_range> take_read_losses() override;
  void request_sync(std::function<void(std::uint64_t)> done) override;
  std::uint64_t synced_through() const override;
  store_stats stats() const override;

  /// The spool underneath (for its own tests and the shutdown sync).
  spool::spool& disk() { return *spool_; }
  /// Changes the memory fallback's bounds (a reload).
  void set_fallback_bounds(std::size_t messages, std::size_t bytes) { fallback_.set_bounds(messages, bytes); }
  /// Changes the spool's size and age bounds (a reload); enforced at the next put or enforce_bounds.
  void set_spool_bounds(std::uint64_t max_bytes, std::int64_t max_age_ms, std::uint64_t segment_bytes);

 private:
  void remember(const stored_message& message);
  void forget(std::uint64_t seq);

  std::unique_ptr<spool::spool> spool_;
  memory_store fallback_;
  std::map<std::uint64_t, stored_message> cache_;
  std::size_t cache_bytes_ = 0;
  std::size_t cache_max_bytes_;
  std::uint64_t write_errors_ = 0;
  log::logger log_{"spool"};
};

}  // namespace plant::store
