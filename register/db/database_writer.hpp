#pragma once
/// The writer thread: takes the journal's entries in order, writes them to
/// PostgreSQL in batches (max_batch, max_delay), and marks them committed in
/// the journal only after COMMIT. While PostgreSQL is down it retries with
/// back-off and the journal holds what keeps arriving. A batch PostgreSQL
/// refuses for its data (not for the connection) is split, so one bad message
/// is rejected alone and the rest is stored.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/core/latency_histogram.hpp"
#include "common/core/log.hpp"
#include "register/db/batch_writer.hpp"
#include "register/db/pg_connection.hpp"
#include "register/ingest/journal.hpp"

namespace plant::central::db {

struct writer_options {
  connection_options connection;
  std::size_t max_batch = 500;
  std::chrono::milliseconds max_delay{200};
  std::chrono::milliseconds retry_max_delay{30000};
  std::string journal_id;
  std::string instance;
};

/// Counters, read by /metrics and /healthz from any thread.
struct writer_stats {
  std::atomic<bool> connected{false};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> messages{0};        ///< entries committed (stored, duplicate or rejected)
  std::atomic<std::uint64_t> stored{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> samples{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> database_errors{0};
  std::atomic<std::int64_t> schema_version{0};
};

class database_writer {
 public:
  database_writer(writer_options options, ingest::journal& journal);
  /// Stops the thread (see stop()).
  ~database_writer();
  database_writer(const database_writer&) = delete;
  database_writer& operator=(const database_writer&) = delete;

  void start();
  /// Writes what the journal holds for at most `drain_for`, then stops; the rest stays in the journal.
  void stop(std::chrono::milliseconds drain_for);

  const writer_stats& stats() const { return stats_; }
  /// The batch commit latency (copied under a lock).
  latency_histogram batch_latency() const;
  /// The last database error, "" when the last attempt worked.
  std::string last_error() const;

 private:
  void run();
  bool ensure_connected();
  void write_batch(std::vector<ingest::journal_entry>& batch);
  void record_error(const std::string& message);
  void sleep_interruptible(std::chrono::milliseconds d);

  writer_options options_;
  ingest::journal& journal_;
  writer_stats stats_;
  log::logger log_{"database"};
  std::unique_ptr<connection> conn_;
  std::unique_ptr<batch_writer> writer_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> drain_deadline_ns_{0};
  mutable std::mutex mu_;  // guards latency_ and last_error_
  latency_histogram latency_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace plant::central::db
