#pragma once
/// The states a power cut can leave a directory in, from a trace of what was
/// done to it (file_op_recorder). The model is what POSIX promises and ext4
/// `data=ordered` does not exceed:
///   - what a file held at its last fdatasync is there, and so is the set of
///     names at the directory's last fsync;
///   - any prefix of each later write may be there, torn at 512-byte sectors,
///     each write independently of the others (the page cache writes back in
///     any order); a write that extends a file and is lost leaves it shorter,
///     and a hole a lost write leaves below a kept one reads as zeros;
///   - each later truncate may or may not have happened; of the later creates and
///     unlinks, some prefix in the order they were made happened (a journaling
///     filesystem, ext4 or XFS, commits them in transactions, one after the other).
/// Pure: nothing here touches the disk.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/crash/file_op_recorder.hpp"

namespace plant::crash {

/// One file of a crash state.
struct image_file {
  std::uint64_t inode = 0;
  std::string bytes;
};
/// A directory after a crash: name -> file.
using dir_image = std::map<std::string, image_file>;

/// For each operation that was not yet durable at a crash point, in trace order,
/// how much of it reached the disk: 0 = none, the limit = all of it; for a write,
/// k in between = its first k sector-bounded pieces.
using crash_choices = std::vector<std::uint32_t>;

class crash_model {
 public:
  explicit crash_model(std::vector<file_op> trace, std::uint64_t sector_bytes = 512);

  const std::vector<file_op>& trace() const { return trace_; }
  /// Where crashes are tried, as counts of operations done: just before every
  /// datasync and dirsync (everything since the last barrier is in flight), and
  /// after the last operation.
  std::vector<std::size_t> crash_points() const;
  /// The operations still in flight after `ops_done` operations (trace indexes),
  /// and for each the largest choice.
  std::vector<std::size_t> in_flight(std::size_t ops_done) const;
  crash_choices limits(std::size_t ops_done) const;
  /// The directory a crash after `ops_done` operations leaves with these choices.
  dir_image build(std::size_t ops_done, const crash_choices& choices) const;
  /// Up to this many states at one crash point are all tried.
  static constexpr std::uint64_t exhaustive_bound = 4096;
  /// How many states the model allows at a crash point (exhaustive_bound + 1 if more).
  std::uint64_t state_count(std::size_t ops_done) const;
  /// The choices tried at a crash point: every one when there are at most
  /// exhaustive_bound; otherwise, without repeats: nothing in flight kept;
  /// all of it; every prefix in trace order with the next operation torn at each
  /// sector; all but one (that one lost or torn at each sector); and `random`
  /// independent draws from `rng`.
  std::vector<crash_choices> choices_to_try(std::size_t ops_done, std::mt19937_64& rng, std::size_t random) const;

 private:
  struct replayed;
  /// The durable state and what is in flight after `ops_done` operations; the last one is kept,
  /// since every choice at one crash point needs the same.
  const replayed& replay(std::size_t ops_done) const;
  std::uint32_t limit_of(const file_op& op) const;
  std::uint64_t kept_end(const file_op& op, std::uint32_t choice) const;

  std::vector<file_op> trace_;
  std::uint64_t sector_;
  mutable std::shared_ptr<replayed> last_;
  mutable std::size_t last_done_ = 0;
};

}  // namespace plant::crash
