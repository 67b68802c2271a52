#include "tests/crash/file_op_recorder.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <map>
#include <set>
#include <stdexcept>

namespace plant::crash {
namespace {

// The recorder's state. Leaked on purpose: libc calls arrive before main and after
// static destructors, and must find it whole.
struct recorder_state {
  std::mutex mu;
  std::string dir;
  std::map<std::string, std::uint64_t> names;  // file name -> inode
  std::map<int, std::uint64_t> fds;            // open file descriptor -> inode
  std::set<int> dir_fds;                       // descriptors of the directory itself
  std::uint64_t next_inode = 1;
  std::vector<file_op> ops;
  std::string unsupported;
};

std::atomic<bool> recording{false};

recorder_state& state() {
  static recorder_state* s = new recorder_state;
  return *s;
}

template <typename Fn>
Fn real(const char* name) {
  void* sym = ::dlsym(RTLD_NEXT, name);
  if (sym == nullptr) {
    // Nothing sensible can run without the real call.
    ::abort();
  }
  return reinterpret_cast<Fn>(sym);
}

// The name of `path` inside the recorded directory, or "" when it lies elsewhere.
// "." for the directory itself.
std::string name_in_dir(const char* path, const std::string& dir) {
  std::filesystem::path p(path);
  if (p.is_relative()) {
    std::error_code ec;
    p = std::filesystem::current_path(ec) / p;
  }
  p = p.lexically_normal();
  if (p.string() == dir) return ".";
  if (p.parent_path().string() == dir && p.has_filename()) return p.filename().string();
  return "";
}

void note_unsupported(recorder_state& s, const std::string& what) {
  if (s.unsupported.empty()) s.unsupported = what;
}

// Called after a successful open of `path` as `fd`.
void on_open(const char* path, int flags, bool existed, int fd) {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const std::string name = name_in_dir(path, s.dir);
  if (name.empty()) return;
  if (name == ".") {
    s.dir_fds.insert(fd);
    return;
  }
  std::uint64_t inode = 0;
  if (!existed) {
    inode = s.next_inode++;
    s.names[name] = inode;
    s.ops.push_back({op_kind::create, inode, name, 0, {}});
  } else {
    auto it = s.names.find(name);
    if (it == s.names.end()) {
      note_unsupported(s, "open of " + name + ", a file the recorder never saw made");
      return;
    }
    inode = it->second;
    if ((flags & O_TRUNC) != 0) s.ops.push_back({op_kind::truncate, inode, {}, 0, {}});
  }
  if ((flags & O_APPEND) != 0) note_unsupported(s, "O_APPEND on " + name);
  s.fds[fd] = inode;
}

void on_write(int fd, const void* data, std::size_t n, std::uint64_t offset) {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.fds.find(fd);
  if (it == s.fds.end()) return;
  s.ops.push_back({op_kind::write, it->second, {}, offset, std::string(static_cast<const char*>(data), n)});
}

void on_sync(int fd) {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.dir_fds.count(fd) != 0) {
    s.ops.push_back({op_kind::dirsync, 0, {}, 0, {}});
    return;
  }
  auto it = s.fds.find(fd);
  if (it != s.fds.end()) s.ops.push_back({op_kind::datasync, it->second, {}, 0, {}});
}

void on_unlink(const char* path) {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const std::string name = name_in_dir(path, s.dir);
  if (name.empty() || name == ".") return;
  auto it = s.names.find(name);
  if (it == s.names.end()) return;
  s.ops.push_back({op_kind::unlink, it->second, name, 0, {}});
  s.names.erase(it);
}

int open_impl(const char* symbol, const char* path, int flags, mode_t mode) {
  using open_fn = int (*)(const char*, int, ...);
  static open_fn real_open = real<open_fn>("open");
  static open_fn real_open64 = real<open_fn>("open64");
  open_fn fn = symbol[4] == '6' ? real_open64 : real_open;
  if (!recording.load()) return fn(path, flags, mode);
  const bool existed = ::access(path, F_OK) == 0;
  const int fd = fn(path, flags, mode);
  if (fd >= 0) on_open(path, flags, existed, fd);
  return fd;
}

}  // namespace

file_op_recorder::file_op_recorder(const std::filesystem::path& dir) {
  const auto normal = std::filesystem::absolute(dir).lexically_normal();
  if (!std::filesystem::is_empty(normal)) {
    throw std::invalid_argument("file_op_recorder: " + normal.string() + " must be empty: the trace starts from nothing");
  }
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (recording.load()) throw std::logic_error("file_op_recorder: one recorder at a time");
  std::string text = normal.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  s.dir = text;
  s.names.clear();
  s.fds.clear();
  s.dir_fds.clear();
  s.ops.clear();
  s.unsupported.clear();
  recording.store(true);
}

file_op_recorder::~file_op_recorder() {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  recording.store(false);
}

void file_op_recorder::mark(const std::string& label, std::uint64_t value) {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.ops.push_back({op_kind::mark, 0, label, value, {}});
}

std::vector<file_op> file_op_recorder::trace() const {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.ops;
}

std::string file_op_recorder::unsupported() const {
  recorder_state& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.unsupported;
}

}  // namespace plant::crash

// --- the interposed calls ------------------------------------------------------
// Defined in the test executable, so they take precedence over libc's for every
// call the spool makes; each forwards to the next definition (libc, or a
// sanitizer's interceptor) and notes what succeeded.

using plant::crash::recording;

extern "C" {

// open's optional third argument is there only when the flags ask for a mode.
#define PLANT_OPEN_MODE(flags, mode)              \
  mode_t mode = 0;                                \
  if (((flags) & (O_CREAT | O_TMPFILE)) != 0) {   \
    va_list args;                                 \
    va_start(args, flags);                        \
    mode = static_cast<mode_t>(va_arg(args, int)); \
    va_end(args);                                 \
  }

int open(const char* path, int flags, ...) {
  PLANT_OPEN_MODE(flags, mode)
  return plant::crash::open_impl("open", path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  PLANT_OPEN_MODE(flags, mode)
  return plant::crash::open_impl("open64", path, flags, mode);
}

ssize_t pwrite(int fd, const void* data, size_t n, off_t offset) {
  using fn = ssize_t (*)(int, const void*, size_t, off_t);
  static fn real_pwrite = plant::crash::real<fn>("pwrite");
  const ssize_t done = real_pwrite(fd, data, n, offset);
  if (done > 0 && recording.load()) {
    plant::crash::on_write(fd, data, static_cast<std::size_t>(done), static_cast<std::uint64_t>(offset));
  }
  return done;
}

ssize_t pwrite64(int fd, const void* data, size_t n, off64_t offset) {
  return pwrite(fd, data, n, static_cast<off_t>(offset));
}

ssize_t write(int fd, const void* data, size_t n) {
  using fn = ssize_t (*)(int, const void*, size_t);
  static fn real_write = plant::crash::real<fn>("write");
  if (!recording.load()) return real_write(fd, data, n);
  const off_t at = ::lseek(fd, 0, SEEK_CUR);
  const ssize_t done = real_write(fd, data, n);
  if (done > 0 && at >= 0) {
    plant::crash::on_write(fd, data, static_cast<std::size_t>(done), static_cast<std::uint64_t>(at));
  }
  return done;
}

int ftruncate(int fd, off_t length) noexcept {
  using fn = int (*)(int, off_t);
  static fn real_ftruncate = plant::crash::real<fn>("ftruncate");
  const int rc = real_ftruncate(fd, length);
  if (rc == 0 && recording.load()) {
    auto& s = plant::crash::state();
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.fds.find(fd);
    if (it != s.fds.end()) {
      s.ops.push_back({plant::crash::op_kind::truncate, it->second, {}, static_cast<std::uint64_t>(length), {}});
    }
  }
  return rc;
}

int ftruncate64(int fd, off64_t length) noexcept { return ftruncate(fd, static_cast<off_t>(length)); }

int fdatasync(int fd) {
  using fn = int (*)(int);
  static fn real_fdatasync = plant::crash::real<fn>("fdatasync");
  const int rc = real_fdatasync(fd);
  if (rc == 0 && recording.load()) plant::crash::on_sync(fd);
  return rc;
}

int fsync(int fd) {
  using fn = int (*)(int);
  static fn real_fsync = plant::crash::real<fn>("fsync");
  const int rc = real_fsync(fd);
  if (rc == 0 && recording.load()) plant::crash::on_sync(fd);
  return rc;
}

int unlink(const char* path) noexcept {
  using fn = int (*)(const char*);
  static fn real_unlink = plant::crash::real<fn>("unlink");
  const int rc = real_unlink(path);
  if (rc == 0 && recording.load()) plant::crash::on_unlink(path);
  return rc;
}

int rename(const char* from, const char* to) noexcept {
  using fn = int (*)(const char*, const char*);
  static fn real_rename = plant::crash::real<fn>("rename");
  if (recording.load()) {
    auto& s = plant::crash::state();
    std::lock_guard<std::mutex> lock(s.mu);
    if (!plant::crash::name_in_dir(from, s.dir).empty() || !plant::crash::name_in_dir(to, s.dir).empty()) {
      plant::crash::note_unsupported(s, std::string("rename ") + from + " -> " + to);
    }
  }
  return real_rename(from, to);
}

int close(int fd) {
  using fn = int (*)(int);
  static fn real_close = plant::crash::real<fn>("close");
  if (recording.load()) {
    auto& s = plant::crash::state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.fds.erase(fd);
    s.dir_fds.erase(fd);
  }
  return real_close(fd);
}

}  // extern "C"
