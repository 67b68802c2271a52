#include "agent/sources/csv/csv_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>

namespace plant::sources {

namespace fs = std::filesystem;

namespace {

/// Closes a descriptor on every path out of a function.
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  /// Closes now and reports close()'s error, which for a written file can be the write error.
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

int fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  fd_guard guard(fd);
  return ::fsync(fd) == 0 ? 0 : errno;
}

// Copies `from` to `temp` and fsyncs it (for a move across filesystems).
int copy_to_temp(const fs::path& from, const fs::path& temp) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return errno;
  fd_guard in_guard(in);
  const int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return errno;
  fd_guard out_guard(out);
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    if (const int error = write_all(out, std::string_view(buffer, static_cast<std::size_t>(n)))) return error;
  }
  // The original is unlinked next; the copy must be on disk before it is.
  if (::fsync(out) != 0) return errno;
  return out_guard.close_now();
}

// Renames without replacing: renameat2(RENAME_NOREPLACE), or a check first where the
// filesystem cannot refuse (older NFS, FUSE), accepting that small race.
int rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  const int error = errno;
  if (error != EINVAL && error != ENOSYS) return error;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(to, ec))) return EEXIST;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

// Renames `from` to `dir/name`, or `dir/name.1`, `.2`... when taken; `target` gets the name used.
int rename_without_clash(const fs::path& from, const fs::path& dir, const std::string& name, fs::path& target) {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    target = dir / (attempt == 0 ? name : name + "." + std::to_string(attempt));
    const int error = rename_no_replace(from, target);
    if (error != EEXIST) return error;
  }
  return EEXIST;
}

}  // namespace

csv_file_identity identity_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

std::uint64_t extend_content_hash(std::uint64_t hash, const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

int check_same_file(const fs::path& path, const csv_file_identity& expected) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode) || identity_of(st) != expected) return ESTALE;
  return 0;
}

int remove_if_same(const fs::path& path, const csv_file_identity& expected) {
  const fs::path hidden = path.parent_path() / (".plant-agent-removing-" + std::to_string(expected.inode));
  if (::rename(path.c_str(), hidden.c_str()) != 0) return errno;
  // The rename moved whatever had the name at that instant: check it is ours.
  struct stat st {};
  const bool ours = ::lstat(hidden.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == expected.device &&
                    st.st_ino == expected.inode && static_cast<std::uint64_t>(st.st_size) == expected.size;
  if (!ours) {
    rename_no_replace(hidden, path);  // put the other file back where its writer left it
    return ESTALE;
  }
  return ::unlink(hidden.c_str()) == 0 ? 0 : errno;
}

int move_if_same(const fs::path& path, const csv_file_identity& expected, const fs::path& dir,
                 const std::string& name) {
  if (const int error = check_same_file(path, expected)) return error;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ec.value();
  fs::path target;
  int error = rename_without_clash(path, dir, name, target);
  if (error == 0) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0 || st.st_ino != expected.inode) {
      rename_no_replace(target, path);  // another file was renamed in between: give it back
      return ESTALE;
    }
    return 0;
  }
  if (error != EXDEV) return error;
  // Another filesystem: copy beside the target under a hidden name, then rename it into place.
  const fs::path temp = dir / ("." + name + ".moving");
  error = copy_to_temp(path, temp);
  if (error == 0) error = rename_without_clash(temp, dir, name, target);
  if (error != 0) {
    ::unlink(temp.c_str());
    return error;
  }
  return remove_if_same(path, expected);
}

int write_file_durably(const fs::path& path, const std::string& text) {
  const fs::path dir = path.parent_path();
  const fs::path temp = path.string() + ".tmp";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ec.value();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int error = fd < 0 ? errno : 0;
  fd_guard guard(fd);
  if (error == 0) error = write_all(fd, text);
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (error == 0) error = guard.close_now();
  if (error == 0 && ::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  // Without the directory sync the rename itself could be lost on power failure.
  if (error == 0) error = fsync_directory(dir);
  if (error != 0) ::unlink(temp.c_str());
  return error;
}

}  // namespace plant::sources
