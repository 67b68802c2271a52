#pragma once
/// The register's journal: every delivery the broker hands over is appended
/// here (the agent's spool format, in state_dir/journal) and made durable
/// before the MQTT callback returns, which is when Paho sends the PUBACK; it
/// stays until PostgreSQL committed it. So a delivery the broker considers
/// done is always either in the journal or in the database.
///
/// Threads: Paho's receive thread appends (and waits for the sync); the writer
/// thread reads and marks committed; any thread reads the counters.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.hpp"
#include "common/core/log.hpp"
#include "common/core/seq_ranges.hpp"
#include "common/spool/spool.hpp"

namespace plant::central::ingest {

/// One delivery as the journal keeps it.
struct journal_entry {
  std::uint64_t id = 0;     ///< the journal's own sequence number (not the agent's seq)
  epoch_ms received_at = 0;
  bool retained = false;
  std::string topic;
  std::string payload;
};

struct journal_options {
  std::filesystem::path dir;
  std::uint64_t max_bytes = 1ull << 30;
  spool::sync_mode sync = spool::sync_mode::always;
};

/// What the journal found at start.
struct journal_recovery {
  std::uint64_t entries = 0;        ///< uncommitted deliveries found (they go to the database first)
  std::vector<seq_range> corrupted; ///< journal ids lost to damage
  std::vector<std::string> findings;
  std::string journal_id;           ///< stable id of this journal directory
};

class journal {
 public:
  explicit journal(journal_options options);
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Once, before anything else; throws spool::spool_access_error or std::runtime_error.
  journal_recovery recover(epoch_ms now);

  /// What append_durable did.
  enum class append_result { durable, failed, too_large };
  /// Appends a delivery and returns once it is durable (journal_sync); `failed` when the disk
  /// refused it (the caller must not acknowledge and retries); `too_large` when no record can
  /// hold it (it can never be stored: counted, and the caller acknowledges it).
  append_result append_durable(std::string_view topic, std::string_view payload, bool retained, epoch_ms received_at,
                               std::string& error);

  /// The oldest uncommitted entry with id >= cursor, waiting up to `wait` for one; moves cursor past it.
  std::optional<journal_entry> next(std::uint64_t& cursor, std::chrono::milliseconds wait);
  /// PostgreSQL committed these (or they can never be stored): they leave at the next sync.
  void committed(const std::vector<std::uint64_t>& ids);
  /// Wakes a writer waiting in next(); from then on next() waits no more (stopping).
  void wake();
  /// Makes the next id at least `id` (ids a database says were committed are never reused).
  void skip_ids_to(std::uint64_t id);
  /// Deliveries given up because the disk damaged them after they were written.
  std::uint64_t damaged() const { return damaged_.load(); }
  /// Deliveries too large for a journal record (logged; they cannot be stored anywhere).
  std::uint64_t too_large() const { return too_large_.load(); }

  std::uint64_t backlog_messages() const;
  std::uint64_t disk_bytes() const;
  /// Deliveries dropped because the journal reached max_bytes (the oldest go first).
  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t appended() const { return appended_.load(); }
  bool healthy() const;
  std::string last_error() const;

 private:
  journal_options options_;
  spool::spool spool_;
  log::logger log_{"journal"};
  std::mutex mu_;                  // orders appends with next()'s wait
  std::condition_variable arrived_;
  std::uint64_t next_id_ = 1;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> damaged_{0};
  std::atomic<std::uint64_t> too_large_{0};
  bool woken_ = false;  // guarded by mu_
  std::atomic<std::uint64_t> appended_{0};
};

/// The journal record payload: [topic length: 2 bytes][topic][flags: 1 byte][payload].
std::string encode_entry(std::string_view topic, std::string_view payload, bool retained);
/// The inverse; false when the bytes are not an entry.
bool decode_entry(std::string_view bytes, journal_entry& out);

}  // namespace plant::central::ingest
