#pragma once
/// Stock levels from CSV files dropped into a directory (by an ERP export, a
/// scale, a script on a share). Each complete file is read once; what happens
/// to it afterwards (keep, delete, move) waits until the core has made its
/// samples durable and calls commit(), so a crash in between re-reads the file
/// rather than losing it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/sources/csv/csv_settings.hpp"
#include "agent/sources/csv/stock_csv_parser.hpp"
#include "agent/sources/source.hpp"
#include "agent/sources/source_registry.hpp"

namespace plant::sources {

/// What identifies one version of a file: a rewritten or appended file is a new file.
struct csv_file_signature {
  std::uint64_t size = 0;    ///< bytes
  std::int64_t mtime_ns = 0; ///< modification time, ns since the Unix epoch

  bool operator==(const csv_file_signature& other) const { return size == other.size && mtime_ns == other.mtime_ns; }
  bool operator!=(const csv_file_signature& other) const { return !(*this == other); }
};

class csv_source final : public source {
 public:
  /// Default bound on the files tracked at once (waiting, handed out or done).
  static constexpr std::size_t default_max_tracked = 100000;

  /// Loads the seen-state of `cfg.name` from `<state_dir>/csv/<name>.seen` if it exists;
  /// a damaged entry is skipped and reported by the first poll. Does not touch the directory.
  csv_source(const sources::csv_settings& cfg, std::filesystem::path state_dir,
             std::size_t max_tracked = default_max_tracked);

  /// The configured source name.
  const std::string& name() const override { return cfg_.common.name; }
  /// "csv".
  std::string_view kind() const override { return "csv"; }
  /// cfg.common.interval: how often the directory is scanned.
  std::chrono::milliseconds interval() const override { return cfg_.common.interval; }
  /// False: a file is read once; a quiet directory means no news, not stale values.
  bool reports_current_values() const override { return false; }
  /// Scans the directory and returns the samples of files that became complete
  /// since the last poll. Those files stay "handed out" (never returned again by
  /// this object) until commit().
  poll_result poll(epoch_ms now) override;

  /// Marks every file handed out by poll() since the last commit() as done: records
  /// it in the seen-state (after = keep), deletes it or moves it. Call it once the
  /// samples of those polls are sealed in the durable spool. Problems (a file that
  /// cannot be deleted, a full disk) are reported as rejects of the next poll.
  void commit() override;

  /// Files handed out by poll() and not yet committed.
  std::size_t pending_files() const { return handed_out_.size(); }
  /// Matching files ignored because max_tracked was reached, summed over all polls.
  std::uint64_t untracked_files() const { return untracked_files_; }
  /// Files refused as a whole (too big, unreadable header, missing column), ever.
  std::uint64_t rejected_files() const { return rejected_files_; }
  /// `<state_dir>/csv/<name>.seen`.
  const std::filesystem::path& state_file() const { return state_file_; }

 private:
  enum class stage : std::uint8_t { watching, handed_out, done };

  struct tracked_file {
    csv_file_signature signature;
    stage st = stage::watching;
    epoch_ms since = 0;           ///< poll time at which `signature` was first observed
    bool read_error_reported = false;
    epoch_ms mtime_ms = 0;        ///< rows without a timestamp get this time
  };

  struct ready_file {
    std::string name;
    epoch_ms mtime_ms = 0;
  };

  /// A file version first seen at `now`, watched until it is complete.
  static tracked_file new_version(const csv_file_signature& signature, epoch_ms now);
  void load_state();
  void save_state();
  /// Queues a message for the next poll's rejects (commit() has no result of its own).
  void defer(std::string message);
  /// Decides whether a watched file is complete; may read its last byte.
  bool is_complete(const std::string& file_name, tracked_file& file, epoch_ms now);
  /// Reads and parses one complete file into `out`; returns the number of bytes read.
  std::uint64_t read_file(const std::string& file_name, tracked_file& file, epoch_ms now, poll_result& out);
  /// Applies cfg.after to a file whose samples are safe (or that produced none).
  void finish(const std::string& file_name, tracked_file& file);
  /// After = delete/move: the file is gone from the directory, forget it.
  void forget(const std::string& file_name);

  sources::csv_settings cfg_;
  std::filesystem::path directory_;
  std::filesystem::path move_to_;
  std::filesystem::path state_file_;
  stock_csv_columns columns_;
  std::size_t max_tracked_;

  std::unordered_map<std::string, tracked_file> files_;
  std::vector<std::string> handed_out_;
  std::vector<std::string> deferred_;
  std::uint64_t deferred_dropped_ = 0;
  std::uint64_t untracked_files_ = 0;
  std::uint64_t rejected_files_ = 0;
  bool overflow_reported_ = false;
  bool state_dirty_ = false;
  bool save_error_reported_ = false;  ///< a failing disk is reported once, not every poll
};

/// The registry's factory for [[source.csv]].
std::unique_ptr<source> make_csv_source(const source_settings& settings, const source_context& context);

}  // namespace plant::sources
