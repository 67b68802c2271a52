#pragma once
/// The file operations the CSV source needs, safe against what shares a drop
/// directory: writers still writing, files replaced under the same name, and
/// links pointing elsewhere. Nothing is unlinked or moved unless it is the very
/// file (device, inode, size, times) that was read.
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace plant::sources {

/// What identifies one version of a file. A file rewritten in place keeps its inode but
/// gets a new ctime; one renamed into place gets a new inode; either is a new version,
/// even with the same size and mtime (cp -p, rsync -t, unzip, FAT's 2 s mtimes).
struct csv_file_identity {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t ctime_ns = 0;

  bool operator==(const csv_file_identity& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && device == o.device && inode == o.inode && ctime_ns == o.ctime_ns;
  }
  bool operator!=(const csv_file_identity& o) const { return !(*this == o); }
};

/// The identity of what `st` describes.
csv_file_identity identity_of(const struct stat& st);

/// FNV-1a 64 over bytes, continued from `hash` (start with content_hash_start).
inline constexpr std::uint64_t content_hash_start = 0xcbf29ce484222325ull;
std::uint64_t extend_content_hash(std::uint64_t hash, const char* data, std::size_t size);

/// Whether `path` is still exactly `expected` (not followed if it is a link). 0 when it is,
/// ENOENT when it is gone, ESTALE when another file has its name now, or the stat error.
int check_same_file(const std::filesystem::path& path, const csv_file_identity& expected);

/// Unlinks `path` only if it is still `expected`: it is first renamed to a hidden name
/// (atomic, in the same directory), checked there, and renamed back if it is another
/// file. 0, ESTALE (another file: left alone) or an errno value.
int remove_if_same(const std::filesystem::path& path, const csv_file_identity& expected);

/// Moves `path` into `dir` (as `dir/name`, or `name.1`, `.2`... when taken; never
/// overwriting), only if it is still `expected`; across filesystems by copy, fsync and
/// unlink. 0, ESTALE (another file: left alone) or an errno value.
int move_if_same(const std::filesystem::path& path, const csv_file_identity& expected, const std::filesystem::path& dir,
                 const std::string& name);

/// Writes `text` to `path` atomically and durably (temp file, fsync, rename, directory fsync).
int write_file_durably(const std::filesystem::path& path, const std::string& text);

}  // namespace plant::sources
