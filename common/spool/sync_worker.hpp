#pragma once
/// The spool's group commit: one thread that makes appended data durable with
/// as few fdatasync calls as possible (one per file for however many appends and
/// requests arrived while the last one ran), in the order a power cut needs.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/spool/ack_record.hpp"
#include "common/spool/segment.hpp"

namespace plant::spool {

/// One round's work, taken from the spool under its lock.
struct sync_job {
  std::vector<std::shared_ptr<segment_file>> files;  ///< segments with writes not yet synced
  bool sync_directory = false;                       ///< a segment was created since the last directory fsync
  std::uint64_t target = 0;                          ///< last appended seq: durable once `files` are synced
  std::uint64_t acked_through = 0;                   ///< for the ack record
  std::uint64_t next_seq = 1;                        ///< for the ack record
  std::vector<std::filesystem::path> doomed;         ///< segments to unlink once the ack record covers them
  bool data_needs_sync = true;                       ///< false when everything in `files` is acknowledged already
  /// After this round every seq <= target is durable or acknowledged; false when records were
  /// left unsynced because their batch window is still open.
  bool claims_target = true;
  std::uint64_t reserved_through = 0;                ///< for the ack record
  std::uint64_t boot = 0;                            ///< for the ack record
  /// fdatasync the ack record: its reservation grew, or the spool closes. Otherwise it is only
  /// written (a crash of the process keeps it; after a power cut the synced reservation rules).
  bool ack_needs_sync = false;
};

/// What the round did.
struct sync_outcome {
  std::vector<std::shared_ptr<segment_file>> failed;  ///< fdatasync failed: never append to these again
  bool directory_failed = false;                      ///< the directory fsync failed: retry next round
  bool synced = false;                                ///< data and directory entries of the job are durable
  std::uint64_t target = 0;                           ///< the job's target
  /// reserved_through + 1 of the ack record this round synced (with sync = never: wrote); 0 = none.
  std::uint64_t floor_on_disk = 0;
  bool ack_written = false;                           ///< the ack record was written this round
  std::uint64_t syncs = 0;                            ///< fdatasync and fsync calls the round made
  bool ack_failed = false;                            ///< the ack record needed writing and could not be
  std::string error;                                  ///< the last error, "" when the round succeeded
};

/// Performs one round in the order a power cut requires: segment data, then the
/// directory entries of new segments, then the ack record (whose stored_through
/// claims that data), and only then the unlinks its acked_through justifies.
/// The ack record is synced only when job.ack_needs_sync: after a power cut an older
/// one may be found, so recovery treats the records before the first segment left
/// as acknowledged (segments are unlinked only then) and resumes numbering above
/// the synced reservation. With sync = never (`fsync` false) nothing is synced.
/// `written` is the ack state on disk, updated when the record is written.
sync_outcome perform_sync(const sync_job& job, ack_file& ack, std::optional<ack_state>& written, int dir_fd,
                          const std::filesystem::path& dir, bool fsync);

/// The thread that runs rounds on request.
class sync_worker {
 public:
  /// Takes the next round's job (under the spool's lock); nullopt when there is nothing it may do.
  using take_fn = std::function<std::optional<sync_job>()>;
  /// Applies a round's outcome (under the spool's lock) and returns the durable seq.
  using apply_fn = std::function<std::uint64_t(const sync_outcome&)>;
  /// Runs a round for the job: perform_sync, or a stand-in in tests.
  using perform_fn = std::function<sync_outcome(const sync_job&)>;

  sync_worker(take_fn take, perform_fn perform, apply_fn apply);
  /// Runs one last round for what is queued, then joins the thread.
  ~sync_worker();
  sync_worker(const sync_worker&) = delete;
  sync_worker& operator=(const sync_worker&) = delete;

  /// Queues a request; `done(durable_seq)` runs on the worker thread after the round that covers it.
  void request(std::function<void(std::uint64_t durable_seq)> done);

 private:
  void run();

  take_fn take_;
  perform_fn perform_;
  apply_fn apply_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void(std::uint64_t)>> requests_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace plant::spool
