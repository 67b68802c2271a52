#include "agent/sources/csv/csv_source.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

namespace plant::sources {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_deferred = 100;
/// A file without a final line end may be a writer between two appends; it must
/// be quiet this many settle times before it counts as complete.
constexpr int unterminated_settle_factor = 10;
constexpr std::string_view state_header = "# plant-agent csv seen-state v1";

std::string errno_text(int error) { return std::generic_category().message(error); }

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// Hidden files and the usual in-progress names of editors, browsers and copy tools.
bool is_ignored_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return true;
  for (std::string_view suffix : {".tmp", ".part", ".partial", ".swp", "~"}) {
    if (ends_with(name, suffix)) return true;
  }
  return false;
}

epoch_ms floor_ms(std::int64_t ns) { return ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000); }

csv_file_signature signature_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

/// Source names come from the config; keep the state file name a plain file name whatever they hold.
std::string file_name_for(const std::string& source_name) {
  std::string out;
  for (char c : source_name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.';
    out += plain ? c : '_';
  }
  return out.empty() || out.front() == '.' ? "_" + out : out;
}

/// File names may hold anything but '/' and NUL; escape what would break the line format.
std::string escape_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '%') out += "%25";
    else if (c == '\n') out += "%0A";
    else if (c == '\r') out += "%0D";
    else out += c;
  }
  return out;
}

bool unescape_name(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const std::string_view code = text.substr(i + 1, 2);
    if (code == "25") out += '%';
    else if (code == "0A") out += '\n';
    else if (code == "0D") out += '\r';
    else return false;
    i += 2;
  }
  return !out.empty();
}

bool parse_state_line(std::string_view line, csv_file_signature& signature, std::string& name) {
  const auto first = line.find(' ');
  if (first == std::string_view::npos) return false;
  const auto second = line.find(' ', first + 1);
  if (second == std::string_view::npos) return false;
  try {
    std::size_t used = 0;
    const std::string size_text(line.substr(0, first));
    const std::string mtime_text(line.substr(first + 1, second - first - 1));
    if (size_text.empty() || size_text.front() == '-') return false;
    signature.size = std::stoull(size_text, &used);
    if (used != size_text.size()) return false;
    signature.mtime_ns = std::stoll(mtime_text, &used);
    if (used != mtime_text.size()) return false;
  } catch (const std::exception&) {
    return false;
  }
  return unescape_name(line.substr(second + 1), name);
}

/// Closes a descriptor on every path out of a function.
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
  /// Closes now and reports close()'s error, which for a written file can be the write error.
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

/// Reads exactly `size` bytes from offset 0; returns 0 or an errno value, EAGAIN if the file got shorter.
int read_exactly(int fd, std::uint64_t size, std::string& out) {
  out.resize(size);
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EAGAIN;
    done += static_cast<std::uint64_t>(n);
  }
  return 0;
}

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

/// Copies `from` to a hidden temporary file in `dir` (for a move across filesystems).
int copy_to_temp(const fs::path& from, const fs::path& temp) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
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

/// Renames `from` to `dir/name`, or `dir/name.1`, `.2`... when taken; never overwrites.
/// Returns 0 or an errno value; `target` receives the name used.
int rename_without_clash(const fs::path& from, const fs::path& dir, const std::string& name, fs::path& target) {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    target = dir / (attempt == 0 ? name : name + "." + std::to_string(attempt));
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) return 0;
    const int error = errno;
    if (error == EEXIST) continue;
    if (error != EINVAL && error != ENOSYS) return error;
    // Some filesystems (older NFS, FUSE) cannot refuse to replace; check first and accept the small race.
    std::error_code ec;
    if (fs::exists(target, ec)) continue;
    if (::rename(from.c_str(), target.c_str()) == 0) return 0;
    return errno;
  }
  return EEXIST;
}

}  // namespace

csv_source::csv_source(const sources::csv_settings& cfg, fs::path state_dir, std::size_t max_tracked)
    : cfg_(cfg),
      directory_(cfg.directory),
      move_to_(cfg.move_to.empty() ? fs::path(cfg.directory) / "done" : fs::path(cfg.move_to)),
      state_file_(state_dir / "csv" / (file_name_for(cfg.common.name) + ".seen")),
      max_tracked_(max_tracked) {
  columns_.material = cfg.material_column;
  columns_.quantity = cfg.quantity_column;
  columns_.timestamp = cfg.timestamp_column;
  columns_.location = cfg.location_column;
  columns_.unit = cfg.unit_column;
  load_state();
}

void csv_source::defer(std::string message) {
  if (deferred_.size() < max_deferred) {
    deferred_.push_back(std::move(message));
  } else {
    ++deferred_dropped_;
  }
}

void csv_source::load_state() {
  std::ifstream in(state_file_);
  if (!in) return;  // first start, or nothing kept yet
  std::string line;
  std::size_t line_number = 0;
  std::size_t bad = 0;
  std::size_t first_bad = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    csv_file_signature signature;
    std::string name;
    if (!parse_state_line(line, signature, name)) {
      if (bad++ == 0) first_bad = line_number;
      continue;
    }
    if (files_.size() >= max_tracked_) break;
    tracked_file file;
    file.signature = signature;
    file.st = stage::done;
    file.mtime_ms = floor_ms(signature.mtime_ns);
    files_[name] = file;
  }
  if (bad > 0) {
    // The entry's file will simply be read again: at-least-once, never lost.
    defer("state file '" + state_file_.string() + "':" + std::to_string(first_bad) + ": " + std::to_string(bad) +
          " malformed entr" + (bad == 1 ? "y" : "ies") + " ignored");
  }
}

void csv_source::save_state() {
  std::string text(state_header);
  text += '\n';
  for (const auto& [name, file] : files_) {
    if (file.st != stage::done) continue;
    text += std::to_string(file.signature.size) + ' ' + std::to_string(file.signature.mtime_ns) + ' ' +
            escape_name(name) + '\n';
  }

  const fs::path dir = state_file_.parent_path();
  const fs::path temp = state_file_.string() + ".tmp";
  const std::string where = "state file '" + state_file_.string() + "': ";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    if (!save_error_reported_) defer(where + "cannot create '" + dir.string() + "': " + ec.message());
    save_error_reported_ = true;
    return;
  }
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int error = fd < 0 ? errno : 0;
  fd_guard guard(fd);
  if (error == 0) error = write_all(fd, text);
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (error == 0) error = guard.close_now();
  if (error == 0 && ::rename(temp.c_str(), state_file_.c_str()) != 0) error = errno;
  // Without the directory sync the rename itself could be lost on power failure.
  if (error == 0) error = fsync_directory(dir);
  if (error != 0) {
    ::unlink(temp.c_str());
    // Still dirty: the next poll or commit tries again; until then a restart re-reads (never loses) those files.
    if (!save_error_reported_) defer(where + "cannot write: " + errno_text(error));
    save_error_reported_ = true;
    return;
  }
  state_dirty_ = false;
  save_error_reported_ = false;
}

bool csv_source::is_complete(const std::string& file_name, tracked_file& file, epoch_ms now) {
  // Only called when the signature equals the one recorded by an earlier poll, so the
  // file is already known not to have changed between polls; what remains is its age.
  const epoch_ms settle = cfg_.settle_time.count();
  const epoch_ms quiet_observed = now - file.since;
  // A writer whose clock runs ahead leaves mtimes in the future; fall back to what we observed.
  const epoch_ms quiet = file.mtime_ms <= now ? now - file.mtime_ms : quiet_observed;
  if (quiet < settle) return false;
  // For a file without a final line end, count from when we first saw this version:
  // its mtime may be old (a copy that kept it) while a writer still means to append.
  // Observed quiet is never longer than mtime quiet, so it is the stricter bound.
  const bool quiet_long_enough = quiet_observed >= unterminated_settle_factor * settle;
  if (file.signature.size == 0) return quiet_long_enough;

  const int fd = ::open((directory_ / file_name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;  // read_file() reports why
  fd_guard guard(fd);
  char last = 0;
  const ssize_t n = ::pread(fd, &last, 1, static_cast<off_t>(file.signature.size - 1));
  if (n != 1 || last == '\n') return true;
  return quiet_long_enough;
}

csv_source::tracked_file csv_source::new_version(const csv_file_signature& signature, epoch_ms now) {
  tracked_file file;
  file.signature = signature;
  file.mtime_ms = floor_ms(signature.mtime_ns);
  file.since = now;
  return file;
}

std::uint64_t csv_source::read_file(const std::string& file_name, tracked_file& file, epoch_ms now, poll_result& out) {
  const fs::path path = directory_ / file_name;
  const auto refuse = [&](std::string message) {
    out.rejects.push_back(std::move(message));
    ++rejected_files_;
    // Left where it is: deleting or moving a file we could not use would hide the evidence.
    file.st = stage::done;
    state_dirty_ = true;
  };

  if (file.signature.size > cfg_.max_file_bytes) {
    refuse(file_name + ": " + std::to_string(file.signature.size) + " bytes is over max_file_bytes (" +
           std::to_string(cfg_.max_file_bytes) + "); not read");
    return 0;
  }

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string text;
  int error = fd < 0 ? errno : 0;
  fd_guard guard(fd);
  struct stat st {};
  if (error == 0 && ::fstat(fd, &st) != 0) error = errno;
  if (error == 0 && signature_of(st) != file.signature) error = EAGAIN;
  if (error == 0) error = read_exactly(fd, file.signature.size, text);
  if (error == EAGAIN) {
    // Changed under us: watch the new version from the start.
    if (fd >= 0 && ::fstat(fd, &st) == 0) {
      file.signature = signature_of(st);
      file.mtime_ms = floor_ms(file.signature.mtime_ns);
    }
    file.since = now;
    return 0;
  }
  if (error != 0) {
    // Permissions get fixed without touching size or mtime, so keep retrying, but say it once.
    if (!file.read_error_reported) {
      out.rejects.push_back(file_name + ": cannot read: " + errno_text(error));
      file.read_error_reported = true;
    }
    return 0;
  }

  stock_csv_result parsed = parse_stock_csv(text, file_name, columns_, cfg_.delimiter, file.mtime_ms, now);
  if (parsed.error) {
    refuse(std::move(*parsed.error));
    return text.size();
  }
  for (auto& reject : parsed.rejects) out.rejects.push_back(std::move(reject));
  if (parsed.samples.empty()) {
    // Nothing to make durable, so nothing to wait for: finish it now rather than
    // relying on a commit() that a core may skip for an empty poll.
    finish(file_name, file);
    return text.size();
  }
  out.samples.insert(out.samples.end(), std::make_move_iterator(parsed.samples.begin()),
                     std::make_move_iterator(parsed.samples.end()));
  file.st = stage::handed_out;
  handed_out_.push_back(file_name);
  return text.size();
}

void csv_source::forget(const std::string& file_name) { files_.erase(file_name); }

void csv_source::finish(const std::string& file_name, tracked_file& file) {
  file.st = stage::done;
  if (cfg_.after == sources::csv_after::keep) {
    state_dirty_ = true;
    return;
  }

  const fs::path path = directory_ / file_name;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      forget(file_name);  // someone else took it; nothing left to do
      return;
    }
  } else if (signature_of(st) != file.signature) {
    // Rewritten since we read it: the new content is unread, so it must stay. Being done
    // under the old signature, it is picked up as a new file by the next poll.
    state_dirty_ = true;
    return;
  }

  if (cfg_.after == sources::csv_after::remove) {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) {
      forget(file_name);
      return;
    }
    defer(file_name + ": cannot delete: " + errno_text(errno));
    // Remembered as done instead, so that it is not read again after a restart.
    state_dirty_ = true;
    return;
  }

  std::error_code ec;
  fs::create_directories(move_to_, ec);
  if (ec) {
    defer(file_name + ": cannot move: cannot create '" + move_to_.string() + "': " + ec.message());
    state_dirty_ = true;
    return;
  }
  fs::path target;
  int error = rename_without_clash(path, move_to_, file_name, target);
  if (error == EXDEV) {
    // Another filesystem: copy beside the target under a hidden name, then rename it into place.
    const fs::path temp = move_to_ / ("." + file_name + ".moving");
    error = copy_to_temp(path, temp);
    if (error == 0) error = rename_without_clash(temp, move_to_, file_name, target);
    if (error == 0) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) error = errno;
    } else {
      ::unlink(temp.c_str());
    }
  }
  if (error == 0) {
    forget(file_name);
    return;
  }
  defer(file_name + ": cannot move to '" + move_to_.string() + "': " + errno_text(error));
  state_dirty_ = true;
}

void csv_source::commit() {
  for (const auto& file_name : handed_out_) {
    auto it = files_.find(file_name);
    if (it == files_.end() || it->second.st != stage::handed_out) continue;
    finish(file_name, it->second);
  }
  handed_out_.clear();
  if (state_dirty_) save_state();
}

poll_result csv_source::poll(epoch_ms now) {
  poll_result result;
  result.rejects = std::move(deferred_);
  deferred_.clear();
  if (deferred_dropped_ > 0) {
    result.rejects.push_back(cfg_.common.name + ": " + std::to_string(deferred_dropped_) + " more problems not listed");
    deferred_dropped_ = 0;
  }

  std::error_code ec;
  fs::directory_iterator it(directory_, ec);
  const auto fail = [&](const std::error_code& error) {
    result.error = "directory '" + directory_.string() + "': " + error.message();
    return result;
  };
  if (ec) return fail(ec);

  std::vector<std::string> present;
  std::vector<ready_file> ready;
  std::uint64_t untracked = 0;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return fail(ec);
    std::string file_name = it->path().filename().string();
    if (is_ignored_name(file_name) || ::fnmatch(cfg_.pattern.c_str(), file_name.c_str(), 0) != 0) continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const csv_file_signature signature = signature_of(st);

    auto found = files_.find(file_name);
    if (found == files_.end()) {
      if (files_.size() >= max_tracked_) {
        ++untracked;
        continue;
      }
      files_.emplace(file_name, new_version(signature, now));
      present.push_back(std::move(file_name));
      continue;
    }
    present.push_back(file_name);
    tracked_file& file = found->second;
    if (file.st == stage::handed_out) continue;
    if (file.signature != signature) {
      if (file.st == stage::done) state_dirty_ = true;  // its old entry is obsolete
      file = new_version(signature, now);
      continue;
    }
    if (file.st == stage::done) continue;
    if (is_complete(file_name, file, now)) ready.push_back({file_name, file.mtime_ms});
  }

  // Forget files that are gone, so the seen-state and the map only hold what exists.
  std::sort(present.begin(), present.end());
  for (auto entry = files_.begin(); entry != files_.end();) {
    if (entry->second.st != stage::handed_out && !std::binary_search(present.begin(), present.end(), entry->first)) {
      if (entry->second.st == stage::done) state_dirty_ = true;
      entry = files_.erase(entry);
    } else {
      ++entry;
    }
  }

  // Oldest first, and at most about one max-size file per poll so that a backlog of
  // big files cannot balloon memory; the rest are complete already and go next poll.
  std::sort(ready.begin(), ready.end(), [](const ready_file& a, const ready_file& b) {
    return a.mtime_ms != b.mtime_ms ? a.mtime_ms < b.mtime_ms : a.name < b.name;
  });
  std::uint64_t bytes = 0;
  for (const auto& candidate : ready) {
    if (bytes > 0 && bytes + files_[candidate.name].signature.size > cfg_.max_file_bytes) break;
    bytes += read_file(candidate.name, files_[candidate.name], now, result);
  }

  if (untracked > 0) {
    untracked_files_ += untracked;
    if (!overflow_reported_) {
      result.rejects.push_back("directory '" + directory_.string() + "': more than " + std::to_string(max_tracked_) +
                               " files match '" + cfg_.pattern + "'; " + std::to_string(untracked) +
                               " not tracked until others are gone");
      overflow_reported_ = true;
    }
  } else {
    overflow_reported_ = false;
  }

  // Entries recorded outside commit() (refused files, files without samples, pruning)
  // are written now; state for handed-out files waits for commit().
  if (state_dirty_) save_state();
  return result;
}

std::unique_ptr<source> make_csv_source(const source_settings& settings, const source_context& context) {
  return std::make_unique<csv_source>(static_cast<const csv_settings&>(settings), context.state_dir);
}

}  // namespace plant::sources
