#pragma once
/// Spool recovery: what a start finds in the spool directory. It opens and
/// verifies every segment (CRC on every record), truncates torn tails, accounts
/// for exactly which unacknowledged seqs damage destroyed, and returns the
/// segments ready for appending. It never fails for damage; it fails only when
/// the spool cannot be read at all (wrong owner, read-only filesystem), because
/// starting over such a spool would overwrite data it cannot see.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "common/spool/ack_record.hpp"
#include "common/spool/segment.hpp"
#include "common/core/seq_ranges.hpp"

namespace plant::spool {

/// What recover() found.
struct recovery_report {
  std::uint64_t segments = 0;       ///< segment files kept
  std::uint64_t records = 0;        ///< intact, unacknowledged records
  std::uint64_t bytes = 0;          ///< bytes of the segment files kept (disk_bytes())
  std::uint64_t acked_through = 0;  ///< what the ack record said (0 if missing or damaged)
  std::uint64_t next_seq = 1;       ///< next_seq_floor()
  std::vector<seq_range> corrupted;   ///< unacknowledged seqs lost to damage: exactly these, no more, no fewer
  /// Seqs handed out that no record on disk holds: messages the disk could not take (held in
  /// memory only) and, after a power cut, the rest of the synced reservation (unsynced records
  /// or seqs never used). Lost unless the broker had them: reported dropped.
  std::vector<seq_range> lost_from_memory;
  bool other_boot = false;  ///< the ack record was written in an earlier boot
  std::vector<std::string> findings;  ///< one line per problem, naming segment file and byte offset
  std::int64_t elapsed_us = 0;        ///< wall time recover() took
};

/// The spool directory or one of its files cannot be opened: the message names the
/// file, the reason and the fix. Thrown instead of starting over data we cannot see.
class spool_access_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A stretch of a segment that holds no intact record.
struct damage_span {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t before_seq = 0;  ///< last intact seq before it in the segment; 0 if none
  std::uint64_t after_seq = 0;   ///< first intact seq after it; 0 for a tail
  std::error_code read_error;    ///< set when a failed read, not bad bytes, ended the scan
};

/// What loss accounting needs to know of one kept segment.
struct scanned_segment {
  std::string path;                    ///< for findings
  std::uint64_t first_seq = 0;         ///< header.first_seq
  std::uint64_t prev_seq = 0;          ///< header.prev_seq
  bool empty = true;                   ///< no intact record
  std::uint64_t last_seq = 0;          ///< highest intact seq
  std::vector<damage_span> damages;    ///< in file order; a span with after_seq 0 is the tail
  bool truncated_tail = false;         ///< the torn tail was cut (otherwise only skipped)
  std::string truncate_error;          ///< why cutting the tail failed, if it did
};

/// Which unacknowledged seqs the damage destroyed, and one finding per problem. Pure.
/// Every lost seq lies in exactly one of: a damaged span between intact records, a damaged
/// or missing tail (up to the next segment's prev_seq, or for the last segment the ack
/// record's stored_through), or before the first segment. Numbering gaps the agent made
/// are not losses: records are contiguous bytes and prev_seq marks each segment.
struct loss_report {
  std::vector<seq_range> corrupted;
  std::vector<std::string> findings;
};
/// Seqs up to `front_acknowledged_through` are not losses either: after a power cut the ack
/// record may be older than the unlinks that followed it, and recovery passes the seqs below
/// the lowest segment file present (damaged or not). A segment is unlinked only once all of it
/// is acknowledged (or dropped and reported so), and a journaling filesystem commits creates
/// and unlinks in order, so a segment below one that exists is missing only if it was unlinked.
loss_report account_losses(const std::vector<scanned_segment>& segments, bool ack_known, std::uint64_t acked_through,
                           std::uint64_t stored_through, std::uint64_t front_acknowledged_through = 0);

/// The spool as recovery leaves it, for the spool core to adopt.
struct recovered_spool {
  std::deque<segment> segments;          ///< by first_seq, each with its record index and unacked counts
  bool active_open = false;              ///< the last segment takes appends
  std::optional<ack_state> ack;          ///< the ack record as read (none if missing or damaged)
  bool ack_created = false;              ///< the ack record was made now (its directory entry is new)
  std::uint64_t acked_through = 0;       ///< the ack record's watermark
  std::uint64_t last_seq = 0;            ///< highest intact seq found
  std::uint64_t next_seq = 1;            ///< the floor for new seqs: nothing at or above it was ever handed out
  std::uint64_t disk_bytes = 0;
  std::uint64_t unacked_messages = 0;
  std::uint64_t unacked_bytes = 0;
  recovery_report report;
};

/// Recovers `dir` with its ack record already opened (and locked) as `ack`, in boot `boot_id`
/// (an ack record from another boot means a power cut or reboot may have dropped unsynced
/// writes). Throws spool_access_error when a segment cannot be opened for lack of permission.
recovered_spool recover_directory(const std::filesystem::path& dir, ack_file& ack, bool ack_created,
                                  std::uint64_t boot_id);

/// The fix for a spool another user owns ("chown -R UID:GID <state_dir>"), for messages.
std::string ownership_fix(const std::filesystem::path& spool_dir);

}  // namespace plant::spool
