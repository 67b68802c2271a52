#pragma once
/// The acknowledgement record: the file `ack` in the spool directory, fixed size,
/// with two checksummed slots (A at byte 0, B at byte 512) written in turn. A write
/// overwrites the older slot in place, so it needs no new disk blocks (it works on
/// a full disk) and a torn write always leaves the other slot intact.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <system_error>

namespace plant::spool {

/// What the ack record carries from one run to the next.
struct ack_state {
  std::uint64_t generation = 0;      ///< grows with every write; the valid slot with the highest one wins
  std::uint64_t acked_through = 0;   ///< every spooled record with seq <= this is acknowledged or given up
  std::uint64_t next_seq = 1;        ///< a floor for the next sequence number to hand out
  std::uint64_t stored_through = 0;  ///< highest seq appended (and synced, unless sync = never) when written
  /// Every seq the agent may have handed out is <= this. Written ahead of need and
  /// synced, so the record can stay unsynced between extensions: after a power cut
  /// (another boot) numbering resumes above it, and no published seq is reused.
  /// 0 in a version 1 slot (which was synced at every write, so next_seq sufficed).
  std::uint64_t reserved_through = 0;
  /// The kernel boot that wrote it (a hash of /proc/sys/kernel/random/boot_id; 0 = unknown).
  /// The same boot means the page cache survived: what was written is what is read.
  std::uint64_t boot = 0;

  friend bool operator==(const ack_state& a, const ack_state& b) {
    return a.generation == b.generation && a.acked_through == b.acked_through && a.next_seq == b.next_seq &&
           a.stored_through == b.stored_through && a.reserved_through == b.reserved_through && a.boot == b.boot;
  }
};

/// The state of one slot.
enum class slot_status : std::uint8_t { valid, empty, damaged };

/// The slot read_ack trusts, and what it made of each.
struct ack_choice {
  std::optional<ack_state> state;  ///< the valid slot with the highest generation; none if neither is valid
  slot_status a = slot_status::empty;
  slot_status b = slot_status::empty;
};

namespace ack_format {
/// Version 2, written: u32 magic | u64 generation | u64 acked_through | u64 next_seq | u64 stored_through |
/// u64 reserved_through | u64 boot | u32 CRC32C of bytes 0..51.
inline constexpr std::size_t slot_size = 56;
/// Version 1, still read (an upgrade keeps the spool): the first five fields, CRC32C of bytes 0..35 at 36.
inline constexpr std::size_t v1_slot_size = 40;
/// Slot B's offset: each slot in its own 512-byte sector, so one torn sector cannot damage both.
inline constexpr std::size_t slot_stride = 512;
/// The whole file.
inline constexpr std::size_t file_size = 2 * slot_stride;
/// Starts a version 2 slot ("LAC2").
inline constexpr std::uint32_t slot_magic = 0x3243414Cu;
/// Starts a version 1 slot ("LACK").
inline constexpr std::uint32_t v1_slot_magic = 0x4B43414Cu;
}  // namespace ack_format

/// Encodes `state` into ack_format::slot_size bytes at `out`.
void encode_ack_slot(const ack_state& state, std::uint8_t* out);
/// Decodes one slot (either version): all zero bytes are `empty`, anything failing magic or CRC is `damaged`.
slot_status decode_ack_slot(const std::uint8_t* in, ack_state& out);
/// Picks the slot to trust from the file's bytes; a slot the file is too short to hold is damaged
/// unless the file holds none of it.
ack_choice choose_ack(const std::uint8_t* data, std::size_t size);
/// "A" or "B".
inline const char* slot_name(std::size_t index) { return index == 0 ? "A" : "B"; }

/// The `ack` file itself.
class ack_file {
 public:
  ack_file() = default;
  ~ack_file();
  ack_file(const ack_file&) = delete;
  ack_file& operator=(const ack_file&) = delete;

  /// Opens `path`, creating it zero-filled (real blocks, not a hole) if missing; `created` says which.
  std::error_code open(const std::filesystem::path& path, bool& created);
  /// Takes an exclusive advisory lock (flock) so two agents cannot share one spool; false if another holds it.
  bool try_lock();
  /// Reads both slots; the next write continues from the highest generation seen.
  ack_choice read();
  /// Writes `state` as generation+1 (its own generation is ignored) into slot generation % 2, in place;
  /// fdatasync when `sync`. Unsynced, a write survives a crash of the process (the page cache has it).
  std::error_code write(const ack_state& state, bool sync);
  /// The same with reserved_through and boot 0.
  std::error_code write(std::uint64_t acked_through, std::uint64_t next_seq, std::uint64_t stored_through, bool sync);
  /// The last generation read or written.
  std::uint64_t generation() const { return generation_; }
  /// True once open() succeeded.
  bool is_open() const { return fd_ >= 0; }
  /// The file's path.
  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t generation_ = 0;
};

}  // namespace plant::spool
