#pragma once
/// Writes a batch of journal entries into PostgreSQL in one transaction,
/// exactly once per (site, agent, seq): each agent's row is locked, its
/// delivered ranges say which seqs are new, only those become rows (samples are
/// COPYed straight into their tables; alerts and statuses go through staging
/// tables with INSERT ... ON CONFLICT DO NOTHING on their keys), and the ranges,
/// counters and this journal's committed position are updated in the same
/// transaction. Two instances writing the same agent serialize on its row, so
/// the duplicates counter is exact too.
#include <cstdint>
#include <string>
#include <vector>

#include "register/db/pg_connection.hpp"
#include "register/ingest/journal.hpp"

namespace plant::central::db {

/// What one batch did.
struct batch_outcome {
  std::uint64_t messages = 0;      ///< entries in the batch
  std::uint64_t stored = 0;        ///< sequenced messages stored for the first time
  std::uint64_t duplicates = 0;    ///< sequenced messages already stored
  std::uint64_t samples = 0;       ///< stock and line rows written
  std::uint64_t statuses = 0;      ///< status messages applied
  std::uint64_t rejected = 0;      ///< entries that are not plant.v1 (logged, never retried)
  std::uint64_t already_committed = 0;  ///< journal replay after a crash: committed before
};

/// Why one entry was refused (it is acknowledged in the journal anyway: it can never be stored).
struct rejected_entry {
  std::uint64_t journal_id = 0;
  std::string topic;
  std::string reason;
};

class batch_writer {
 public:
  /// `journal_id` names this journal in journal_positions; `instance` is for people (the client id).
  batch_writer(connection& conn, std::string journal_id, std::string instance);

  /// Creates the session's staging tables and reads how far this journal was committed.
  void prepare();
  /// Highest journal id this journal committed before (0 = none).
  std::uint64_t committed_through() const { return committed_through_; }

  /// One transaction for `entries` (in journal order); throws pg_error (nothing committed then).
  batch_outcome write(const std::vector<ingest::journal_entry>& entries, std::vector<rejected_entry>& rejected);

 private:
  connection& conn_;
  std::string journal_id_;
  std::string instance_;
  std::uint64_t committed_through_ = 0;
};

}  // namespace plant::central::db
