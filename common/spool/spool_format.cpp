#include "common/spool/spool_format.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "common/spool/byte_order.hpp"
#include "common/spool/crc32c.hpp"

namespace plant::spool {

namespace {

constexpr std::size_t scan_window = 1u << 20;
constexpr std::string_view name_prefix = "seg-";
constexpr std::string_view name_suffix = ".spool";
constexpr std::size_t name_digits = 20;

// A sliding view of the file for the scanner. Reads are large and sequential; a
// record that does not fit grows the buffer (up to the payload cap), so recovery
// never issues a syscall per record.
class file_window {
 public:
  file_window(const read_fn& read, std::uint64_t begin, std::uint64_t end, std::vector<std::uint8_t>& buffer)
      : read_(read), buffer_(buffer), end_(end), off_(begin) {}

  // Makes [at, at + need) resident if the file has those bytes; returns how many
  // bytes from `at` are resident (fewer than `need` at the end of the file).
  std::size_t ensure(std::uint64_t at, std::size_t need) {
    if (at >= end_) return 0;
    if (need > end_ - at) need = static_cast<std::size_t>(end_ - at);
    if (at >= off_ && at + need <= off_ + len_) return static_cast<std::size_t>(off_ + len_ - at);
    std::size_t keep = 0;
    if (at >= off_ && at < off_ + len_) {
      keep = static_cast<std::size_t>(off_ + len_ - at);
      std::memmove(buffer_.data(), buffer_.data() + (at - off_), keep);
      work_ += keep;
    }
    off_ = at;
    len_ = keep;
    if (buffer_.size() < need) buffer_.resize(need);
    while (len_ < need && !error_) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size() - len_, end_ - (off_ + len_)));
      std::size_t got = 0;
      error_ = read_(off_ + len_, buffer_.data() + len_, want, got);
      if (error_) break;
      if (got == 0) {
        end_ = off_ + len_;  // the file is shorter than we were told: scan what is there
        break;
      }
      len_ += got;
      work_ += got;
    }
    return len_;
  }

  const std::uint8_t* ptr(std::uint64_t at) const { return buffer_.data() + (at - off_); }
  std::uint64_t end() const { return end_; }
  const std::error_code& error() const { return error_; }
  /// Bytes read and moved so far, plus what the caller adds for CRC work.
  std::uint64_t& work() { return work_; }

 private:
  const read_fn& read_;
  std::vector<std::uint8_t>& buffer_;
  std::uint64_t end_;
  std::uint64_t off_;
  std::size_t len_ = 0;
  std::error_code error_;
  std::uint64_t work_ = 0;
};

// CRC32C of any byte range of the file in O(step) reads plus O(log n) arithmetic,
// from the CRC of the file's prefix at every `step` bytes (built lazily, each byte
// read once). Resync after damage checks every candidate record with it, so a
// thousand fake frames each claiming 16 MiB cost a few MiB of reading, not 16 GiB.
class prefix_crc_index {
 public:
  static constexpr std::size_t step = 4096;

  prefix_crc_index(const read_fn& read, std::uint64_t base) : read_(read), base_(base) { checkpoints_.push_back(0); }

  // crc32c of [a, b), base <= a <= b.
  std::error_code range_crc(std::uint64_t a, std::uint64_t b, std::uint32_t& out) {
    std::uint32_t crc_a = 0, crc_b = 0;
    if (auto ec = prefix(a, crc_a)) return ec;
    if (auto ec = prefix(b, crc_b)) return ec;
    out = crc32c_combine(crc_a, crc_b, b - a);
    return {};
  }

  // Bytes read so far, for tests of the bound.
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  // crc32c of [base, x).
  std::error_code prefix(std::uint64_t x, std::uint32_t& out) {
    const std::uint64_t k = (x - base_) / step;
    if (auto ec = extend_to(k)) return ec;
    const std::uint64_t from = base_ + k * step;
    std::uint32_t tail = 0;
    if (auto ec = crc_of(from, static_cast<std::size_t>(x - from), tail)) return ec;
    out = crc32c_combine(checkpoints_[static_cast<std::size_t>(k)], tail, x - from);
    return {};
  }

  std::error_code extend_to(std::uint64_t k) {
    while (checkpoints_.size() <= k) {
      const std::uint64_t from = base_ + (checkpoints_.size() - 1) * step;
      std::uint32_t piece = 0;
      if (auto ec = crc_of(from, step, piece)) return ec;
      checkpoints_.push_back(crc32c_combine(checkpoints_.back(), piece, step));
    }
    return {};
  }

  std::error_code crc_of(std::uint64_t offset, std::size_t size, std::uint32_t& out) {
    buffer_.resize(step);
    std::size_t got = 0;
    if (auto ec = read_(offset, buffer_.data(), size, got)) return ec;
    if (got < size) return std::make_error_code(std::errc::io_error);
    bytes_read_ += size;
    out = crc32c(buffer_.data(), size);
    return {};
  }

  const read_fn& read_;
  std::uint64_t base_;
  std::vector<std::uint32_t> checkpoints_;  // checkpoints_[i] = crc32c of [base, base + i * step)
  std::vector<std::uint8_t> buffer_;
  std::uint64_t bytes_read_ = 0;
};

// Records at most this long are checked straight from the window when resyncing.
constexpr std::size_t direct_check_limit = prefix_crc_index::step;

// The encoded size of the intact record at `at`, or 0 if there is none there.
std::size_t decode_at(file_window& w, std::uint64_t at, record_view& out) {
  std::size_t avail = w.ensure(at, format::frame_header_size);
  if (w.error()) return 0;
  decode_result r = decode_record(w.ptr(at), avail, out);
  if (r.status == decode_status::need_more) {
    if (r.size > w.end() - at) return 0;
    avail = w.ensure(at, r.size);
    if (w.error() || avail < r.size) return 0;
    const std::size_t checked = r.size;
    r = decode_record(w.ptr(at), avail, out);
    w.work() += checked;
  }
  return r.status == decode_status::ok ? r.size : 0;
}

}  // namespace

std::string_view to_string(header_status status) {
  switch (status) {
    case header_status::ok: return "ok";
    case header_status::truncated: return "shorter than the 40-byte header";
    case header_status::bad_magic: return "bad magic";
    case header_status::bad_crc: return "header CRC mismatch";
    case header_status::unsupported_version: return "unsupported format version";
  }
  return "unknown";
}

std::string segment_file_name(std::uint64_t first_seq) {
  std::string digits = std::to_string(first_seq);
  std::string name(name_prefix);
  name.append(name_digits - digits.size(), '0');
  name += digits;
  name += name_suffix;
  return name;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != name_prefix.size() + name_digits + name_suffix.size()) return std::nullopt;
  if (name.substr(0, name_prefix.size()) != name_prefix) return std::nullopt;
  if (name.substr(name_prefix.size() + name_digits) != name_suffix) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : name.substr(name_prefix.size(), name_digits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

void encode_header(const segment_header& header, std::uint8_t* out) {
  std::copy(format::segment_magic.begin(), format::segment_magic.end(), out);
  bytes::put_u16(out + 8, header.version);
  bytes::put_u16(out + 10, header.flags);
  bytes::put_u64(out + 12, header.first_seq);
  bytes::put_u64(out + 20, static_cast<std::uint64_t>(header.created));
  bytes::put_u64(out + 28, header.prev_seq);
  bytes::put_u32(out + 36, crc32c(out, 36));
}

header_status decode_header(const std::uint8_t* data, std::size_t size, segment_header& out) {
  if (size < format::header_size) return header_status::truncated;
  if (!std::equal(format::segment_magic.begin(), format::segment_magic.end(), data)) return header_status::bad_magic;
  if (bytes::get_u32(data + 36) != crc32c(data, 36)) return header_status::bad_crc;
  segment_header h;
  h.version = bytes::get_u16(data + 8);
  h.flags = bytes::get_u16(data + 10);
  h.first_seq = bytes::get_u64(data + 12);
  h.created = static_cast<epoch_ms>(bytes::get_u64(data + 20));
  h.prev_seq = bytes::get_u64(data + 28);
  // Checked after the CRC so that only a genuine other version (a newer agent's
  // segment after a downgrade) is reported as such, not random damage.
  if (h.version != format::version) {
    out = h;
    return header_status::unsupported_version;
  }
  out = h;
  return header_status::ok;
}

void append_record(std::string& out, const record_view& record) {
  const std::size_t payload_size = format::payload_fixed_size + record.message.size();
  const std::size_t start = out.size();
  out.resize(start + format::frame_header_size + payload_size);
  auto* p = reinterpret_cast<std::uint8_t*>(out.data() + start);
  std::uint8_t* payload = p + format::frame_header_size;
  bytes::put_u64(payload, record.seq);
  bytes::put_u64(payload + 8, static_cast<std::uint64_t>(record.created));
  payload[16] = record.stream;
  payload[17] = record.flags;
  if (!record.message.empty()) std::memcpy(payload + format::payload_fixed_size, record.message.data(), record.message.size());
  bytes::put_u32(p, format::record_magic);
  bytes::put_u32(p + 4, static_cast<std::uint32_t>(payload_size));
  bytes::put_u32(p + 8, crc32c(payload, payload_size));
}

decode_result decode_record(const std::uint8_t* data, std::size_t available, record_view& out) {
  if (available < format::frame_header_size) {
    // Reject early when the bytes we do have already contradict the magic, so the
    // scanner does not ask for more of something that cannot be a record.
    std::uint8_t magic[4];
    bytes::put_u32(magic, format::record_magic);
    if (!std::equal(data, data + std::min<std::size_t>(available, 4), magic)) return {decode_status::bad, 0};
    return {decode_status::need_more, format::frame_header_size};
  }
  if (bytes::get_u32(data) != format::record_magic) return {decode_status::bad, 0};
  const std::uint32_t length = bytes::get_u32(data + 4);
  if (length < format::payload_fixed_size || length > format::max_payload) return {decode_status::bad, 0};
  const std::size_t total = format::frame_header_size + length;
  if (available < total) return {decode_status::need_more, total};
  const std::uint8_t* payload = data + format::frame_header_size;
  if (crc32c(payload, length) != bytes::get_u32(data + 8)) return {decode_status::bad, 0};
  out.seq = bytes::get_u64(payload);
  out.created = static_cast<epoch_ms>(bytes::get_u64(payload + 8));
  out.stream = payload[16];
  out.flags = payload[17];
  out.message = std::string_view(reinterpret_cast<const char*>(payload + format::payload_fixed_size),
                                 length - format::payload_fixed_size);
  return {decode_status::ok, total};
}

std::size_t find_record_magic(const std::uint8_t* data, std::size_t size) {
  std::uint8_t magic[4];
  bytes::put_u32(magic, format::record_magic);
  if (size < 4) return size;
  const std::uint8_t* p = data;
  const std::uint8_t* last = data + size - 4;  // last position where a whole magic fits
  while (p <= last) {
    const void* hit = std::memchr(p, magic[0], static_cast<std::size_t>(last - p) + 1);
    if (hit == nullptr) return size;
    p = static_cast<const std::uint8_t*>(hit);
    if (p[1] == magic[1] && p[2] == magic[2] && p[3] == magic[3]) return static_cast<std::size_t>(p - data);
    ++p;
  }
  return size;
}

namespace {

enum class candidate_verdict { not_a_record, record, read_error };

// Whether the bytes at `q` are an intact record the visitor would take, without
// reading a long record's bytes: the frame and the fixed fields come from the
// window, the CRC of a long payload from the prefix index. Only a candidate that
// passes is decoded in full.
candidate_verdict check_candidate(file_window& w, prefix_crc_index& index, std::uint64_t q, scan_visitor& visitor,
                                  std::error_code& index_error) {
  const std::size_t fixed = format::frame_header_size + format::payload_fixed_size;
  const std::size_t avail = w.ensure(q, fixed);
  if (w.error()) return candidate_verdict::read_error;
  if (avail < fixed) return candidate_verdict::not_a_record;
  const std::uint8_t* p = w.ptr(q);
  if (bytes::get_u32(p) != format::record_magic) return candidate_verdict::not_a_record;
  const std::uint32_t length = bytes::get_u32(p + 4);
  if (length < format::payload_fixed_size || length > format::max_payload) return candidate_verdict::not_a_record;
  if (length > w.end() - q - format::frame_header_size) return candidate_verdict::not_a_record;
  const std::uint32_t stored_crc = bytes::get_u32(p + 8);
  record_view prefix;
  prefix.seq = bytes::get_u64(p + format::frame_header_size);
  prefix.created = static_cast<epoch_ms>(bytes::get_u64(p + format::frame_header_size + 8));
  prefix.stream = p[format::frame_header_size + 16];
  prefix.flags = p[format::frame_header_size + 17];
  // The visitor judges by the fixed fields (seq order); no need to check the CRC of what it would refuse.
  if (!visitor.accept(prefix)) return candidate_verdict::not_a_record;
  if (length <= direct_check_limit) return candidate_verdict::record;  // decode_at checks it from the window
  std::uint32_t crc = 0;
  const std::uint64_t payload = q + format::frame_header_size;
  if (auto ec = index.range_crc(payload, payload + length, crc)) {
    index_error = ec;
    return candidate_verdict::read_error;
  }
  return crc == stored_crc ? candidate_verdict::record : candidate_verdict::not_a_record;
}

}  // namespace

scan_result scan_records(const read_fn& read, std::uint64_t begin, std::uint64_t end,
                         std::vector<std::uint8_t>& buffer, scan_visitor& visitor) {
  if (buffer.size() < scan_window) buffer.resize(scan_window);
  file_window w(read, begin, end, buffer);
  std::unique_ptr<prefix_crc_index> index;  // made at the first damage
  auto result = [&](std::uint64_t at, std::error_code ec) {
    return scan_result{at, ec, w.work() + (index ? index->bytes_read() : 0)};
  };
  std::uint64_t pos = begin;
  record_view view;
  while (pos < w.end()) {
    std::size_t size = decode_at(w, pos, view);
    if (w.error()) return result(pos, w.error());
    if (size != 0 && visitor.accept(view)) {
      visitor.on_record(pos, static_cast<std::uint32_t>(size), view);
      pos += size;
      continue;
    }
    // Damage at `pos`: the next record is wherever the magic, the length cap and
    // the CRC all agree again. A false match needs a 32-bit magic and a 32-bit CRC
    // to line up by chance, so resyncing cannot invent records.
    if (!index) index = std::make_unique<prefix_crc_index>(read, begin);
    const std::uint64_t damage = pos;
    std::uint64_t q = pos + 1;
    bool found = false;
    while (q < w.end()) {
      const std::size_t avail = w.ensure(q, format::frame_header_size);
      if (w.error()) return result(damage, w.error());
      const std::size_t idx = find_record_magic(w.ptr(q), avail);
      if (idx == avail) {
        if (q + avail >= w.end()) break;
        // Keep the last 3 bytes: they may be the start of a magic cut by the window.
        q += avail > 3 ? avail - 3 : 1;
        continue;
      }
      q += idx;
      std::error_code index_error;
      const candidate_verdict verdict = check_candidate(w, *index, q, visitor, index_error);
      if (verdict == candidate_verdict::read_error) return result(damage, w.error() ? w.error() : index_error);
      size = verdict == candidate_verdict::record ? decode_at(w, q, view) : 0;
      if (w.error()) return result(damage, w.error());
      if (size != 0 && visitor.accept(view)) {
        visitor.on_damage(damage, q - damage);
        visitor.on_record(q, static_cast<std::uint32_t>(size), view);
        pos = q + size;
        found = true;
        break;
      }
      ++q;
    }
    if (!found) {
      visitor.on_damage(damage, w.end() - damage);
      pos = w.end();
    }
  }
  return result(pos, {});
}

}  // namespace plant::spool
