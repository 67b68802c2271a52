// The spool's bookkeeping after a record is on disk: acknowledgements and the
// watermark, the bounds that drop whole segments, and reading the backlog back.
// Same class as spool.cpp (common/spool/spool.hpp); split for its size.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "common/spool/file_io.hpp"
#include "common/spool/spool.hpp"
#include "common/spool/spool_format.hpp"

namespace plant::spool {

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
  // Only the path is kept: the descriptor closes with the last user, so a spool
  // that cannot unlink (or write its ack record) does not also run out of descriptors.
  doomed_.push_back(front.file->path());
  doomed_bytes_ += front.size;
  // An open descriptor would keep the unlinked file's blocks allocated.
  if (read_file_ == front.file) read_file_.reset();
  if (active_open_ && segments_.size() == 1) {
    active_open_ = false;
    active_dirty_ = false;
  }
  segments_.pop_front();
}

void spool::mark_acked(std::uint64_t first, std::uint64_t last) {
  if (!recovered_ || first == 0 || first > last) return;
  if (last <= watermark_) return;
  first = std::max(first, watermark_ + 1);
  if (!plausible_seq(last)) return;
  if (last >= floor_) floor_ = last + 1;
  // Only the parts not acknowledged yet change the counts.
  for (const seq_range& part : acked_above_.gaps_within(first, last)) account(part.first, part.last, true);
  if (auto forgotten = acked_above_.add(first, last)) account(forgotten->first, forgotten->last, false);
  normalize();
}

void spool::acknowledge(std::uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  mark_acked(seq, seq);
}

void spool::give_up(std::uint64_t first, std::uint64_t last) {
  std::lock_guard<std::mutex> lock(mu_);
  mark_acked(first, last);
}

void spool::set_bounds(std::uint64_t max_bytes, std::int64_t max_age_ms, std::uint64_t segment_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  opts_.max_bytes = max_bytes;
  opts_.max_age_ms = max_age_ms;
  opts_.segment_bytes = std::clamp(segment_bytes, limits::min_segment_bytes, limits::max_segment_bytes);
}

std::vector<seq_range> spool::enforce_bounds(epoch_ms now) {
  std::lock_guard<std::mutex> lock(mu_);
  seq_ranges dropped(limits::report_ranges_bound, seq_ranges::overflow::merge_oldest);
  if (!recovered_ || locked_out_) return {};
  bool dropped_any = false;
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
      front.stored.for_each_overlap(watermark_ + 1, limits::max_seq, [&](std::uint64_t a, std::uint64_t b) {
        for (const seq_range& g : acked_above_.gaps_within(a, b)) dropped.add(g.first, g.last);
      });
      if (front.last_seq > watermark_) watermark_ = front.last_seq;
      acked_above_.erase_below(watermark_ + 1);
    }
    doom_front();
    dropped_any = true;
  }
  normalize();
  // The directory must stay within its bound now, not at the next batch window:
  // a round unlinks what was dropped (after writing the ack record that covers it).
  if (dropped_any) worker_->request(nullptr);
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
  if (size > limits::read_buffer_bytes) {
    big.resize(size);
    if (auto ec = pread_full(seg.file->fd(), big.data(), size, offset, got)) return ec;
    if (got < size) return std::make_error_code(std::errc::io_error);
    out = big.data();
    return {};
  }
  // One large read serves the following records too: draining a backlog costs
  // one syscall per 256 KiB, not one per record.
  if (read_buf_.size() < limits::read_buffer_bytes) read_buf_.resize(limits::read_buffer_bytes);
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
      if (run->last == limits::max_seq) return std::nullopt;
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
      mark_acked(bad, bad);
      read_losses_.add(bad);
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

}  // namespace plant::spool
