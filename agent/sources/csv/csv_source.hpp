#pragma once
/// Stock levels from CSV files dropped into a directory (by an ERP export, a
/// scale, a script on a share).
///
/// - A file is read once, and only when complete (unchanged for settle_time,
///   ending in a line end or quiet for ten times that).
/// - It is read in chunks of rows, each handed to the pipeline as it is read,
///   so memory stays bounded whatever the file's size; the chunks are settled
///   one by one, and the file is given up (kept as seen, deleted or moved) only
///   when every chunk is safe: on disk or acknowledged by the broker. A chunk
///   dropped first makes the whole file be read again.
/// - Links are not followed, and nothing is deleted or moved unless it is the
///   very file that was read (device, inode, size, times): a new export under
///   the same name is a new file, even with the same size and mtime.
/// - Rows that cannot be used are rejected one by one with their location
///   ("export.csv:3: material: invalid UTF-8"); the good rows are published.
/// - kind = "receipts" or "demand": a file is a full snapshot of the plant's open
///   orders or planned demand. Its good rows become one supply_snapshot, handed
///   on when the whole file is read (not published as telemetry), and kept in
///   `<state_dir>/csv/<name>.snapshot` so that a restart starts from it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/sources/csv/csv_files.hpp"
#include "agent/sources/csv/csv_settings.hpp"
#include "agent/sources/csv/stock_csv_parser.hpp"
#include "agent/sources/csv/supply_csv_parser.hpp"
#include "agent/sources/source.hpp"
#include "agent/sources/source_registry.hpp"

namespace plant::sources {

class csv_source final : public source {
 public:
  /// Default bound on the files tracked at once (waiting, being read, handed out or done).
  static constexpr std::size_t default_max_tracked = 100000;
  /// Rows handed out per poll at most.
  static constexpr std::size_t rows_per_poll = 4096;
  /// Bytes read from a file per read.
  static constexpr std::size_t read_bytes = 1u << 20;
  /// A record (row) longer than this is rejected rather than buffered.
  static constexpr std::size_t max_record_bytes = 1u << 20;
  /// Bytes of a file's start whose hash tells two versions with equal size and mtime apart.
  static constexpr std::size_t head_bytes = 64u << 10;

  /// Loads the seen-state of `cfg` from `<state_dir>/csv/<name>.seen` if it exists; a damaged
  /// entry is skipped and reported by the first poll. Does not touch the directory.
  csv_source(const csv_settings& cfg, std::filesystem::path state_dir, std::size_t max_tracked = default_max_tracked);
  ~csv_source() override;
  csv_source(const csv_source&) = delete;
  csv_source& operator=(const csv_source&) = delete;

  const std::string& name() const override { return cfg_.common.name; }
  std::string_view kind() const override { return "csv"; }
  /// How often the directory is scanned.
  std::chrono::milliseconds interval() const override { return cfg_.common.interval; }
  /// False: a quiet directory means no news, not stale values.
  bool reports_current_values() const override { return false; }
  /// Reads the next chunk of the file being read, or scans the directory and starts on
  /// the oldest complete file. The result's settle_token names the chunk.
  poll_result poll(epoch_ms now) override;
  /// A chunk is safe (or was dropped); when every chunk of a file is settled, the file is
  /// given up as configured (or read again if a chunk was dropped). Problems (a file that
  /// cannot be deleted, a full disk) are reported as rejects of the next poll.
  void settle(std::uint64_t token, bool safe) override;

  /// Files handed out (wholly or partly) whose chunks are not all settled yet.
  std::size_t pending_files() const;
  /// Matching files ignored because max_tracked was reached, summed over all polls.
  std::uint64_t untracked_files() const { return untracked_files_; }
  /// Files refused as a whole (too big, unreadable header, missing column), ever.
  std::uint64_t rejected_files() const { return rejected_files_; }
  /// `<state_dir>/csv/<name>.seen`.
  const std::filesystem::path& state_file() const { return state_file_; }
  /// `<state_dir>/csv/<name>.snapshot`: the last receipts or demand snapshot, normalized.
  const std::filesystem::path& snapshot_file() const { return snapshot_file_; }

 private:
  enum class stage : std::uint8_t { watching, reading, handed_out, done };

  struct tracked_file {
    csv_file_identity identity;
    stage st = stage::watching;
    epoch_ms since = 0;          ///< poll time at which this version was first seen
    epoch_ms mtime_ms = 0;       ///< rows without a timestamp get this time
    bool read_error_reported = false;
    std::uint64_t head_hash = 0;  ///< hash of the first head_bytes that were read
    bool legacy = false;          ///< seen in a v1 state file: head_hash not known yet
    std::size_t outstanding = 0;  ///< chunks handed out and not yet settled
    bool lost = false;            ///< a chunk was dropped before it was safe
  };

  /// The one file being read.
  struct reading_state {
    // User-provided: clang decides std::optional<reading_state>'s constructibility inside
    // this class, before the member initializers below count, and would refuse emplace().
    reading_state() {}
    std::string name;
    int fd = -1;
    std::uint64_t offset = 0;     ///< bytes read from the file
    std::string buffer;           ///< read but not yet parsed
    std::size_t line = 1;         ///< the physical line the buffer starts on
    bool eof = false;
    std::uint64_t head_hash = content_hash_start;
    std::optional<stock_row_parser> parser;
    std::optional<supply_row_parser> supply_parser;  ///< kind receipts / demand
    supply_snapshot snapshot;                         ///< their rows so far
    bool snapshot_too_big = false;                    ///< more than max_supply_rows
    std::size_t rejects_listed = 0;
    std::size_t rejected_rows = 0;
    bool skipping_long_row = false;  ///< inside a row past max_record_bytes, until its line ends
  };

  static tracked_file new_version(const csv_file_identity& identity, epoch_ms now);
  void load_state();
  void save_state();
  void defer(std::string message);
  bool is_complete(const std::string& file_name, tracked_file& file, epoch_ms now);
  /// Scans the directory: new versions, vanished files, and the complete ones in age order.
  std::vector<std::string> scan(epoch_ms now, poll_result& out);
  /// Whether a done file whose identity changed is still the same content (head hash).
  bool still_same_content(const std::string& file_name, tracked_file& file, const csv_file_identity& now_identity);
  bool start_reading(const std::string& file_name, epoch_ms now, poll_result& out);
  void read_chunk(epoch_ms now, poll_result& out);
  bool fill_buffer(poll_result& out);
  void take_record(const csv_record& record, poll_result& out);
  void end_reading(poll_result& out);
  void abandon_reading(const std::string& why, poll_result& out, bool refuse);
  void refuse(const std::string& file_name, std::string message, poll_result& out);
  void finish(const std::string& file_name, tracked_file& file);
  bool supplies() const { return cfg_.kind != csv_kind::stock; }
  /// Writes the snapshot to snapshot_file_ (temp file, fsync, rename); "" or the reason.
  std::string save_snapshot(const supply_snapshot& snapshot) const;
  /// The snapshot kept by the last run, handed on by the first poll.
  void load_snapshot();

  csv_settings cfg_;
  std::filesystem::path directory_;
  std::filesystem::path move_to_;
  std::filesystem::path state_file_;
  std::filesystem::path snapshot_file_;
  std::optional<supply_snapshot> restored_snapshot_;
  std::vector<std::string> restore_problems_;
  supply_csv_columns supply_columns_;
  stock_csv_columns columns_;
  std::size_t max_tracked_;

  std::unordered_map<std::string, tracked_file> files_;
  std::optional<reading_state> reading_;
  std::unordered_map<std::uint64_t, std::string> token_files_;
  std::uint64_t next_token_ = 1;
  std::vector<std::string> deferred_;
  std::uint64_t deferred_dropped_ = 0;
  std::uint64_t untracked_files_ = 0;
  std::uint64_t rejected_files_ = 0;
  bool overflow_reported_ = false;
  bool state_dirty_ = false;
  bool save_error_reported_ = false;  ///< a failing disk is reported once, not every poll
  std::unordered_map<std::string, bool> links_reported_;  ///< links skipped (reported once each)
};

/// The registry's factory for [[source.csv]].
std::unique_ptr<source> make_csv_source(const source_settings& settings, const source_context& context);

}  // namespace plant::sources
