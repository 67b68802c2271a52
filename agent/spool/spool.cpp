#include "agent/spool/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>
#include <utility>

#include "agent/spool/byte_order.hpp"
#include "agent/spool/spool_format.hpp"

namespace plant::spool {

namespace {

constexpr std::size_t ack_ranges_bound = 1u << 16;
constexpr std::size_t report_ranges_bound = 1u << 16;
constexpr std::size_t read_buffer_bytes = 256u << 10;
constexpr std::uint64_t min_segment_bytes = 512;
// Record offsets are kept as 4 bytes each; a 1 GiB cap keeps every offset (and a
// damaged span) far below 4 GiB even with one maximal record past the cap.
constexpr std::uint64_t max_segment_bytes = 1ull << 30;
constexpr std::uint64_t max_seq = std::numeric_limits<std::uint64_t>::max();
constexpr const char* ack_file_name = "ack";

std::error_code last_errno() { return {errno, std::system_category()}; }

std::error_code pread_full(int fd, std::uint8_t* out, std::size_t size, std::uint64_t offset, std::size_t& got) {
  got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return {};
}

std::error_code pwrite_full(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    if (n == 0) return std::make_error_code(std::errc::no_space_on_device);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

std::string seqs_text(const seq_range& r) {
  if (r.first == r.last) return "seq " + std::to_string(r.first);
  return "seqs " + std::to_string(r.first) + ".." + std::to_string(r.last);
}

std::string records_text(std::uint64_t n) {
  return std::to_string(n) + (n == 1 ? " unacknowledged record" : " unacknowledged records");
}

// "3 unacknowledged records lost (seqs 10..12)" / "no unacknowledged record lost".
std::string lost_text(const std::optional<seq_range>& r) {
  if (!r) return "no unacknowledged record lost";
  return records_text(r->count()) + " lost (" + seqs_text(*r) + ")";
}

// "seqs 5..9 (5 unacknowledged records)".
std::string missing_text(const seq_range& r) { return seqs_text(r) + " (" + records_text(r.count()) + ")"; }

struct damage_span {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t before_seq = 0;  // last intact seq before it in the segment; 0 if none
  std::uint64_t after_seq = 0;   // first intact seq after it; 0 for a tail
  std::error_code read_error;    // set when a failed read, not bad bytes, ended the scan
};

// Builds a segment's index while scan_records walks it, and notes the damage.
class recovery_visitor final : public scan_visitor {
 public:
  recovery_visitor(segment& seg, std::uint64_t& last_seq, std::vector<damage_span>& damages)
      : seg_(seg), last_seq_(last_seq), damages_(damages) {}

  // Seqs only ever increase across the whole spool, so a checksummed record that
  // breaks the order cannot be trusted to be where it claims and counts as damage.
  bool accept(const record_view& r) override { return r.seq > last_seq_ && r.seq >= seg_.header.first_seq; }

  void on_record(std::uint64_t offset, std::uint32_t size, const record_view& r) override {
    if (open_damage_) {
      damages_.back().after_seq = r.seq;
      open_damage_ = false;
    }
    seg_.newest_created = seg_.empty() ? r.created : std::max(seg_.newest_created, r.created);
    seg_.offsets.push_back(static_cast<std::uint32_t>(offset));
    seg_.stored.add(r.seq);
    seg_.last_seq = r.seq;
    seg_.data_end = offset + size;
    last_seq_ = r.seq;
  }

  void on_damage(std::uint64_t offset, std::uint64_t length) override {
    damages_.push_back({offset, length, seg_.empty() ? 0 : seg_.last_seq, 0, {}});
    open_damage_ = true;
    if (!seg_.empty()) {
      seg_.gaps.push_back({static_cast<std::uint32_t>(seg_.offsets.size() - 1), static_cast<std::uint32_t>(length)});
    }
  }

 private:
  segment& seg_;
  std::uint64_t& last_seq_;
  std::vector<damage_span>& damages_;
  bool open_damage_ = false;
};

struct candidate {
  segment seg;
  std::vector<damage_span> damages;
};

}  // namespace

spool::spool(options opts)
    : opts_(std::move(opts)),
      acked_above_(ack_ranges_bound, seq_ranges::overflow::drop_oldest),
      read_losses_(report_ranges_bound, seq_ranges::overflow::merge_oldest) {
  opts_.segment_bytes = std::clamp(opts_.segment_bytes, min_segment_bytes, max_segment_bytes);
  worker_ = std::thread([this] { run_worker(); });
}

spool::~spool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
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
  const auto started = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  recovery_report report;
  auto finish = [&]() -> recovery_report {
    report.segments = segments_.size();
    report.records = unacked_msgs_;
    report.bytes = disk_bytes_;
    report.next_seq = floor_;
    report.elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
                            .count();
    return report;
  };
  if (recovered_) {
    report.findings.push_back("spool: recover() called twice; the second call did nothing");
    return finish();
  }
  recovered_ = true;
  const std::filesystem::path& dir = opts_.dir;

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    fail(append_failed_, "create directory", dir, ec);
    report.findings.push_back(last_error_);
    return finish();
  }
  dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  // The ack record first: it is also the lock that keeps a second agent out.
  const std::filesystem::path ack_path = dir / ack_file_name;
  bool ack_created = false;
  ack_choice ack;
  if (auto open_ec = ack_.open(ack_path, ack_created)) {
    fail(sync_failed_, "open", ack_path, open_ec);
    report.findings.push_back(last_error_);
  } else if (!ack_.try_lock()) {
    locked_out_ = true;
    last_error_ = "spool: " + dir.string() + " is in use by another process (lock on " + ack_path.string() + ")";
    report.findings.push_back(last_error_);
    return finish();
  } else {
    ack = ack_.read();
    if (ack_created) dir_dirty_ = true;
  }

  // List the directory: segments by name, anything else is left alone.
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> names;
  std::filesystem::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == ack_file_name) continue;
    std::error_code type_ec;
    const auto seq = parse_segment_file_name(name);
    if (!seq || !it->is_regular_file(type_ec)) {
      report.findings.push_back("spool: foreign file " + it->path().string() + " ignored");
      continue;
    }
    names.emplace_back(*seq, it->path());
  }
  if (ec) report.findings.push_back("spool: list " + dir.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());

  const bool ack_known = ack.state.has_value();
  const std::uint64_t acked0 = ack_known ? ack.state->acked_through : 0;
  const std::uint64_t stored_through = ack_known ? ack.state->stored_through : 0;
  report.acked_through = acked0;
  if (ack_.is_open()) {
    if (!ack_known && !names.empty()) {
      const bool damaged = ack.a == slot_status::damaged || ack.b == slot_status::damaged;
      const char* what = ack_created ? "missing" : damaged ? "damaged (both slots)" : "empty";
      report.findings.push_back("spool: ack record " + ack_path.string() + " " + what +
                                ": every record in the spool will be resent");
    } else if (ack_known && (ack.a == slot_status::damaged || ack.b == slot_status::damaged)) {
      const std::size_t bad = ack.a == slot_status::damaged ? 0 : 1;
      report.findings.push_back("spool: ack record " + ack_path.string() + ": slot " + slot_name(bad) +
                                " damaged, using slot " + slot_name(1 - bad) + " (generation " +
                                std::to_string(ack.state->generation) + ")");
    }
  }

  // Headers: a segment whose header cannot be trusted cannot be placed in the
  // sequence; its seqs are reported below as missing between its neighbours.
  std::vector<candidate> kept;
  for (const auto& [name_seq, path] : names) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      report.findings.push_back("spool: open " + path.string() + ": " + last_errno().message() +
                                "; segment ignored");
      continue;
    }
    auto file = std::make_shared<segment_file>(fd, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      report.findings.push_back("spool: stat " + path.string() + ": " + last_errno().message() + "; segment ignored");
      continue;
    }
    if (st.st_size == 0) {
      report.findings.push_back("spool: " + path.string() + ": empty segment removed");
      ::unlink(path.c_str());
      continue;
    }
    std::uint8_t raw[format::header_size];
    std::size_t got = 0;
    segment_header header;
    header_status status = header_status::truncated;
    if (auto read_ec = pread_full(fd, raw, sizeof raw, 0, got)) {
      report.findings.push_back("spool: read " + path.string() + " at offset 0: " + read_ec.message() +
                                "; segment ignored");
      continue;
    }
    status = decode_header(raw, got, header);
    if (status == header_status::unsupported_version) {
      report.findings.push_back("spool: " + path.string() + ": unsupported format version " +
                                std::to_string(header.version) + ", segment left in place and ignored");
      continue;
    }
    std::string reason(to_string(status));
    if (status == header_status::ok && header.first_seq != name_seq) {
      reason = "first seq " + std::to_string(header.first_seq) + " does not match the file name";
      status = header_status::bad_magic;
    }
    if (status != header_status::ok) {
      report.findings.push_back("spool: " + path.string() + ": damaged header (" + reason + "), segment removed");
      ::unlink(path.c_str());
      continue;
    }
    candidate c;
    c.seg.file = std::move(file);
    c.seg.header = header;
    c.seg.size = static_cast<std::uint64_t>(st.st_size);
    c.seg.data_end = format::header_size;
    c.seg.newest_created = header.created;
    kept.push_back(std::move(c));
  }

  // Records: one sequential pass with a 1 MiB window, CRC on every record.
  std::vector<std::uint8_t> buffer;
  std::uint64_t last_seq = 0;
  for (candidate& c : kept) {
    recovery_visitor visitor(c.seg, last_seq, c.damages);
    const int fd = c.seg.file->fd();
    const read_fn reader = [fd](std::uint64_t offset, std::uint8_t* out, std::size_t size, std::size_t& got) {
      return pread_full(fd, out, size, offset, got);
    };
    const std::uint64_t scan_end = std::min<std::uint64_t>(c.seg.size, std::numeric_limits<std::uint32_t>::max());
    const scan_result scanned = scan_records(reader, format::header_size, scan_end, buffer, visitor);
    if (scanned.error) {
      c.damages.push_back({scanned.end, c.seg.size - scanned.end, c.seg.empty() ? 0 : c.seg.last_seq, 0,
                           scanned.error});
      c.seg.appendable = false;
    } else if (scanned.end < c.seg.size) {
      // Beyond 4 GiB (never written by us) or the file shrank while we read it.
      c.damages.push_back({scanned.end, c.seg.size - scanned.end, c.seg.empty() ? 0 : c.seg.last_seq, 0, {}});
      c.seg.appendable = false;
    }
  }

  // Losses. Every unacknowledged seq that damage destroyed lies in exactly one of:
  // a damaged span between intact records, a damaged or missing tail (up to the
  // next segment's prev_seq, or for the last segment the ack record's
  // stored_through), or before the first segment. Numbering gaps the caller made
  // are not losses: records are contiguous bytes and prev_seq marks each segment.
  seq_ranges corrupted(report_ranges_bound, seq_ranges::overflow::merge_oldest);
  auto lost = [&](std::uint64_t lo, std::uint64_t hi) -> std::optional<seq_range> {
    if (lo <= acked0) lo = acked0 + 1;
    if (hi == 0 || hi < lo) return std::nullopt;
    corrupted.add(lo, hi);
    return seq_range{lo, hi};
  };
  if (ack_known && kept.empty()) {
    if (auto r = lost(acked0 + 1, stored_through)) {
      report.findings.push_back("spool: " + missing_text(*r) + " missing: no segment holds them");
    }
  }
  if (ack_known && !kept.empty()) {
    if (auto r = lost(acked0 + 1, kept.front().seg.header.prev_seq)) {
      report.findings.push_back("spool: " + missing_text(*r) + " missing before " + kept.front().seg.file->path().string());
    }
  }
  for (std::size_t k = 0; k < kept.size(); ++k) {
    segment& seg = kept[k].seg;
    const bool is_last = k + 1 == kept.size();
    const std::string path = seg.file->path().string();
    const std::uint64_t end_seq = is_last ? stored_through : kept[k + 1].seg.header.prev_seq;
    bool tail_seen = false;
    for (const damage_span& d : kept[k].damages) {
      const std::uint64_t lo = d.before_seq != 0 ? d.before_seq + 1 : seg.header.first_seq;
      const std::string at = "spool: " + path + " at offset " + std::to_string(d.offset) + ": ";
      if (d.after_seq != 0) {
        const auto r = lost(lo, d.after_seq - 1);
        report.findings.push_back(at + std::to_string(d.length) + " damaged bytes skipped, " + lost_text(r));
        continue;
      }
      tail_seen = true;
      const auto r = lost(lo, end_seq);
      if (d.read_error) {
        report.findings.push_back("spool: read " + path + " at offset " + std::to_string(d.offset) + ": " +
                                  d.read_error.message() + "; the remaining " + std::to_string(d.length) +
                                  " bytes are skipped, " + lost_text(r));
      } else if (is_last && seg.appendable) {
        // Cut the torn tail so appends continue right after the last good record.
        if (::ftruncate(seg.file->fd(), static_cast<off_t>(seg.data_end)) != 0) {
          seg.appendable = false;
          report.findings.push_back(at + "torn tail of " + std::to_string(d.length) + " bytes could not be truncated (" +
                                    last_errno().message() + "), " + lost_text(r));
        } else {
          seg.size = seg.data_end;
          if (!seg.gaps.empty() && seg.gaps.back().after + 1 == seg.offsets.size()) seg.gaps.pop_back();
          report.findings.push_back(at + "torn tail of " + std::to_string(d.length) + " bytes truncated, " +
                                    lost_text(r));
        }
      } else {
        report.findings.push_back(at + "damaged tail of " + std::to_string(d.length) + " bytes skipped, " +
                                  lost_text(r));
      }
    }
    if (!tail_seen) {
      const std::uint64_t lo = seg.empty() ? seg.header.first_seq : seg.last_seq + 1;
      if (auto r = lost(lo, end_seq)) {
        report.findings.push_back("spool: " + missing_text(*r) +
                                  (is_last ? " missing after the end of " + path
                                           : " missing between " + path + " and " +
                                                 kept[k + 1].seg.file->path().string()));
      }
    }
  }

  // Adopt what survived. Segments the ack record already covers go now: the
  // record that covers them is on disk.
  for (std::size_t k = 0; k < kept.size(); ++k) {
    segment& seg = kept[k].seg;
    const bool is_last = k + 1 == kept.size();
    if (!is_last && (seg.empty() || seg.last_seq <= acked0)) {
      ::unlink(seg.file->path().c_str());
      continue;
    }
    seg.stored.for_each_overlap(acked0 + 1, max_seq, [&](std::uint64_t a, std::uint64_t b) {
      const std::size_t first = seg.index_of(a);
      seg.unacked += b - a + 1;
      seg.unacked_bytes += seg.record_bytes(first, first + static_cast<std::size_t>(b - a));
    });
    disk_bytes_ += seg.size;
    unacked_msgs_ += seg.unacked;
    unacked_bytes_ += seg.unacked_bytes;
    segments_.push_back(std::move(seg));
  }
  active_open_ = !segments_.empty() && segments_.back().appendable;

  watermark_ = acked0;
  last_appended_ = last_seq;
  floor_ = std::max<std::uint64_t>({ack_known ? ack.state->next_seq : 1, last_seq + 1, 1});
  if (auto high = corrupted.highest()) floor_ = std::max(floor_, *high + 1);
  // An empty active segment was opened for its first_seq: nothing below it may go in.
  if (active_open_ && segments_.back().empty()) floor_ = std::max(floor_, segments_.back().header.first_seq);
  min_seq_ = floor_;
  normalize();
  durable_.store(last_appended_);
  ack_written_ = ack.state;
  report.corrupted = corrupted.ranges();
  return finish();
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
    if (!active.appendable || (!active.empty() && active.size + n > opts_.segment_bytes)) close_active();
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
  if (fd < 0 && errno == EEXIST) {
    // No live or doomed segment can have this name: each has first_seq <= the last
    // appended seq, which r.seq exceeds. So this is a leftover (a header-only file
    // from an earlier failed start) and holds nothing.
    ::unlink(path.c_str());
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  }
  if (fd < 0) return fail(append_failed_, "create", path, last_errno());
  auto file = std::make_shared<segment_file>(fd, path);
  segment seg;
  seg.header.first_seq = r.seq;
  seg.header.created = r.created;
  seg.header.prev_seq = last_appended_;
  std::uint8_t raw[format::header_size];
  encode_header(seg.header, raw);
  if (auto ec = pwrite_full(fd, reinterpret_cast<const char*>(raw), sizeof raw, 0)) {
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

// --- acknowledgements ---------------------------------------------------------

std::size_t spool::segment_index_for(std::uint64_t seq) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), seq,
                             [](std::uint64_t s, const segment& seg) { return s < seg.header.first_seq; });
  return it == segments_.begin() ? 0 : static_cast<std::size_t>(it - segments_.begin()) - 1;
}

const segment* spool::find_stored(std::uint64_t seq) const {
  if (segments_.empty()) return nullptr;
  const segment& seg = segments_[segment_index_for(seq)];
  return seg.stored.contains(seq) ? &seg : nullptr;
}

std::optional<std::uint64_t> spool::lowest_stored_above(std::uint64_t seq) const {
  for (const segment& seg : segments_) {
    if (seg.empty() || seg.last_seq <= seq) continue;
    return seg.stored.next_at_or_after(seq + 1);
  }
  return std::nullopt;
}

void spool::account(std::uint64_t first, std::uint64_t last, bool acked) {
  if (segments_.empty() || first > last) return;
  for (std::size_t i = segment_index_for(first); i < segments_.size(); ++i) {
    segment& seg = segments_[i];
    if (seg.header.first_seq > last) break;
    seg.stored.for_each_overlap(first, last, [&](std::uint64_t a, std::uint64_t b) {
      const std::size_t ia = seg.index_of(a);
      const std::uint64_t bytes = seg.record_bytes(ia, ia + static_cast<std::size_t>(b - a));
      const std::uint64_t count = b - a + 1;
      if (acked) {
        seg.unacked -= count;
        seg.unacked_bytes -= bytes;
        unacked_msgs_ -= count;
        unacked_bytes_ -= bytes;
      } else {
        seg.unacked += count;
        seg.unacked_bytes += bytes;
        unacked_msgs_ += count;
        unacked_bytes_ += bytes;
      }
    });
  }
}

void spool::normalize() {
  // The watermark sits just below the lowest stored record not yet acknowledged:
  // seqs that are not stored (numbering gaps, records reported lost) must not hold
  // it back, or segments after them could never be deleted.
  for (;;) {
    const auto next = lowest_stored_above(watermark_);
    if (!next) {
      if (last_appended_ > watermark_) watermark_ = last_appended_;
      acked_above_.erase_below(watermark_ + 1);
      break;
    }
    if (auto run = acked_above_.find(*next)) {
      watermark_ = run->last;
      acked_above_.erase_below(watermark_ + 1);
      continue;
    }
    watermark_ = *next - 1;
    acked_above_.erase_below(*next);
    break;
  }
  while (!segments_.empty()) {
    const segment& front = segments_.front();
    if (active_open_ && segments_.size() == 1) break;
    if (!front.empty() && front.last_seq > watermark_) break;
    doom_front();
  }
}

void spool::doom_front() {
  segment& front = segments_.front();
  disk_bytes_ -= front.size;
  unacked_msgs_ -= front.unacked;
  unacked_bytes_ -= front.unacked_bytes;
  // Syncing data nobody needs any more would only cost time.
  unsynced_.erase(std::remove(unsynced_.begin(), unsynced_.end(), front.file), unsynced_.end());
  doomed_.push_back(front.file);
  // An open descriptor would keep the unlinked file's blocks allocated.
  if (read_file_ == front.file) read_file_.reset();
  if (active_open_ && segments_.size() == 1) {
    active_open_ = false;
    active_dirty_ = false;
  }
  segments_.pop_front();
}

void spool::acknowledge(std::uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!recovered_ || seq == 0 || seq <= watermark_ || acked_above_.contains(seq)) return;
  if (seq >= floor_ && seq != max_seq) floor_ = seq + 1;
  account(seq, seq, true);
  if (auto forgotten = acked_above_.add(seq)) account(forgotten->first, forgotten->last, false);
  normalize();
}

void spool::give_up(std::uint64_t seq) {
  account(seq, seq, true);
  if (auto forgotten = acked_above_.add(seq)) account(forgotten->first, forgotten->last, false);
  read_losses_.add(seq);
  normalize();
}

std::vector<seq_range> spool::enforce_bounds(epoch_ms now) {
  std::lock_guard<std::mutex> lock(mu_);
  seq_ranges dropped(report_ranges_bound, seq_ranges::overflow::merge_oldest);
  if (!recovered_ || locked_out_) return {};
  while (!segments_.empty()) {
    const bool over_bytes = opts_.max_bytes > 0 && disk_bytes_ > opts_.max_bytes;
    const bool over_age = opts_.max_age_ms > 0 && segments_.front().newest_created < now - opts_.max_age_ms;
    if (!over_bytes && !over_age) break;
    if (active_open_ && segments_.size() == 1) {
      close_active();
      continue;
    }
    segment& front = segments_.front();
    if (!front.empty()) {
      front.stored.for_each_overlap(watermark_ + 1, max_seq, [&](std::uint64_t a, std::uint64_t b) {
        for (const seq_range& g : acked_above_.gaps_within(a, b)) dropped.add(g.first, g.last);
      });
      if (front.last_seq > watermark_) watermark_ = front.last_seq;
      acked_above_.erase_below(watermark_ + 1);
    }
    doom_front();
  }
  normalize();
  return dropped.ranges();
}

// --- reading the backlog ------------------------------------------------------

std::error_code spool::read_bytes(const segment& seg, std::uint64_t offset, std::size_t size,
                                  const std::uint8_t*& out, std::vector<std::uint8_t>& big) {
  if (read_file_ == seg.file && offset >= read_off_ && offset + size <= read_off_ + read_len_) {
    out = read_buf_.data() + (offset - read_off_);
    return {};
  }
  std::size_t got = 0;
  if (size > read_buffer_bytes) {
    big.resize(size);
    if (auto ec = pread_full(seg.file->fd(), big.data(), size, offset, got)) return ec;
    if (got < size) return std::make_error_code(std::errc::io_error);
    out = big.data();
    return {};
  }
  // One large read serves the following records too: draining a backlog costs
  // one syscall per 256 KiB, not one per record.
  if (read_buf_.size() < read_buffer_bytes) read_buf_.resize(read_buffer_bytes);
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(read_buf_.size(), seg.size - offset));
  auto ec = pread_full(seg.file->fd(), read_buf_.data(), want, offset, got);
  read_file_ = ec ? nullptr : seg.file;
  read_off_ = offset;
  read_len_ = ec ? 0 : got;
  if (ec) return ec;
  if (got < size) return std::make_error_code(std::errc::io_error);
  out = read_buf_.data();
  return {};
}

std::optional<record> spool::read_next(std::uint64_t& cursor, std::uint64_t end_exclusive) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!recovered_ || locked_out_) return std::nullopt;
  std::uint64_t s = std::max(cursor, watermark_ + 1);
  std::vector<std::uint8_t> big;
  while (s < end_exclusive && !segments_.empty()) {
    // Binary search by first_seq: a cursor that jumped back (a reconnect resends
    // everything unacknowledged) costs O(log segments), not a rescan.
    std::size_t i = segment_index_for(s);
    std::optional<std::uint64_t> next;
    for (; i < segments_.size(); ++i) {
      next = segments_[i].stored.next_at_or_after(s);
      if (next) break;
    }
    if (!next || *next >= end_exclusive) return std::nullopt;
    if (auto run = acked_above_.find(*next)) {
      if (run->last == max_seq) return std::nullopt;
      s = run->last + 1;
      continue;
    }
    const segment& seg = segments_[i];
    const std::size_t index = seg.index_of(*next);
    const std::uint64_t offset = seg.offsets[index];
    const std::size_t size = seg.record_size(index);
    const std::uint8_t* data = nullptr;
    record_view view;
    auto ec = read_bytes(seg, offset, size, data, big);
    const bool intact = !ec && decode_record(data, size, view).status == decode_status::ok && view.seq == *next;
    if (!intact) {
      read_failed_ = true;
      last_error_ = "spool: read " + seg.file->path().string() + " at offset " + std::to_string(offset) + ": " +
                    (ec ? ec.message() : std::string("record damaged since recovery")) + "; seq " +
                    std::to_string(*next) + " given up";
      const std::uint64_t bad = *next;
      give_up(bad);
      s = bad + 1;
      continue;
    }
    read_failed_ = false;
    record out;
    out.seq = view.seq;
    out.created = view.created;
    out.stream = view.stream;
    out.flags = view.flags;
    out.payload.assign(view.message.data(), view.message.size());
    cursor = view.seq + 1;
    return out;
  }
  return std::nullopt;
}

std::vector<seq_range> spool::take_read_losses() {
  std::lock_guard<std::mutex> lock(mu_);
  auto out = read_losses_.ranges();
  read_losses_.clear();
  return out;
}

// --- getters --------------------------------------------------------------------

std::uint64_t spool::disk_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disk_bytes_;
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

// --- the sync worker --------------------------------------------------------------

void spool::request_sync(std::function<void(std::uint64_t durable_seq)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(std::move(done));
  }
  cv_.notify_one();
}

void spool::run_worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !requests_.empty(); });
    const bool stopping = stop_;
    // Every request queued so far shares this round: one fdatasync per file for
    // however many appends and requests arrived while the last one ran.
    std::deque<std::function<void(std::uint64_t)>> batch;
    batch.swap(requests_);
    sync_round(lock);
    lock.unlock();
    const std::uint64_t durable = durable_.load();
    for (auto& done : batch) {
      if (done) done(durable);
    }
    lock.lock();
    if (stopping && requests_.empty()) return;
  }
}

void spool::sync_round(std::unique_lock<std::mutex>& lock) {
  if (!recovered_ || locked_out_) return;
  const bool never = opts_.sync == config::sync_mode::never;
  std::vector<std::shared_ptr<segment_file>> files;
  files.swap(unsynced_);
  if (active_open_ && active_dirty_) files.push_back(segments_.back().file);
  active_dirty_ = false;
  const bool sync_dir = dir_dirty_;
  dir_dirty_ = false;
  const std::uint64_t target = last_appended_;
  const std::uint64_t acked = watermark_;
  const std::uint64_t next = floor_;
  std::vector<std::shared_ptr<segment_file>> doomed;
  doomed.swap(doomed_);
  lock.unlock();

  // Order matters for a power cut: segment data, then the directory entries of new
  // segments, then the ack record (whose stored_through claims that data), and
  // only then the unlinks that the ack record's acked_through justifies.
  std::string error;
  std::vector<std::shared_ptr<segment_file>> failed;
  bool dir_failed = false;
  if (!never) {
    for (const auto& f : files) {
      if (::fdatasync(f->fd()) != 0) {
        error = "spool: fdatasync " + f->path().string() + ": " + last_errno().message();
        failed.push_back(f);
      }
    }
    if (sync_dir && dir_fd_ >= 0 && ::fsync(dir_fd_) != 0) {
      error = "spool: fsync " + opts_.dir.string() + ": " + last_errno().message();
      dir_failed = true;
    }
  }
  const bool synced = failed.empty() && !dir_failed;
  const std::uint64_t stored = synced ? target : (ack_written_ ? ack_written_->stored_through : 0);
  bool ack_ok = true;
  if (!ack_written_ || ack_written_->acked_through != acked || ack_written_->next_seq != next ||
      ack_written_->stored_through != stored) {
    if (!ack_.is_open()) {
      ack_ok = false;
      if (error.empty()) error = "spool: ack record " + (opts_.dir / ack_file_name).string() + " is not open";
    } else if (auto ec = ack_.write(acked, next, stored, !never)) {
      ack_ok = false;
      error = "spool: write " + ack_.path().string() + ": " + ec.message();
    } else {
      ack_written_ = ack_state{ack_.generation(), acked, next, stored};
    }
  }
  std::vector<std::shared_ptr<segment_file>> keep;
  if (ack_ok) {
    for (const auto& d : doomed) {
      if (::unlink(d->path().c_str()) != 0 && errno != ENOENT) {
        error = "spool: unlink " + d->path().string() + ": " + last_errno().message();
        keep.push_back(d);
      }
    }
  } else {
    keep = std::move(doomed);
  }

  lock.lock();
  unsynced_.insert(unsynced_.end(), failed.begin(), failed.end());
  // After a failed fdatasync the kernel may have dropped the dirty pages and a
  // retry can report success falsely: write nothing more into that file. Recovery
  // checks every record's CRC and reports what did not reach the disk.
  for (const auto& f : failed) {
    for (segment& seg : segments_) {
      if (seg.file == f) seg.appendable = false;
    }
  }
  if (dir_failed) dir_dirty_ = true;
  doomed_.insert(doomed_.end(), keep.begin(), keep.end());
  sync_failed_ = !error.empty();
  if (!error.empty()) last_error_ = error;
  if (synced && target > durable_.load()) durable_.store(target);
}

}  // namespace plant::spool
