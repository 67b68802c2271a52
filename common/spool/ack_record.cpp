#include "common/spool/ack_record.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "common/spool/byte_order.hpp"
#include "common/spool/crc32c.hpp"
#include "common/spool/file_io.hpp"
#include "common/core/seq_ranges.hpp"

namespace plant::spool {

void encode_ack_slot(const ack_state& state, std::uint8_t* out) {
  bytes::put_u32(out, ack_format::slot_magic);
  bytes::put_u64(out + 4, state.generation);
  bytes::put_u64(out + 12, state.acked_through);
  bytes::put_u64(out + 20, state.next_seq);
  bytes::put_u64(out + 28, state.stored_through);
  bytes::put_u64(out + 36, state.reserved_through);
  bytes::put_u64(out + 44, state.boot);
  bytes::put_u32(out + 52, crc32c(out, 52));
}

slot_status decode_ack_slot(const std::uint8_t* in, ack_state& out) {
  if (std::all_of(in, in + ack_format::slot_size, [](std::uint8_t b) { return b == 0; })) return slot_status::empty;
  const std::uint32_t magic = bytes::get_u32(in);
  const std::size_t crc_at = magic == ack_format::slot_magic      ? 52
                             : magic == ack_format::v1_slot_magic ? 36
                                                                  : 0;
  if (crc_at == 0 || bytes::get_u32(in + crc_at) != crc32c(in, crc_at)) return slot_status::damaged;
  out.generation = bytes::get_u64(in + 4);
  out.acked_through = bytes::get_u64(in + 12);
  out.next_seq = bytes::get_u64(in + 20);
  out.stored_through = bytes::get_u64(in + 28);
  out.reserved_through = crc_at == 52 ? bytes::get_u64(in + 36) : 0;
  out.boot = crc_at == 52 ? bytes::get_u64(in + 44) : 0;
  // A checksummed slot claiming seqs no agent could reach was not written by one:
  // trusting it would refuse every later append (the floor would be past them all).
  if (out.acked_through > max_plausible_seq || out.stored_through > max_plausible_seq ||
      out.next_seq > max_plausible_seq + 1 || out.reserved_through > max_plausible_seq) {
    return slot_status::damaged;
  }
  return slot_status::valid;
}

ack_choice choose_ack(const std::uint8_t* data, std::size_t size) {
  ack_choice choice;
  std::optional<ack_state> slots[2];
  slot_status* statuses[2] = {&choice.a, &choice.b};
  for (std::size_t i = 0; i < 2; ++i) {
    const std::size_t offset = i * ack_format::slot_stride;
    std::array<std::uint8_t, ack_format::slot_size> slot{};
    if (size > offset) {
      const std::size_t have = std::min(size - offset, ack_format::slot_size);
      std::copy(data + offset, data + offset + have, slot.begin());
      // A slot cut short by the end of the file was being written when it stopped.
      if (have < ack_format::slot_size) {
        *statuses[i] = slot_status::damaged;
        continue;
      }
    }
    ack_state s;
    *statuses[i] = decode_ack_slot(slot.data(), s);
    if (*statuses[i] == slot_status::valid) slots[i] = s;
  }
  for (auto& s : slots) {
    if (s && (!choice.state || s->generation > choice.state->generation)) choice.state = s;
  }
  return choice;
}

ack_file::~ack_file() {
  if (fd_ >= 0) ::close(fd_);
}

std::error_code ack_file::open(const std::filesystem::path& path, bool& created) {
  created = false;
  path_ = path;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    created = fd >= 0;
  }
  if (fd < 0) return last_errno();
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const auto ec = last_errno();
    ::close(fd);
    return ec;
  }
  // Zero-fill whatever is missing with real writes: a hole would need a block
  // allocated at the first slot write, which fails exactly when the disk is full.
  const auto have = static_cast<std::size_t>(st.st_size);
  if (have < ack_format::file_size) {
    std::array<std::uint8_t, ack_format::file_size> zeros{};
    auto ec = pwrite_full(fd, zeros.data() + have, ack_format::file_size - have, have);
    if (!ec && ::fdatasync(fd) != 0) ec = last_errno();
    if (ec) {
      ::close(fd);
      return ec;
    }
  }
  fd_ = fd;
  return {};
}

bool ack_file::try_lock() { return fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

ack_choice ack_file::read() {
  std::array<std::uint8_t, ack_format::file_size> data{};
  std::size_t got = 0;
  while (fd_ >= 0 && got < data.size()) {
    const ssize_t n = ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ack_choice choice = choose_ack(data.data(), got);
  // The next write takes generation + 1, which lands in the other slot than the
  // one we trust: a damaged slot (a torn newer write) is the one overwritten.
  generation_ = choice.state ? choice.state->generation : 0;
  return choice;
}

std::error_code ack_file::write(std::uint64_t acked_through, std::uint64_t next_seq, std::uint64_t stored_through,
                                bool sync) {
  ack_state s;
  s.acked_through = acked_through;
  s.next_seq = next_seq;
  s.stored_through = stored_through;
  return write(s, sync);
}

std::error_code ack_file::write(const ack_state& state, bool sync) {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  ack_state s = state;
  s.generation = generation_ + 1;
  std::array<std::uint8_t, ack_format::slot_size> slot{};
  encode_ack_slot(s, slot.data());
  const auto offset = static_cast<off_t>((s.generation % 2) * ack_format::slot_stride);
  if (auto ec = pwrite_full(fd_, slot.data(), slot.size(), static_cast<std::uint64_t>(offset))) return ec;
  if (sync && ::fdatasync(fd_) != 0) return last_errno();
  generation_ = s.generation;
  return {};
}

}  // namespace plant::spool
