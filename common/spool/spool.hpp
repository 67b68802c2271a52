#pragma once
/// The disk spool: every message is appended (with write(), so a crash of the
/// process loses nothing) before it is published, and kept until the broker
/// acknowledges it. Survives broker outages, crashes and power cuts; recovery
/// reports exactly which unacknowledged seqs damage destroyed; the directory is
/// bounded by max_bytes (+ one segment) and max_age.
///
/// Responsibilities are split: spool_recovery (what a start finds), sync_worker
/// (group commit and its power-cut ordering), and this core (append, acks,
/// bounds, reads), which owns the segments.
///
/// Threads: one caller thread appends, acknowledges and reads; any thread may call
/// the const getters; fdatasync runs on the sync worker.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/core/clock.hpp"
#include "common/spool/sync_mode.hpp"
#include "common/spool/ack_record.hpp"
#include "common/spool/segment.hpp"
#include "common/spool/spool_recovery.hpp"
#include "common/spool/sync_worker.hpp"
#include "common/core/seq_ranges.hpp"

namespace plant::spool {

/// One spooled message.
struct record {
  std::uint64_t seq = 0;     ///< strictly increasing across appends; gaps are allowed
  epoch_ms created = 0;      ///< when the message was made; drives max_age
  std::uint8_t stream = 0;   ///< caller's tag (telemetry, stock, heartbeat, ...)
  std::uint8_t flags = 0;    ///< caller's flags
  std::string payload;       ///< the message bytes (at most 16 MiB - 18)
};

/// How the spool behaves; built from config::spool_section plus agent.state_dir.
struct options {
  std::filesystem::path dir;                          ///< the spool directory (created if missing)
  sync_mode sync = sync_mode::batch;  ///< never: request_sync writes no fdatasync at all
  std::uint64_t max_bytes = 256ull << 20;             ///< all segment files, headers included; 0 = no limit
  std::int64_t max_age_ms = 7ll * 24 * 3600 * 1000;   ///< by a segment's newest record; 0 = no limit
  std::uint64_t segment_bytes = 16ull << 20;          ///< rotate before a segment would pass this (512 B .. 1 GiB)
  /// The batch window: a record's fdatasync is due this long after its append. A round before
  /// that leaves it unsynced, and a record the broker acknowledges before it is due is never
  /// synced at all (its loss in a power cut loses nothing). 0 = every round syncs whatever is
  /// unacknowledged (sync = always behaves so anyway).
  std::int64_t sync_interval_ms = 0;
  /// Rotate the active segment once its first record is this old and at most half of it is
  /// unacknowledged, so acknowledged data is unlinked before the kernel writes it back.
  /// -1 = half the kernel's dirty_expire (clamped to 1..15 s): every segment file made costs
  /// the disk about a page, so as few as leave a margin before writeback; 0 = by size only.
  std::int64_t rotate_age_ms = -1;
  /// This boot, to tell a restart from a power cut (0 = read /proc/sys/kernel/random/boot_id).
  std::uint64_t boot_id = 0;
  /// The fewest seqs the ack record reserves ahead of use (it reserves about ten minutes of the
  /// current rate); after a power cut up to this many unused seqs are reported dropped.
  std::uint64_t min_reservation = 1024;
};

/// The spool. See the file comment.
/// Bounds shared by the spool's files (spool.cpp, spool_acks.cpp).
namespace limits {
/// Reported ranges kept at most (older ones merge, so the count stays exact).
inline constexpr std::size_t report_ranges_bound = 1u << 16;
/// Bytes read at once when the backlog is read back.
inline constexpr std::size_t read_buffer_bytes = 256u << 10;
inline constexpr std::uint64_t min_segment_bytes = 512;
/// Record offsets are kept as 4 bytes each; a 1 GiB cap keeps every offset (and a
/// damaged span) far below 4 GiB even with one maximal record past the cap.
inline constexpr std::uint64_t max_segment_bytes = 1ull << 30;
inline constexpr std::uint64_t max_seq = std::numeric_limits<std::uint64_t>::max();
}  // namespace limits

class spool {
 public:
  /// Starts the sync worker; touches no file until recover().
  explicit spool(options opts);
  /// Runs a final sync, then stops the worker.
  ~spool();
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;

  /// Call once before anything else: scans, verifies and repairs the directory. Never throws for
  /// damage; throws spool_access_error when the directory or a file in it cannot be opened for
  /// lack of permission (starting over it would reuse seqs and overwrite data it cannot see).
  recovery_report recover(epoch_ms now);
  /// Writes the record into the active segment now (rotating at segment_bytes); on failure the
  /// segment is truncated back to its last good size, the spool turns unhealthy until an append succeeds.
  std::error_code append(const record& r);
  /// Group commit on the worker: fdatasync what was appended so far (and rotated segments) unless the
  /// broker acknowledged it or its batch window is still open (deferred_sync_due), then write the ack
  /// record if it changed (synced only when its seq reservation grows), then unlink segments it
  /// covers; done(durable_seq) runs on the worker.
  void request_sync(std::function<void(std::uint64_t durable_seq)> done);
  /// Highest seq covered by a completed sync (with sync = never: by a completed request_sync).
  std::uint64_t durable_seq() const { return durable_.load(); }
  /// When the spool left appended records unsynced because their batch window is still open:
  /// the time a round must run to keep the window (steady clock). Nothing when no record waits.
  std::optional<std::chrono::steady_clock::time_point> deferred_sync_due() const;
  /// The broker acknowledged `seq` (any order); fully acknowledged segments go at the next sync.
  void acknowledge(std::uint64_t seq);
  /// Gives up [first, last] (never to be sent): like acknowledging each, in O(log n) per range.
  void give_up(std::uint64_t first, std::uint64_t last);
  /// A new sync mode and batch window (a reload); the next sync round follows them.
  void set_sync_mode(sync_mode mode, std::int64_t sync_interval_ms);
  /// New size and age bounds (a reload); the next enforce_bounds applies them.
  void set_bounds(std::uint64_t max_bytes, std::int64_t max_age_ms, std::uint64_t segment_bytes);
  /// Drops the oldest whole segments while over max_bytes or max_age; returns the unacknowledged seqs
  /// dropped. Cheap when within bounds: call it after every append.
  std::vector<seq_range> enforce_bounds(epoch_ms now);
  /// The next stored, unacknowledged record with cursor <= seq < end_exclusive; moves cursor past it.
  std::optional<record> read_next(std::uint64_t& cursor, std::uint64_t end_exclusive);
  /// Unacknowledged seqs given up since the last call because read_next found them damaged on disk.
  std::vector<seq_range> take_read_losses();

  /// Bytes of all live segment files, headers included (what max_bytes bounds).
  std::uint64_t disk_bytes() const;
  /// Bytes of dropped or acknowledged segments the next sync unlinks (still on disk until then).
  std::uint64_t unlink_pending_bytes() const;
  /// Stored records not yet acknowledged.
  std::uint64_t unacked_messages() const;
  /// Their encoded bytes (record framing included).
  std::uint64_t unacked_bytes() const;
  /// Created time of the oldest unacknowledged record, if any.
  std::optional<epoch_ms> oldest_unacked_created() const;
  /// Every stored record with seq <= this is acknowledged or given up.
  std::uint64_t acked_through() const;
  /// max(ack record next_seq, last stored seq + 1, highest acknowledged seq + 1).
  std::uint64_t next_seq_floor() const;
  /// `seq` was handed out though the spool could not store it (the message lives in
  /// memory): the ack record's floor moves past it at the next sync, so a restart
  /// never hands it out again.
  void reserve_seq(std::uint64_t seq);
  /// One above the seqs a synced ack record reserves (0 before the first write): a seq below it
  /// may be published, since no restart, not even after a power cut, hands it out again.
  std::uint64_t floor_on_disk() const { return floor_on_disk_.load(); }
  /// fdatasync and fsync calls made so far (segments, ack record, directory): what the disk is asked to flush.
  std::uint64_t sync_calls() const { return sync_calls_.load(); }
  /// True while the last attempt to write the ack record failed.
  bool ack_record_failing() const { return ack_failing_.load(); }
  /// Acks above the watermark forgotten because their bound (65536 ranges) overflowed (resent, not lost).
  std::uint64_t forgotten_acks() const;
  /// False while the last append, sync or read failed, or another process holds the spool.
  bool healthy() const;
  /// The last error, e.g. "spool: write /var/lib/plant-agent/spool/seg-...: No space left on device".
  std::string last_error() const;

 private:
  std::optional<sync_job> take_sync_job();
  void plan_reservation(sync_job& job, std::int64_t now_ms);
  void write_initial_reservation(bool ack_created_now);
  std::uint64_t apply_sync_outcome(const sync_outcome& outcome);
  std::error_code fail(bool& flag, const std::string& what, const std::filesystem::path& path, std::error_code ec);
  std::error_code open_segment(const record& r);
  void close_active();
  void doom_front();
  void normalize();
  void account(std::uint64_t first, std::uint64_t last, bool acked);
  void mark_acked(std::uint64_t first, std::uint64_t last);
  std::size_t segment_index_for(std::uint64_t seq) const;
  const segment* find_stored(std::uint64_t seq) const;
  std::optional<std::uint64_t> lowest_stored_above(std::uint64_t seq) const;
  std::error_code read_bytes(const segment& seg, std::uint64_t offset, std::size_t size, const std::uint8_t*& out,
                             std::vector<std::uint8_t>& big);

  options opts_;
  mutable std::mutex mu_;

  // Everything below is guarded by mu_ unless marked otherwise.
  bool recovered_ = false;
  bool locked_out_ = false;
  int dir_fd_ = -1;
  std::deque<segment> segments_;        // by first_seq; the back one takes appends while active_open_
  bool active_open_ = false;
  bool active_dirty_ = false;           // the active segment has writes not yet handed to a sync
  bool dir_dirty_ = false;              // a segment was created since the last directory fsync
  std::vector<std::shared_ptr<segment_file>> unsynced_;  // rotated away from with writes not yet synced
  std::vector<std::filesystem::path> doomed_;            // to unlink at the next sync (closed already)
  std::uint64_t doomed_bytes_ = 0;      // their bytes, still on disk until then
  std::uint64_t watermark_ = 0;
  seq_ranges acked_above_;              // acks > watermark_, out of order
  std::uint64_t last_appended_ = 0;
  std::uint64_t floor_ = 1;
  std::uint64_t min_seq_ = 1;           // appends below this (the floor at recovery) would reuse seqs
  std::uint64_t boot_ = 0;              // options.boot_id, or this boot's
  std::int64_t rotate_age_ms_ = 0;      // resolved options.rotate_age_ms
  // Records appended since the last round that synced data, with their append time
  // (steady ms): the oldest one not acknowledged decides when an fdatasync is due.
  std::deque<std::pair<std::uint64_t, std::int64_t>> unsynced_records_;
  bool force_data_sync_ = false;        // a round failed or the list overflowed: sync at the next one
  std::optional<std::int64_t> deferred_due_ms_;  // see deferred_sync_due()
  // The seq reservation (ack_state::reserved_through): handed out seqs stay at or below
  // reserved_; it is extended ahead of need, by about ten minutes of the current rate.
  std::uint64_t reserved_ = 0;
  std::uint64_t reserve_ahead_ = 0;     // set from options.min_reservation
  std::int64_t reserved_at_ms_ = 0;     // steady ms of the last extension
  std::uint64_t reserved_at_floor_ = 1; // floor_ then
  bool closing_ = false;                // the destructor's last round: sync all, reserve exactly
  std::uint64_t disk_bytes_ = 0;
  std::uint64_t unacked_msgs_ = 0;
  std::uint64_t unacked_bytes_ = 0;
  seq_ranges read_losses_;
  bool append_failed_ = false;
  bool sync_failed_ = false;
  bool read_failed_ = false;
  std::string last_error_;
  std::string scratch_;                 // encode buffer reused by append
  std::vector<std::uint8_t> read_buf_;  // read_next's window into one segment
  std::shared_ptr<segment_file> read_file_;
  std::uint64_t read_off_ = 0;
  std::size_t read_len_ = 0;
  mutable std::optional<std::pair<std::uint64_t, epoch_ms>> oldest_cache_;

  // Touched by recover() before any sync request and by the worker after; the
  // handoff through mu_ (take_sync_job) orders the two.
  ack_file ack_;
  std::optional<ack_state> ack_written_;
  std::atomic<std::uint64_t> durable_{0};
  std::atomic<std::uint64_t> floor_on_disk_{0};
  std::atomic<bool> ack_failing_{false};
  std::atomic<std::uint64_t> sync_calls_{0};
  std::atomic<bool> fsync_{true};        ///< false with sync = never: rounds write without fdatasync
  std::unique_ptr<sync_worker> worker_;  // last: stopped (with a final round) before the rest goes
};

}  // namespace plant::spool
