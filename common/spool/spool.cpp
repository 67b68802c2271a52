#include "common/spool/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>
#include <utility>

#include "common/spool/byte_order.hpp"
#include "common/spool/file_io.hpp"
#include "common/spool/kernel_facts.hpp"
#include "common/spool/spool_format.hpp"

namespace plant::spool {

namespace {

constexpr std::size_t ack_ranges_bound = 1u << 16;
// Appended records remembered for the batch window; past this a round syncs them all.
constexpr std::size_t unsynced_records_bound = 1u << 16;
// The seq reservation: at least options.min_reservation seqs ahead, at most this many,
// sized to cover this long at the rate seen since the last extension (so one
// fdatasync of the ack record every few minutes at most).
constexpr std::uint64_t max_reserve_ahead = 1ull << 24;
constexpr std::int64_t reserve_cover_ms = 600'000;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t resolve_rotate_age(std::int64_t configured) {
  if (configured >= 0) return configured;
  return std::clamp<std::int64_t>(dirty_expire_ms() / 2, 1'000, 15'000);
}

}  // namespace

spool::spool(options opts)
    : opts_(std::move(opts)),
      acked_above_(ack_ranges_bound, seq_ranges::overflow::drop_oldest),
      read_losses_(limits::report_ranges_bound, seq_ranges::overflow::merge_oldest) {
  opts_.segment_bytes = std::clamp(opts_.segment_bytes, limits::min_segment_bytes, limits::max_segment_bytes);
  fsync_.store(opts_.sync != sync_mode::never);
  boot_ = opts_.boot_id != 0 ? opts_.boot_id : current_boot_id();
  rotate_age_ms_ = resolve_rotate_age(opts_.rotate_age_ms);
  opts_.min_reservation = std::clamp<std::uint64_t>(opts_.min_reservation, 1, max_reserve_ahead);
  reserve_ahead_ = opts_.min_reservation;
  worker_ = std::make_unique<sync_worker>(
      [this] { return take_sync_job(); },
      [this](const sync_job& job) { return perform_sync(job, ack_, ack_written_, dir_fd_, opts_.dir, fsync_.load()); },
      [this](const sync_outcome& outcome) { return apply_sync_outcome(outcome); });
}

spool::~spool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  worker_.reset();  // its last round syncs what is left and reserves exactly what was handed out
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::error_code spool::fail(bool& flag, const std::string& what, const std::filesystem::path& path,
                            std::error_code ec) {
  flag = true;
  last_error_ = "spool: " + what + " " + path.string() + ": " + ec.message();
  return ec;
}

// --- recovery ---------------------------------------------------------------

// `now` is unused: recovery keeps everything it can read; dropping by age is
// enforce_bounds' job, called right after with the same time.
recovery_report spool::recover(epoch_ms /*now*/) {
  std::lock_guard<std::mutex> lock(mu_);
  recovery_report report;
  if (recovered_) {
    report.findings.push_back("spool: recover() called twice; the second call did nothing");
    return report;
  }
  const std::filesystem::path& dir = opts_.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec && is_access_error(ec.value())) {
    throw spool_access_error("spool: cannot create " + dir.string() + ": " + ec.message() + "; " + ownership_fix(dir));
  }
  recovered_ = true;
  if (ec) {
    fail(append_failed_, "create directory", dir, ec);
    report.findings.push_back(last_error_);
    return report;
  }
  dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  // The ack record first: it is also the lock that keeps a second agent out.
  const std::filesystem::path ack_path = dir / ack_file_name;
  bool ack_created = false;
  if (auto open_ec = ack_.open(ack_path, ack_created)) {
    if (is_access_error(open_ec.value())) {
      throw spool_access_error("spool: cannot open " + ack_path.string() + ": " + open_ec.message() +
                               "; without it the agent cannot tell what was delivered; " + ownership_fix(dir));
    }
    // A full disk: run from memory and try again at every sync (sync_worker reopens it).
    fail(sync_failed_, "open", ack_path, open_ec);
    report.findings.push_back(last_error_);
  } else if (!ack_.try_lock()) {
    locked_out_ = true;
    last_error_ = "spool: " + dir.string() + " is in use by another process (lock on " + ack_path.string() + ")";
    report.findings.push_back(last_error_);
    return report;
  }

  recovered_spool found = recover_directory(dir, ack_, ack_created, boot_);
  segments_ = std::move(found.segments);
  active_open_ = found.active_open;
  dir_dirty_ = found.ack_created;
  watermark_ = found.acked_through;
  last_appended_ = found.last_seq;
  floor_ = found.next_seq;
  min_seq_ = floor_;
  disk_bytes_ = found.disk_bytes;
  unacked_msgs_ = found.unacked_messages;
  unacked_bytes_ = found.unacked_bytes;
  ack_written_ = found.ack;
  normalize();
  durable_.store(last_appended_);
  report = std::move(found.report);
  write_initial_reservation(found.ack_created);
  report.segments = segments_.size();
  report.records = unacked_msgs_;
  report.bytes = disk_bytes_;
  report.next_seq = floor_;
  return report;
}

// --- appending ----------------------------------------------------------------

std::error_code spool::append(const record& r) {
  std::lock_guard<std::mutex> lock(mu_);
  if (locked_out_) return std::make_error_code(std::errc::device_or_resource_busy);
  if (!recovered_) {
    last_error_ = "spool: append before recover()";
    return std::make_error_code(std::errc::operation_not_permitted);
  }
  if (r.seq <= last_appended_ || r.seq < min_seq_) {
    last_error_ = "spool: append seq " + std::to_string(r.seq) + " refused: seqs must increase (last appended " +
                  std::to_string(last_appended_) + ", floor after recovery " + std::to_string(min_seq_) + ")";
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (r.payload.size() > format::max_message) {
    last_error_ = "spool: append seq " + std::to_string(r.seq) + " refused: " + std::to_string(r.payload.size()) +
                  " bytes exceed the record limit of " + std::to_string(format::max_message);
    return std::make_error_code(std::errc::message_size);
  }
  const std::size_t n = encoded_record_size(r.payload.size());
  if (active_open_) {
    const segment& active = segments_.back();
    const bool too_big = !active.empty() && active.size + n > opts_.segment_bytes;
    // While the broker keeps up, a segment that is deleted before the kernel's
    // flusher gets to it never costs the disk a byte: rotate by age, not only size.
    // Not while a backlog builds up (more than half unacknowledged): that data is
    // kept anyway, and small segments would only multiply files.
    const bool too_old = rotate_age_ms_ > 0 && !active.empty() &&
                         (r.created < active.header.created || r.created - active.header.created >= rotate_age_ms_) &&
                         active.unacked * 2 <= active.offsets.size();
    if (!active.appendable || too_big || too_old) close_active();
  }
  if (!active_open_) {
    if (auto ec = open_segment(r)) return ec;
  }
  segment& seg = segments_.back();
  scratch_.clear();
  append_record(scratch_, record_view{r.seq, r.created, r.stream, r.flags, r.payload});
  if (auto ec = pwrite_full(seg.file->fd(), scratch_.data(), n, seg.size)) {
    // Put the file back to its last good size so it stays a valid segment; if even
    // that fails, the next append starts a fresh segment and recovery will skip
    // the garbage as a damaged tail that lost nothing.
    if (::ftruncate(seg.file->fd(), static_cast<off_t>(seg.size)) != 0) seg.appendable = false;
    return fail(append_failed_, "write", seg.file->path(), ec);
  }
  seg.newest_created = seg.empty() ? r.created : std::max(seg.newest_created, r.created);
  seg.offsets.push_back(static_cast<std::uint32_t>(seg.size));
  seg.stored.add(r.seq);
  seg.size += n;
  seg.data_end = seg.size;
  seg.last_seq = r.seq;
  disk_bytes_ += n;
  last_appended_ = r.seq;
  if (r.seq >= floor_) floor_ = r.seq + 1;
  active_dirty_ = true;
  if (unsynced_records_.size() < unsynced_records_bound) {
    unsynced_records_.emplace_back(r.seq, steady_ms());
  } else {
    force_data_sync_ = true;
  }
  if (r.seq > watermark_ && !acked_above_.contains(r.seq)) {
    seg.unacked += 1;
    seg.unacked_bytes += n;
    unacked_msgs_ += 1;
    unacked_bytes_ += n;
  }
  append_failed_ = false;
  normalize();
  return {};
}

std::error_code spool::open_segment(const record& r) {
  const std::filesystem::path path = opts_.dir / segment_file_name(r.seq);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  // A file by this name exists only if recovery could not see it. It is never
  // replaced: it may hold messages, and its seqs must not be handed out twice.
  if (fd < 0) return fail(append_failed_, "create", path, last_errno());
  auto file = std::make_shared<segment_file>(fd, path);
  segment seg;
  seg.header.first_seq = r.seq;
  seg.header.created = r.created;
  seg.header.prev_seq = last_appended_;
  std::uint8_t raw[format::header_size];
  encode_header(seg.header, raw);
  if (auto ec = pwrite_full(fd, raw, sizeof raw, 0)) {
    ::unlink(path.c_str());
    return fail(append_failed_, "write", path, ec);
  }
  seg.file = std::move(file);
  seg.size = format::header_size;
  seg.data_end = format::header_size;
  seg.newest_created = r.created;
  disk_bytes_ += seg.size;
  segments_.push_back(std::move(seg));
  active_open_ = true;
  active_dirty_ = true;
  dir_dirty_ = true;
  return {};
}

void spool::close_active() {
  if (!active_open_) return;
  active_open_ = false;
  segment& seg = segments_.back();
  if (seg.empty()) {
    // Holds no record, so nothing needs the ack record's say-so to delete it.
    ::unlink(seg.file->path().c_str());
    disk_bytes_ -= seg.size;
    segments_.pop_back();
    active_dirty_ = false;
    return;
  }
  if (active_dirty_) unsynced_.push_back(seg.file);
  active_dirty_ = false;
}

// --- getters --------------------------------------------------------------------

std::uint64_t spool::disk_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disk_bytes_;
}

std::uint64_t spool::unlink_pending_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return doomed_bytes_;
}

std::uint64_t spool::unacked_messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unacked_msgs_;
}

std::uint64_t spool::unacked_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unacked_bytes_;
}

std::optional<epoch_ms> spool::oldest_unacked_created() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (unacked_msgs_ == 0) return std::nullopt;
  // normalize() keeps the watermark just below the oldest unacknowledged record.
  const std::uint64_t seq = watermark_ + 1;
  if (oldest_cache_ && oldest_cache_->first == seq) return oldest_cache_->second;
  const segment* seg = find_stored(seq);
  if (seg == nullptr) return std::nullopt;
  std::uint8_t raw[format::frame_header_size + 16];
  std::size_t got = 0;
  const auto ec = pread_full(seg->file->fd(), raw, sizeof raw, seg->offsets[seg->index_of(seq)], got);
  if (ec || got < sizeof raw || bytes::get_u64(raw + format::frame_header_size) != seq) {
    return seg->header.created;  // unreadable now; read_next will report it, the segment's age is the best guess
  }
  const auto created = static_cast<epoch_ms>(bytes::get_u64(raw + format::frame_header_size + 8));
  oldest_cache_ = std::make_pair(seq, created);
  return created;
}

std::uint64_t spool::acked_through() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watermark_;
}

std::uint64_t spool::next_seq_floor() const {
  std::lock_guard<std::mutex> lock(mu_);
  return floor_;
}

void spool::reserve_seq(std::uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (plausible_seq(seq) && seq >= floor_) floor_ = seq + 1;
}

std::uint64_t spool::forgotten_acks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_above_.overflowed();
}

bool spool::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !append_failed_ && !sync_failed_ && !read_failed_ && !locked_out_;
}

std::string spool::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

// --- the sync worker's side ---------------------------------------------------------

void spool::request_sync(std::function<void(std::uint64_t durable_seq)> done) { worker_->request(std::move(done)); }

void spool::set_sync_mode(sync_mode mode, std::int64_t sync_interval_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  opts_.sync = mode;
  opts_.sync_interval_ms = sync_interval_ms;
  fsync_.store(mode != sync_mode::never);
}

std::optional<std::chrono::steady_clock::time_point> spool::deferred_sync_due() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!deferred_due_ms_) return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::milliseconds(*deferred_due_ms_));
}

void spool::plan_reservation(sync_job& job, std::int64_t now_ms) {
  const std::uint64_t handed_out = floor_ - 1;
  if (closing_) {
    // Nothing more will be handed out: reserve exactly, so a power cut after a clean
    // stop does not report a reservation nobody used.
    reserved_ = handed_out;
    job.ack_needs_sync = true;
  } else if (handed_out + reserve_ahead_ / 2 >= reserved_) {
    const std::int64_t elapsed = std::max<std::int64_t>(now_ms - reserved_at_ms_, 1'000);
    const std::uint64_t used = floor_ - std::min(floor_, reserved_at_floor_);
    const double per_ms = static_cast<double>(used) / static_cast<double>(elapsed);
    const double wanted = per_ms * static_cast<double>(reserve_cover_ms);
    reserve_ahead_ = wanted >= static_cast<double>(max_reserve_ahead)
                         ? max_reserve_ahead
                         : std::max<std::uint64_t>(opts_.min_reservation, static_cast<std::uint64_t>(wanted));
    reserved_ = std::min(handed_out + reserve_ahead_, max_plausible_seq);
    reserved_at_ms_ = now_ms;
    reserved_at_floor_ = floor_;
  }
  // Synced until the disk holds it (a failed round tries again at the next).
  if (floor_on_disk_.load() <= reserved_) job.ack_needs_sync = true;
  job.reserved_through = reserved_;
  job.boot = boot_;
}

void spool::write_initial_reservation(bool ack_created_now) {
  // Before anything is published: a fresh reservation from the new floor, synced.
  if (!ack_.is_open()) {
    ack_failing_.store(true);
    return;
  }
  sync_job job;
  job.target = last_appended_;
  job.acked_through = watermark_;
  job.next_seq = floor_;
  job.data_needs_sync = false;
  job.claims_target = false;
  reserved_at_ms_ = steady_ms();
  reserved_at_floor_ = floor_;
  reserved_ = std::min(floor_ - 1 + reserve_ahead_, max_plausible_seq);
  job.reserved_through = reserved_;
  job.boot = boot_;
  job.ack_needs_sync = true;
  // A new ack record's own directory entry: without it a power cut could lose the reservation.
  job.sync_directory = dir_dirty_ && ack_created_now;
  const sync_outcome outcome = perform_sync(job, ack_, ack_written_, dir_fd_, opts_.dir, fsync_.load());
  if (job.sync_directory && !outcome.directory_failed) dir_dirty_ = false;
  sync_calls_ += outcome.syncs;
  if (outcome.floor_on_disk > floor_on_disk_.load()) floor_on_disk_.store(outcome.floor_on_disk);
  ack_failing_.store(outcome.ack_failed);
  if (outcome.ack_failed) {
    sync_failed_ = true;
    last_error_ = outcome.error;
  }
}

std::optional<sync_job> spool::take_sync_job() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!recovered_ || locked_out_) return std::nullopt;
  const std::int64_t now = steady_ms();
  // The oldest record appended since the last data sync that the broker has not acknowledged.
  while (!unsynced_records_.empty()) {
    const std::uint64_t q = unsynced_records_.front().first;
    if (q > watermark_ && !acked_above_.contains(q)) break;
    unsynced_records_.pop_front();
  }
  const bool always = opts_.sync == sync_mode::always;
  deferred_due_ms_.reset();
  sync_job job;
  if (!unsynced_records_.empty() && !force_data_sync_ && !closing_ && !always && opts_.sync_interval_ms > 0 &&
      now < unsynced_records_.front().second + opts_.sync_interval_ms) {
    // Its window is still open: the broker will most likely acknowledge it first,
    // and then it never needs an fdatasync. The caller runs a round by the due time.
    deferred_due_ms_ = unsynced_records_.front().second + opts_.sync_interval_ms;
    job.data_needs_sync = false;
    job.claims_target = false;
  } else {
    job.files.swap(unsynced_);
    if (active_open_ && active_dirty_) job.files.push_back(segments_.back().file);
    active_dirty_ = false;
    // Data the broker has acknowledged needs no fdatasync: after a power cut the
    // record of it is lost at worst, and the broker has it.
    job.data_needs_sync = !unsynced_records_.empty() || force_data_sync_;
    // New directory entries matter only for data that must survive.
    job.sync_directory = dir_dirty_ && job.data_needs_sync;
    if (job.sync_directory) dir_dirty_ = false;
    unsynced_records_.clear();
    force_data_sync_ = false;
  }
  job.target = last_appended_;
  job.acked_through = watermark_;
  job.next_seq = floor_;
  plan_reservation(job, now);
  job.doomed.swap(doomed_);
  doomed_bytes_ = 0;
  return job;
}

std::uint64_t spool::apply_sync_outcome(const sync_outcome& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_calls_ += outcome.syncs;
  unsynced_.insert(unsynced_.end(), outcome.failed.begin(), outcome.failed.end());
  if (!outcome.failed.empty() || outcome.directory_failed) force_data_sync_ = true;
  // After a failed fdatasync the kernel may have dropped the dirty pages and a
  // retry can report success falsely: write nothing more into that file. Recovery
  // checks every record's CRC and reports what did not reach the disk.
  for (const auto& f : outcome.failed) {
    for (segment& seg : segments_) {
      if (seg.file == f) seg.appendable = false;
    }
  }
  if (outcome.directory_failed) dir_dirty_ = true;
  sync_failed_ = !outcome.error.empty();
  if (!outcome.error.empty()) last_error_ = outcome.error;
  if (outcome.synced && outcome.target > durable_.load()) durable_.store(outcome.target);
  if (outcome.floor_on_disk > floor_on_disk_.load()) floor_on_disk_.store(outcome.floor_on_disk);
  if (outcome.ack_failed || outcome.ack_written) ack_failing_.store(outcome.ack_failed);
  return durable_.load();
}

}  // namespace plant::spool
