#pragma once
/// One segment file as the spool keeps it in memory: an index of where each
/// stored record is, so acknowledging, counting and reading never rescan the file.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "common/core/clock.hpp"
#include "common/core/seq_ranges.hpp"
#include "common/spool/spool_format.hpp"

namespace plant::spool {

/// An open segment file descriptor. Shared, so the sync worker can still fdatasync
/// a segment the caller has just rotated away from or dropped.
class segment_file {
 public:
  /// Takes ownership of `fd`.
  segment_file(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  ~segment_file();
  segment_file(const segment_file&) = delete;
  segment_file& operator=(const segment_file&) = delete;

  /// The descriptor (open read-write).
  int fd() const { return fd_; }
  /// The file's path in the spool directory.
  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_;
  std::filesystem::path path_;
};

/// A segment's header, its record index and its share of the spool's counters.
struct segment {
  /// `length` damaged bytes follow the record at index `after` (before the next intact one).
  struct gap {
    std::uint32_t after = 0;   ///< index of the intact record before the damage
    std::uint32_t length = 0;  ///< damaged bytes
  };

  std::shared_ptr<segment_file> file;        ///< the open file, shared with the sync worker
  segment_header header;                     ///< as read from or written to the file
  std::uint64_t size = 0;        ///< file bytes, header included
  std::uint64_t data_end = 0;    ///< end of the last intact record (header_size if none)
  seq_ranges stored{seq_ranges::unbounded};  ///< seqs of the intact records; one range unless numbering has gaps
  std::vector<std::uint32_t> offsets;        ///< start of each intact record, in seq order (4 bytes per record)
  std::vector<gap> gaps;                     ///< damaged spans between intact records (rare)
  std::uint64_t last_seq = 0;                ///< highest stored seq; 0 if none
  epoch_ms newest_created = 0;               ///< newest record's created time (header's if none)
  std::uint64_t unacked = 0;                 ///< stored records not yet acknowledged
  std::uint64_t unacked_bytes = 0;           ///< their encoded bytes
  bool appendable = true;                    ///< false after a failed truncate or read: never append here again

  /// True if the segment holds no intact record.
  bool empty() const { return offsets.empty(); }
  /// Encoded bytes of the records with index first..last (inclusive), damage excluded.
  std::uint64_t record_bytes(std::size_t first, std::size_t last) const;
  /// Index of stored `seq` in offsets (seq must be stored).
  std::size_t index_of(std::uint64_t seq) const { return static_cast<std::size_t>(stored.rank(seq)); }
  /// Encoded size of the record at `index`.
  std::uint32_t record_size(std::size_t index) const { return static_cast<std::uint32_t>(record_bytes(index, index)); }
};

}  // namespace plant::spool
