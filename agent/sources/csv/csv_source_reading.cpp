// Reading one CSV file in bounded chunks: open it (refusing what may not be
// read), fill the buffer, hand rows to the parser, and end or abandon the read.
// Same class as csv_source.cpp (agent/sources/csv/csv_source.hpp); split for its size.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "agent/sources/csv/csv_source.hpp"
#include "common/core/file_access.hpp"
#include "common/core/text.hpp"

namespace plant::sources {

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
  if (supplies()) {
    const auto kind = cfg_.kind == csv_kind::receipts ? supply_snapshot::kind_t::receipts : supply_snapshot::kind_t::demand;
    reading_->supply_parser.emplace(file_name, kind, supply_columns_);
    reading_->snapshot.kind = kind;
    reading_->snapshot.file = file_name;
    reading_->snapshot.read_at = now;
  } else {
    reading_->parser.emplace(file_name, columns_, file.mtime_ms, now);
  }
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
  const bool has_header = r.supply_parser ? r.supply_parser->has_header() : r.parser->has_header();
  if (!has_header) {
    if (record.blank) return;
    std::string error;
    const bool ok = r.supply_parser ? r.supply_parser->take_header(record, error) : r.parser->take_header(record, error);
    if (!ok) abandon_reading(error, out, true);
    return;
  }
  std::string reject;
  if (r.supply_parser) {
    if (auto row = r.supply_parser->take_row(record, reject)) {
      if (r.snapshot.rows.size() < max_supply_rows) {
        r.snapshot.rows.push_back(std::move(*row));
      } else {
        r.snapshot_too_big = true;
      }
      return;
    }
  } else if (auto s = r.parser->take_row(record, reject)) {
    out.samples.push_back(std::move(*s));
    return;
  }
  if (!reject.empty()) {
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
      if (!(r.supply_parser ? r.supply_parser->has_header() : r.parser->has_header())) {
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
  if (!(r.supply_parser ? r.supply_parser->has_header() : r.parser->has_header())) {
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
  if (r.supply_parser) {
    // A snapshot is all or nothing: half an order list would look like cancelled orders.
    if (r.snapshot_too_big) {
      out.rejects.push_back(r.name + ": more than " + std::to_string(max_supply_rows) +
                            " rows; the snapshot is not used (the previous one stays)");
    } else if (r.snapshot.rows.empty() && r.rejected_rows > 0) {
      // Every row bad (a changed date format, say): that is not "no open orders".
      out.rejects.push_back(r.name + ": no usable row; the snapshot is not used (the previous one stays)");
    } else {
      const std::string problem = save_snapshot(r.snapshot);
      if (!problem.empty()) out.rejects.push_back(problem + " (used now, but a restart will not have it)");
      out.supplies.push_back(std::move(r.snapshot));
    }
  }
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

}  // namespace plant::sources
