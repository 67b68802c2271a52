#include "agent/sources/csv/csv_source.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "agent/sources/csv/csv_seen_state.hpp"
#include "common/core/text.hpp"

namespace plant::sources {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_deferred = 100;
constexpr std::size_t max_links_reported = 1000;
/// A file without a final line end may be a writer between two appends; it must
/// be quiet this many settle times before it counts as complete.
constexpr int unterminated_settle_factor = 10;

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

/// Hash of the first `limit` bytes of the open file; nullopt on a read error.
std::optional<std::uint64_t> head_hash_of(int fd, std::size_t limit) {
  std::string buffer(limit, '\0');
  std::size_t done = 0;
  while (done < limit) {
    const ssize_t n = ::pread(fd, buffer.data() + done, limit - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return extend_content_hash(content_hash_start, buffer.data(), done);
}

}  // namespace

csv_source::csv_source(const csv_settings& cfg, fs::path state_dir, std::size_t max_tracked)
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

csv_source::~csv_source() {
  if (reading_ && reading_->fd >= 0) ::close(reading_->fd);
}

std::size_t csv_source::pending_files() const {
  return static_cast<std::size_t>(std::count_if(files_.begin(), files_.end(), [](const auto& entry) {
    return entry.second.st == stage::reading || entry.second.st == stage::handed_out;
  }));
}

void csv_source::defer(std::string message) {
  if (deferred_.size() < max_deferred) {
    deferred_.push_back(std::move(message));
  } else {
    ++deferred_dropped_;
  }
}

// --- the seen-state ----------------------------------------------------------------

void csv_source::load_state() {
  seen_state_load loaded = load_seen_state(state_file_, max_tracked_);
  if (!loaded.problem.empty()) defer(loaded.problem);
  for (const seen_file& seen : loaded.files) {
    tracked_file file;
    file.identity = seen.identity;
    file.st = stage::done;
    file.mtime_ms = floor_ms(seen.identity.mtime_ns);
    file.head_hash = seen.content_hash;
    file.legacy = seen.legacy;
    files_[seen.name] = file;
  }
}

void csv_source::save_state() {
  std::vector<seen_file> done;
  for (const auto& [name, file] : files_) {
    if (file.st == stage::done) done.push_back(seen_file{name, file.identity, file.head_hash, file.legacy});
  }
  if (const int error = save_seen_state(state_file_, done)) {
    // Still dirty: the next poll or settle tries again; until then a restart re-reads (never loses) those files.
    if (!save_error_reported_) defer("state file '" + state_file_.string() + "': cannot write: " + errno_text(error));
    save_error_reported_ = true;
    return;
  }
  state_dirty_ = false;
  save_error_reported_ = false;
}

// --- scanning ------------------------------------------------------------------------

csv_source::tracked_file csv_source::new_version(const csv_file_identity& identity, epoch_ms now) {
  tracked_file file;
  file.identity = identity;
  file.mtime_ms = floor_ms(identity.mtime_ns);
  file.since = now;
  return file;
}

bool csv_source::is_complete(const std::string& file_name, tracked_file& file, epoch_ms now) {
  // Only called when the identity equals the one recorded by an earlier scan, so the
  // file is already known not to have changed between scans; what remains is its age.
  const epoch_ms settle = cfg_.settle_time.count();
  const epoch_ms quiet_observed = now - file.since;
  // A writer whose clock runs ahead leaves mtimes in the future; fall back to what we observed.
  const epoch_ms quiet = file.mtime_ms <= now ? now - file.mtime_ms : quiet_observed;
  if (quiet < settle) return false;
  // For a file without a final line end, count from when we first saw this version:
  // its mtime may be old (a copy that kept it) while a writer still means to append.
  const bool quiet_long_enough = quiet_observed >= unterminated_settle_factor * settle;
  if (file.identity.size == 0) return quiet_long_enough;
  const int fd = ::open((directory_ / file_name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return true;  // start_reading() reports why
  char last = 0;
  const ssize_t n = ::pread(fd, &last, 1, static_cast<off_t>(file.identity.size - 1));
  ::close(fd);
  if (n != 1 || last == '\n') return true;
  return quiet_long_enough;
}

bool csv_source::still_same_content(const std::string& file_name, tracked_file& file,
                                    const csv_file_identity& now_identity) {
  // Rewritten in place (a new ctime), copied with its mtime (a new inode), or known only
  // from a v1 state: equal size and mtime are not enough, the head's hash decides.
  if (now_identity.size != file.identity.size || now_identity.mtime_ns != file.identity.mtime_ns) return false;
  const int fd = ::open((directory_ / file_name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  const auto hash = head_hash_of(fd, head_bytes);
  ::close(fd);
  if (!hash) return false;
  if (!file.legacy && *hash != file.head_hash) return false;
  file.identity = now_identity;
  file.head_hash = *hash;
  file.legacy = false;
  state_dirty_ = true;
  return true;
}

std::vector<std::string> csv_source::scan(epoch_ms now, poll_result& out) {
  std::error_code ec;
  fs::directory_iterator it(directory_, ec);
  if (ec) {
    out.error = "directory '" + directory_.string() + "': " + ec.message();
    return {};
  }
  std::vector<std::string> present;
  std::vector<std::pair<epoch_ms, std::string>> ready;
  std::uint64_t untracked = 0;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      out.error = "directory '" + directory_.string() + "': " + ec.message();
      return {};
    }
    std::string file_name = it->path().filename().string();
    if (is_ignored_name(file_name) || ::fnmatch(cfg_.pattern.c_str(), file_name.c_str(), 0) != 0) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      // A link may point anywhere (a password file): only files in the directory are read.
      if (links_reported_.size() >= max_links_reported) links_reported_.clear();
      if (links_reported_.emplace(file_name, true).second) {
        out.rejects.push_back(quoted_excerpt(file_name, 80) + ": a symbolic link; not followed, not read");
      }
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    const csv_file_identity identity = identity_of(st);
    auto found = files_.find(file_name);
    if (found == files_.end()) {
      if (files_.size() >= max_tracked_) {
        ++untracked;
        continue;
      }
      files_.emplace(file_name, new_version(identity, now));
      present.push_back(std::move(file_name));
      continue;
    }
    present.push_back(file_name);
    tracked_file& file = found->second;
    if (file.st == stage::reading || file.st == stage::handed_out) continue;
    if (file.identity != identity) {
      if (file.st == stage::done && still_same_content(file_name, file, identity)) continue;
      if (file.st == stage::done) state_dirty_ = true;  // its old entry is obsolete
      file = new_version(identity, now);
      continue;
    }
    if (file.st == stage::done) continue;
    if (is_complete(file_name, file, now)) ready.emplace_back(file.mtime_ms, file_name);
  }
  // Forget files that are gone, so the seen-state and the map only hold what exists.
  std::sort(present.begin(), present.end());
  for (auto entry = files_.begin(); entry != files_.end();) {
    const bool busy = entry->second.st == stage::reading || entry->second.st == stage::handed_out;
    if (!busy && !std::binary_search(present.begin(), present.end(), entry->first)) {
      if (entry->second.st == stage::done) state_dirty_ = true;
      entry = files_.erase(entry);
    } else {
      ++entry;
    }
  }
  if (untracked > 0) {
    untracked_files_ += untracked;
    if (!overflow_reported_) {
      out.rejects.push_back("directory '" + directory_.string() + "': more than " + std::to_string(max_tracked_) +
                            " files match '" + cfg_.pattern + "'; " + std::to_string(untracked) +
                            " not tracked until others are gone");
      overflow_reported_ = true;
    }
  } else {
    overflow_reported_ = false;
  }
  // Oldest first.
  std::sort(ready.begin(), ready.end());
  std::vector<std::string> names;
  names.reserve(ready.size());
  for (auto& entry : ready) names.push_back(std::move(entry.second));
  return names;
}

// --- reading -------------------------------------------------------------------------

void csv_source::refuse(const std::string& file_name, std::string message, poll_result& out) {
  out.rejects.push_back(std::move(message));
  ++rejected_files_;
  // Left where it is: deleting or moving a file we could not use would hide the evidence.
  auto found = files_.find(file_name);
  if (found != files_.end()) found->second.st = stage::done;
  state_dirty_ = true;
}

bool csv_source::start_reading(const std::string& file_name, epoch_ms now, poll_result& out) {
  tracked_file& file = files_.at(file_name);
  if (file.identity.size > cfg_.max_file_bytes) {
    refuse(file_name,
           file_name + ": " + std::to_string(file.identity.size) + " bytes is over max_file_bytes (" +
               std::to_string(cfg_.max_file_bytes) + "); not read",
           out);
    return false;
  }
  // O_NOFOLLOW: a link swapped in since the scan is refused, not followed; O_NONBLOCK:
  // a FIFO swapped in cannot block the loop.
  const int fd = ::open((directory_ / file_name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st {};
  int error = fd < 0 ? errno : 0;
  if (error == 0 && ::fstat(fd, &st) != 0) error = errno;
  if (error == 0 && (!S_ISREG(st.st_mode) || identity_of(st) != file.identity)) {
    // Changed under us: watch the new version from the start.
    ::close(fd);
    file = new_version(S_ISREG(st.st_mode) ? identity_of(st) : file.identity, now);
    return false;
  }
  if (error != 0) {
    if (fd >= 0) ::close(fd);
    // Permissions get fixed without touching size or mtime, so keep retrying, but say it once.
    if (!file.read_error_reported) {
      out.rejects.push_back(file_name + ": cannot read: " + errno_text(error));
      file.read_error_reported = true;
    }
    return false;
  }
  file.st = stage::reading;
  file.outstanding = 0;
  file.lost = false;
  reading_.emplace();
  reading_->name = file_name;
  reading_->fd = fd;
  reading_->parser.emplace(file_name, columns_, file.mtime_ms, now);
  return true;
}

bool csv_source::fill_buffer(poll_result& out) {
  reading_state& r = *reading_;
  const tracked_file& file = files_.at(r.name);
  const std::uint64_t left = file.identity.size - r.offset;
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(read_bytes, left));
  if (want == 0) {
    r.eof = true;
    return true;
  }
  const std::size_t at = r.buffer.size();
  r.buffer.resize(at + want);
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n = ::pread(r.fd, r.buffer.data() + at + got, want - got, static_cast<off_t>(r.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.buffer.resize(at);
      abandon_reading(r.name + ": cannot read: " + errno_text(errno), out, false);
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got < want) {
    // Shorter than when it was found complete: someone rewrote it. Read the new version later.
    r.buffer.resize(at);
    abandon_reading(r.name + ": changed while it was read; it will be read again", out, false);
    return false;
  }
  if (r.offset < head_bytes) {
    const std::size_t head = static_cast<std::size_t>(std::min<std::uint64_t>(head_bytes - r.offset, got));
    r.head_hash = extend_content_hash(r.head_hash, r.buffer.data() + at, head);
  }
  r.offset += got;
  r.eof = r.offset >= file.identity.size;
  return true;
}

void csv_source::take_record(const csv_record& record, poll_result& out) {
  reading_state& r = *reading_;
  if (!r.parser->has_header()) {
    if (record.blank) return;
    std::string error;
    if (!r.parser->take_header(record, error)) abandon_reading(error, out, true);
    return;
  }
  std::string reject;
  if (auto s = r.parser->take_row(record, reject)) {
    out.samples.push_back(std::move(*s));
  } else if (!reject.empty()) {
    // Listed up to a bound per file, then only counted, so a file of a million bad
    // rows cannot fill memory or the journal.
    ++r.rejected_rows;
    if (r.rejects_listed < max_listed_rejects) {
      ++r.rejects_listed;
      out.rejects.push_back(std::move(reject));
    }
  }
}

void csv_source::read_chunk(epoch_ms /*now*/, poll_result& out) {
  reading_state& r = *reading_;
  const std::string name = r.name;
  std::size_t records = 0;
  while (reading_ && records < rows_per_poll) {
    if (!r.eof && r.buffer.size() < max_record_bytes && !fill_buffer(out)) return;
    if (r.skipping_long_row) {
      // The tail of a row that was too long is not a row of its own.
      const auto line_end = r.buffer.find_first_of("\r\n");
      if (line_end == std::string::npos) {
        r.buffer.clear();
        if (r.eof) {
          end_reading(out);
          break;
        }
        continue;
      }
      r.buffer.erase(0, line_end + 1);
      ++r.line;
      r.skipping_long_row = false;
    }
    csv_reader reader(r.buffer, cfg_.delimiter, r.eof, r.line, r.offset <= r.buffer.size());
    csv_record record;
    while (reading_ && records < rows_per_poll && reader.next(record)) {
      ++records;
      take_record(record, out);
    }
    if (!reading_) return;  // the header refused the file
    r.line = reader.line();
    r.buffer.erase(0, reader.consumed());
    if (reader.needs_more() && r.buffer.size() >= max_record_bytes) {
      if (!r.parser->has_header()) {
        // Without its header nothing in the file can be read.
        abandon_reading(r.name + ":" + std::to_string(r.line) + ": the header is longer than " +
                            std::to_string(max_record_bytes) + " bytes; the file is not read",
                        out, true);
        return;
      }
      // One row longer than a whole read: give it up, resume after the next line end.
      if (!r.skipping_long_row) {
        ++r.rejected_rows;
        if (r.rejects_listed < max_listed_rejects) {
          ++r.rejects_listed;
          out.rejects.push_back(r.name + ":" + std::to_string(r.line) + ": a row longer than " +
                                std::to_string(max_record_bytes) + " bytes; skipped");
        }
      }
      const auto line_end = r.buffer.find_first_of("\r\n");
      r.skipping_long_row = line_end == std::string::npos;
      if (r.skipping_long_row) {
        r.buffer.clear();  // keep skipping until a line ends
      } else {
        r.buffer.erase(0, line_end + 1);
        ++r.line;
      }
      continue;
    }
    if (r.eof && r.buffer.empty()) {
      end_reading(out);
      break;
    }
  }
  tracked_file& file = files_.at(name);
  if (file.st == stage::reading || file.st == stage::handed_out) {
    const std::uint64_t token = next_token_++;
    token_files_.emplace(token, name);
    ++file.outstanding;
    out.settle_token = token;
  }
}

void csv_source::end_reading(poll_result& out) {
  reading_state& r = *reading_;
  tracked_file& file = files_.at(r.name);
  if (!r.parser->has_header()) {
    const std::string name = r.name;
    abandon_reading(name + ":1: no header (the file is empty)", out, true);
    return;
  }
  if (r.rejected_rows > r.rejects_listed) {
    out.rejects.push_back(r.name + ": " + std::to_string(r.rejected_rows - r.rejects_listed) +
                          " more rejected rows not listed");
  }
  file.head_hash = r.head_hash;
  file.legacy = false;
  file.st = stage::handed_out;
  ::close(r.fd);
  reading_.reset();
}

void csv_source::abandon_reading(const std::string& why, poll_result& out, bool refuse_file) {
  const std::string name = reading_->name;
  ::close(reading_->fd);
  reading_.reset();
  tracked_file& file = files_.at(name);
  if (refuse_file) {
    // A header that does not fit: nothing of this file was handed out.
    refuse(name, why, out);
    return;
  }
  out.rejects.push_back(why);
  // What was handed out so far is settled as usual; the file is watched again.
  file.lost = true;
  file.st = file.outstanding > 0 ? stage::handed_out : stage::watching;
}

poll_result csv_source::poll(epoch_ms now) {
  poll_result result;
  result.rejects = std::move(deferred_);
  deferred_.clear();
  if (deferred_dropped_ > 0) {
    result.rejects.push_back(cfg_.common.name + ": " + std::to_string(deferred_dropped_) + " more problems not listed");
    deferred_dropped_ = 0;
  }
  std::size_t waiting = 0;  // complete files found by this scan and not started yet
  if (!reading_) {
    const std::vector<std::string> candidates = scan(now, result);
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (start_reading(candidates[i], now, result)) {
        waiting = candidates.size() - i - 1;
        break;
      }
    }
  }
  if (reading_) read_chunk(now, result);
  // The next chunk, or the next complete file, is read at once rather than a scan interval later.
  result.more = reading_.has_value() || waiting > 0;
  // Entries recorded outside settle() (refused files, pruning) are written now.
  if (state_dirty_) save_state();
  return result;
}

// --- settling --------------------------------------------------------------------------

void csv_source::settle(std::uint64_t token, bool safe) {
  auto found = token_files_.find(token);
  if (found == token_files_.end()) return;
  const std::string name = found->second;
  token_files_.erase(found);
  auto entry = files_.find(name);
  if (entry == files_.end()) return;
  tracked_file& file = entry->second;
  if (file.outstanding > 0) --file.outstanding;
  if (!safe) file.lost = true;
  if (file.st != stage::handed_out || file.outstanding > 0) return;
  if (file.lost) {
    // Some of its rows were dropped before they were safe (a full memory store):
    // the file is not given up, and is read again from the start.
    defer(name + ": rows were dropped before they were safe; the file will be read again");
    file.st = stage::watching;
    file.lost = false;
    return;
  }
  finish(name, file);
  if (state_dirty_) save_state();
}

void csv_source::finish(const std::string& file_name, tracked_file& file) {
  file.st = stage::done;
  if (cfg_.after == csv_after::keep) {
    state_dirty_ = true;
    return;
  }
  const fs::path path = directory_ / file_name;
  const int error = cfg_.after == csv_after::remove ? remove_if_same(path, file.identity)
                                                     : move_if_same(path, file.identity, move_to_, file_name);
  if (error == 0 || error == ENOENT) {
    files_.erase(file_name);  // gone from the directory: nothing left to remember
    return;
  }
  if (error == ESTALE) {
    // Rewritten since it was read: the new content is unread, so it stays, and is
    // picked up as a new version by the next scan.
    state_dirty_ = true;
    return;
  }
  defer(file_name + ": cannot " + (cfg_.after == csv_after::remove ? "delete" : "move to '" + move_to_.string() + "'") +
        ": " + errno_text(error));
  // Remembered as done instead, so that it is not read again after a restart.
  state_dirty_ = true;
}

std::unique_ptr<source> make_csv_source(const source_settings& settings, const source_context& context) {
  return std::make_unique<csv_source>(static_cast<const csv_settings&>(settings), context.state_dir);
}

}  // namespace plant::sources
