#include "common/spool/spool_recovery.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>

#include "common/spool/file_io.hpp"
#include "common/spool/spool_format.hpp"
#include "common/core/file_access.hpp"

namespace plant::spool {

namespace {

constexpr std::size_t report_ranges_bound = 1u << 16;
constexpr std::uint64_t max_seq = std::numeric_limits<std::uint64_t>::max();

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


// Builds a segment's index while scan_records walks it, and notes the damage.
class recovery_visitor final : public scan_visitor {
 public:
  recovery_visitor(segment& seg, std::uint64_t& last_seq, std::vector<damage_span>& damages)
      : seg_(seg), last_seq_(last_seq), damages_(damages) {}

  // Seqs only ever increase across the whole spool, so a checksummed record that
  // breaks the order cannot be trusted to be where it claims and counts as damage;
  // so does a seq no agent could have reached (it would overflow the accounting).
  bool accept(const record_view& r) override {
    return r.seq > last_seq_ && r.seq >= seg_.header.first_seq && plausible_seq(r.seq);
  }

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

// Segments by name; anything else is left alone and mentioned once.
std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_segments(const std::filesystem::path& dir,
                                                                           recovery_report& report) {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  if (ec && is_access_error(ec.value())) {
    throw spool_access_error("spool: cannot list " + dir.string() + ": " + ec.message() + "; " + ownership_fix(dir));
  }
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
  return names;
}

// Opens each segment and checks its header. A segment whose header cannot be
// trusted cannot be placed in the sequence: its seqs are reported as missing
// between its neighbours. One that cannot be opened for lack of permission stops
// the start: it may hold unacknowledged data, and its seqs must never be reused.
std::vector<candidate> open_segments(const std::vector<std::pair<std::uint64_t, std::filesystem::path>>& names,
                                     recovery_report& report) {
  std::vector<candidate> kept;
  for (const auto& [name_seq, path] : names) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      const int error = errno;
      if (is_access_error(error)) {
        throw spool_access_error("spool: cannot open " + path.string() + ": " + std::system_category().message(error) +
                                 "; it may hold unacknowledged messages, so the agent does not start over it; " +
                                 ownership_fix(path.parent_path()));
      }
      report.findings.push_back("spool: open " + path.string() + ": " + std::system_category().message(error) +
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
    if (auto read_ec = pread_full(fd, raw, sizeof raw, 0, got)) {
      report.findings.push_back("spool: read " + path.string() + " at offset 0: " + read_ec.message() +
                                "; segment ignored");
      continue;
    }
    segment_header header;
    header_status status = decode_header(raw, got, header);
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
    if (status == header_status::ok && !plausible_seq(header.first_seq)) {
      reason = "first seq " + std::to_string(header.first_seq) + " is beyond any real sequence number";
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
  return kept;
}

// Records: one sequential pass per segment, CRC on every record.
std::uint64_t scan_segments(std::vector<candidate>& kept) {
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
  return last_seq;
}

// Cuts the torn tail of the last segment so appends continue right after its last good record.
void cut_torn_tail(candidate& last, scanned_segment& info) {
  if (last.damages.empty() || last.damages.back().after_seq != 0 || last.damages.back().read_error ||
      !last.seg.appendable) {
    return;
  }
  segment& seg = last.seg;
  if (::ftruncate(seg.file->fd(), static_cast<off_t>(seg.data_end)) != 0) {
    seg.appendable = false;
    info.truncate_error = last_errno().message();
    return;
  }
  seg.size = seg.data_end;
  if (!seg.gaps.empty() && seg.gaps.back().after + 1 == seg.offsets.size()) seg.gaps.pop_back();
  info.truncated_tail = true;
}

void report_ack_state(const ack_choice& ack, bool ack_created, bool has_segments, const std::filesystem::path& ack_path,
                      recovery_report& report) {
  const bool ack_known = ack.state.has_value();
  if (!ack_known && has_segments) {
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

}  // namespace

std::string ownership_fix(const std::filesystem::path& spool_dir) {
  return "if the agent ran as another user before, give the state directory to this one: " +
         chown_command(spool_dir.parent_path().string());
}

loss_report account_losses(const std::vector<scanned_segment>& segments, bool ack_known, std::uint64_t acked0,
                           std::uint64_t stored_through, std::uint64_t front_acknowledged_through) {
  loss_report out;
  seq_ranges corrupted(report_ranges_bound, seq_ranges::overflow::merge_oldest);
  auto lost = [&](std::uint64_t lo, std::uint64_t hi) -> std::optional<seq_range> {
    if (lo <= acked0) lo = acked0 + 1;
    if (hi == 0 || hi < lo) return std::nullopt;
    corrupted.add(lo, hi);
    return seq_range{lo, hi};
  };
  acked0 = std::max(acked0, front_acknowledged_through);
  if (ack_known && segments.empty()) {
    if (auto r = lost(acked0 + 1, stored_through)) {
      out.findings.push_back("spool: " + missing_text(*r) + " missing: no segment holds them");
    }
  }
  if (ack_known && !segments.empty()) {
    if (auto r = lost(acked0 + 1, segments.front().prev_seq)) {
      out.findings.push_back("spool: " + missing_text(*r) + " missing before " + segments.front().path);
    }
  }
  for (std::size_t k = 0; k < segments.size(); ++k) {
    const scanned_segment& seg = segments[k];
    const bool is_last = k + 1 == segments.size();
    const std::uint64_t end_seq = is_last ? stored_through : segments[k + 1].prev_seq;
    bool tail_seen = false;
    for (const damage_span& d : seg.damages) {
      const std::uint64_t lo = d.before_seq != 0 ? d.before_seq + 1 : seg.first_seq;
      const std::string at = "spool: " + seg.path + " at offset " + std::to_string(d.offset) + ": ";
      if (d.after_seq != 0) {
        const auto r = lost(lo, d.after_seq - 1);
        out.findings.push_back(at + std::to_string(d.length) + " damaged bytes skipped, " + lost_text(r));
        continue;
      }
      tail_seen = true;
      const auto r = lost(lo, end_seq);
      if (d.read_error) {
        out.findings.push_back("spool: read " + seg.path + " at offset " + std::to_string(d.offset) + ": " +
                               d.read_error.message() + "; the remaining " + std::to_string(d.length) +
                               " bytes are skipped, " + lost_text(r));
      } else if (is_last && seg.truncated_tail) {
        out.findings.push_back(at + "torn tail of " + std::to_string(d.length) + " bytes truncated, " + lost_text(r));
      } else if (is_last && !seg.truncate_error.empty()) {
        out.findings.push_back(at + "torn tail of " + std::to_string(d.length) + " bytes could not be truncated (" +
                               seg.truncate_error + "), " + lost_text(r));
      } else {
        out.findings.push_back(at + "damaged tail of " + std::to_string(d.length) + " bytes skipped, " + lost_text(r));
      }
    }
    if (!tail_seen) {
      const std::uint64_t lo = seg.empty ? seg.first_seq : seg.last_seq + 1;
      if (auto r = lost(lo, end_seq)) {
        out.findings.push_back("spool: " + missing_text(*r) +
                               (is_last ? " missing after the end of " + seg.path
                                        : " missing between " + seg.path + " and " + segments[k + 1].path));
      }
    }
  }
  out.corrupted = corrupted.ranges();
  return out;
}

recovered_spool recover_directory(const std::filesystem::path& dir, ack_file& ack_record, bool ack_created,
                                  std::uint64_t boot_id) {
  const auto started = std::chrono::steady_clock::now();
  recovered_spool out;
  recovery_report& report = out.report;
  const ack_choice ack = ack_record.read();
  const auto names = list_segments(dir, report);
  report_ack_state(ack, ack_created, !names.empty(), ack_record.path(), report);

  std::vector<candidate> kept = open_segments(names, report);
  const std::uint64_t last_seq = scan_segments(kept);

  std::vector<scanned_segment> scanned(kept.size());
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const segment& seg = kept[k].seg;
    scanned[k] = scanned_segment{seg.file->path().string(), seg.header.first_seq, seg.header.prev_seq, seg.empty(),
                                 seg.last_seq, kept[k].damages, false, {}};
  }
  if (!kept.empty()) cut_torn_tail(kept.back(), scanned.back());

  const bool ack_known = ack.state.has_value();
  // A version 1 record (boot 0) was synced before every unlink; a version 2 one from this
  // boot is what was last written (the page cache survived). Only one from another boot
  // may be older than what followed it.
  const bool other_boot = ack_known && ack.state->boot != 0 && ack.state->boot != boot_id;
  const std::uint64_t acked0 = ack_known ? ack.state->acked_through : 0;
  const std::uint64_t stored0 = ack_known ? ack.state->stored_through : 0;
  std::uint64_t front_acknowledged = 0;
  if (other_boot) front_acknowledged = names.empty() ? stored0 : names.front().first - 1;
  loss_report losses = account_losses(scanned, ack_known, acked0, stored0, front_acknowledged);
  report.findings.insert(report.findings.end(), losses.findings.begin(), losses.findings.end());

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
    out.disk_bytes += seg.size;
    out.unacked_messages += seg.unacked;
    out.unacked_bytes += seg.unacked_bytes;
    out.segments.push_back(std::move(seg));
  }
  out.active_open = !out.segments.empty() && out.segments.back().appendable;
  out.ack = ack.state;
  out.ack_created = ack_created;
  out.acked_through = acked0;
  out.last_seq = last_seq;
  std::uint64_t floor = std::max<std::uint64_t>({ack_known ? ack.state->next_seq : 1, last_seq + 1, 1});
  if (!losses.corrupted.empty()) floor = std::max(floor, losses.corrupted.back().last + 1);
  // Up to stored_through, what is missing is damage (reported as corrupted); above it, only
  // seqs that never reached the disk: held in memory, or after a power cut anything of the
  // synced reservation, which may have been published. Numbering resumes above them all.
  if (ack_known) {
    std::uint64_t on_disk_through = std::max({last_seq, acked0, ack.state->stored_through});
    on_disk_through = std::max(on_disk_through, front_acknowledged);
    std::uint64_t handed_out_below = ack.state->next_seq;
    if (other_boot) handed_out_below = std::max(handed_out_below, ack.state->reserved_through + 1);
    if (handed_out_below > on_disk_through + 1 && plausible_seq(handed_out_below)) {
      report.lost_from_memory.push_back({on_disk_through + 1, handed_out_below - 1});
      floor = std::max(floor, handed_out_below);
    }
  }
  report.other_boot = other_boot;
  // An empty active segment was opened for its first_seq: nothing below it may go in.
  if (out.active_open && out.segments.back().empty()) floor = std::max(floor, out.segments.back().header.first_seq);
  out.next_seq = floor;
  report.corrupted = std::move(losses.corrupted);
  report.acked_through = acked0;
  report.elapsed_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace plant::spool
