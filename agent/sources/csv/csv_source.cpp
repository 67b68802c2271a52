#include "agent/sources/csv/csv_source.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <system_error>

#include "agent/sources/csv/csv_seen_state.hpp"
#include "common/core/file_access.hpp"
#include "common/core/text.hpp"

namespace plant::sources {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_deferred = 100;
constexpr std::size_t max_links_reported = 1000;
/// A file without a final line end may be a writer between two appends; it must
/// be quiet this many settle times before it counts as complete.
constexpr int unterminated_settle_factor = 10;

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
      snapshot_file_(state_dir / "csv" / (file_name_for(cfg.common.name) + ".snapshot")),
      max_tracked_(max_tracked) {
  columns_.material = cfg.material_column;
  columns_.quantity = cfg.quantity_column;
  columns_.timestamp = cfg.timestamp_column;
  columns_.location = cfg.location_column;
  columns_.unit = cfg.unit_column;
  supply_columns_.material = cfg.material_column;
  supply_columns_.quantity = cfg.quantity_column;
  supply_columns_.due = cfg.due_column;
  supply_columns_.order = cfg.order_column;
  supply_columns_.supplier = cfg.supplier_column;
  supply_columns_.from = cfg.from_column;
  supply_columns_.to = cfg.to_column;
  load_state();
  if (supplies()) load_snapshot();
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

// --- the supply snapshot kept across restarts ---------------------------------------

namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The whole of a file no larger than `max_bytes`; "" or the reason it cannot be read.
std::string read_bounded(const fs::path& path, std::uint64_t max_bytes, std::string& text) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return "cannot read: " + ec.message();
  if (size > max_bytes) return std::to_string(size) + " bytes is larger than a snapshot can be";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open";
  text.resize(static_cast<std::size_t>(size));
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size) return "shorter than its size (being written?)";
  return "";
}

// Epoch seconds with milliseconds: what parse_timestamp reads back exactly.
std::string epoch_text(epoch_ms t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(t / 1000), static_cast<long long>(t % 1000));
  return buf;
}

}  // namespace

std::string csv_source::save_snapshot(const supply_snapshot& snapshot) const {
  const bool receipts = snapshot.kind == supply_snapshot::kind_t::receipts;
  std::string text = receipts ? "material,quantity,due,order,supplier\n" : "material,quantity,from,to\n";
  char quantity[40];
  for (const auto& row : snapshot.rows) {
    std::snprintf(quantity, sizeof quantity, "%.17g", row.quantity);
    text += csv_field(row.material) + "," + quantity + ",";
    text += receipts ? epoch_text(row.due) + "," + csv_field(row.order) + "," + csv_field(row.supplier)
                     : epoch_text(row.from) + "," + epoch_text(row.to);
    text += "\n";
  }
  if (const int error = write_file_durably(snapshot_file_, text))
    return "snapshot file '" + snapshot_file_.string() + "': cannot write: " + errno_text(error);
  return "";
}

void csv_source::load_snapshot() {
  std::error_code ec;
  if (!fs::exists(snapshot_file_, ec)) return;
  std::string text;
  // max_supply_rows rows of at most a few hundred bytes each, with room to spare.
  constexpr std::uint64_t max_snapshot_bytes = 256ull << 20;
  if (const std::string problem = read_bounded(snapshot_file_, max_snapshot_bytes, text); !problem.empty()) {
    restore_problems_.push_back("snapshot file '" + snapshot_file_.string() + "': " + problem);
    return;
  }
  const auto kind = cfg_.kind == csv_kind::receipts ? supply_snapshot::kind_t::receipts : supply_snapshot::kind_t::demand;
  supply_csv_columns columns;
  columns.order = "order";
  columns.supplier = "supplier";
  supply_row_parser parser(snapshot_file_.string(), kind, columns);
  csv_reader reader(text, ',');
  csv_record record;
  supply_snapshot snapshot;
  snapshot.kind = kind;
  snapshot.file = snapshot_file_.string();
  while (reader.next(record)) {
    std::string problem;
    if (!parser.has_header()) {
      if (record.blank) continue;
      if (!parser.take_header(record, problem)) {
        // Written by another kind, or damaged: no snapshot is better than a wrong one.
        restore_problems_.push_back(problem + "; the previous snapshot is not used");
        return;
      }
      continue;
    }
    if (auto row = parser.take_row(record, problem)) {
      if (snapshot.rows.size() < max_supply_rows) snapshot.rows.push_back(std::move(*row));
    } else if (!problem.empty()) {
      restore_problems_.push_back(problem);
    }
  }
  if (parser.has_header()) restored_snapshot_ = std::move(snapshot);
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

poll_result csv_source::poll(epoch_ms now) {
  poll_result result;
  result.rejects = std::move(deferred_);
  deferred_.clear();
  if (deferred_dropped_ > 0) {
    result.rejects.push_back(cfg_.common.name + ": " + std::to_string(deferred_dropped_) + " more problems not listed");
    deferred_dropped_ = 0;
  }
  // The last run's snapshot first: the detector starts from the orders it knew.
  if (restored_snapshot_) {
    restored_snapshot_->read_at = now;
    result.supplies.push_back(std::move(*restored_snapshot_));
    restored_snapshot_.reset();
  }
  for (auto& problem : restore_problems_) result.rejects.push_back(std::move(problem));
  restore_problems_.clear();
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
