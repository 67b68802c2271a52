#pragma once
/// Records what one process does to the files of one directory: creates, writes,
/// truncates, data and directory syncs, unlinks. The test executable that links
/// this file interposes the libc calls the spool makes (open, pwrite, ftruncate,
/// fdatasync, fsync, unlink, close), so the spool under test runs unchanged on a
/// real file system while every operation is noted with its bytes, in the order
/// the kernel saw them. crash_states.hpp turns such a trace into the states a
/// power cut could leave behind.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace plant::crash {

enum class op_kind : std::uint8_t {
  create,    ///< a new file appeared in the directory (O_CREAT on a missing name)
  write,     ///< bytes written at an offset
  truncate,  ///< the file's size set
  datasync,  ///< fdatasync or fsync of a file: its data and size are durable
  dirsync,   ///< fsync of the directory: its entries are durable
  unlink,    ///< a name removed from the directory
  mark,      ///< a note from the test (what it appended, what the spool promised)
};

/// One operation. Files are told apart by inode (a number the recorder hands out
/// at create), so a name unlinked and made again is a different file.
struct file_op {
  op_kind kind = op_kind::mark;
  std::uint64_t inode = 0;   ///< create, write, truncate, datasync, unlink
  std::string name;          ///< create and unlink: the file name; mark: the label
  std::uint64_t offset = 0;  ///< write: where; truncate: the new size; mark: the value
  std::string data;          ///< write: the bytes
};

/// Records operations on the files directly inside `dir` from construction to
/// destruction. One recorder at a time in a process.
class file_op_recorder {
 public:
  /// `dir` must exist; files already in it are taken as durable as they are.
  explicit file_op_recorder(const std::filesystem::path& dir);
  ~file_op_recorder();
  file_op_recorder(const file_op_recorder&) = delete;
  file_op_recorder& operator=(const file_op_recorder&) = delete;

  /// Adds a note to the trace, in order with the file operations (any thread).
  void mark(const std::string& label, std::uint64_t value);
  /// The trace so far.
  std::vector<file_op> trace() const;
  /// An operation was seen that the crash model cannot replay (rename, write
  /// through an O_APPEND descriptor, ...); empty if none.
  std::string unsupported() const;
};

}  // namespace plant::crash
