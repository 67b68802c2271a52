#pragma once
/// The spool's on-disk format as pure functions over byte buffers: segment file
/// names, segment headers, records, and a scanner that walks a segment, resyncing
/// past damage. No file descriptors here; the scanner reads through a callback.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/core/clock.hpp"

namespace plant::spool {

namespace format {
/// The first 8 bytes of every segment file.
inline constexpr std::array<std::uint8_t, 8> segment_magic{'P', 'L', 'S', 'P', 'O', 'O', 'L', '\0'};
/// The one segment format version this code reads and writes.
inline constexpr std::uint16_t version = 1;
/// magic 8 | u16 version | u16 flags | u64 first_seq | i64 created_ms | u64 prev_seq | u32 CRC32C of bytes 0..35.
inline constexpr std::size_t header_size = 40;
/// Starts every record; the scanner looks for it to resynchronise after damage (bytes A7 C3 D2 E9 on disk).
inline constexpr std::uint32_t record_magic = 0xE9D2C3A7u;
/// u32 magic | u32 payload length | u32 CRC32C of the payload.
inline constexpr std::size_t frame_header_size = 12;
/// u64 seq | i64 created_ms | u8 stream | u8 flags, before the message bytes.
inline constexpr std::size_t payload_fixed_size = 18;
/// Sanity cap on a payload length; anything longer is damage.
inline constexpr std::uint32_t max_payload = 16u << 20;
/// The largest message a record can carry.
inline constexpr std::size_t max_message = max_payload - payload_fixed_size;
}  // namespace format

/// The fixed-size header at the start of each segment file.
struct segment_header {
  std::uint16_t version = format::version;
  std::uint16_t flags = 0;
  std::uint64_t first_seq = 0;  ///< seq of the first record the segment was opened for (also in its file name)
  epoch_ms created = 0;         ///< created time of that first record
  std::uint64_t prev_seq = 0;   ///< highest seq stored before this segment: tells a lost segment from a gap in the numbering
};

/// Why a header did not decode.
enum class header_status : std::uint8_t { ok, truncated, bad_magic, bad_crc, unsupported_version };

/// Human-readable reason for a header status ("header CRC mismatch", ...).
std::string_view to_string(header_status status);

/// `seg-<first_seq as 20 digits>.spool`.
std::string segment_file_name(std::uint64_t first_seq);
/// The first_seq in a segment file name, or nothing if `name` is not one.
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

/// Writes the header into exactly format::header_size bytes at `out`.
void encode_header(const segment_header& header, std::uint8_t* out);
/// Decodes a header from the first `size` bytes of a segment.
header_status decode_header(const std::uint8_t* data, std::size_t size, segment_header& out);

/// A decoded record; `message` points into the buffer it was decoded from.
struct record_view {
  std::uint64_t seq = 0;
  epoch_ms created = 0;
  std::uint8_t stream = 0;
  std::uint8_t flags = 0;
  std::string_view message;
};

/// Bytes a record with a message of `message_size` bytes takes on disk.
inline std::size_t encoded_record_size(std::size_t message_size) {
  return format::frame_header_size + format::payload_fixed_size + message_size;
}

/// Appends one encoded record to `out`; `message` must be at most format::max_message bytes.
void append_record(std::string& out, const record_view& record);

/// decode_record's verdict.
enum class decode_status : std::uint8_t {
  ok,         ///< an intact record; `size` is its encoded size
  need_more,  ///< the frame header is plausible; `size` bytes are needed to check it
  bad,        ///< not an intact record at this position
};

/// decode_status plus a size whose meaning depends on it.
struct decode_result {
  decode_status status = decode_status::bad;
  std::size_t size = 0;
};

/// Decodes the record at `data` given `available` bytes, verifying magic, length cap and CRC.
decode_result decode_record(const std::uint8_t* data, std::size_t available, record_view& out);

/// Index of the first position in [data, data + size) where the record magic starts
/// with all 4 bytes inside the buffer, or `size` if there is none.
std::size_t find_record_magic(const std::uint8_t* data, std::size_t size);

/// Receives what scan_records finds, in file order.
class scan_visitor {
 public:
  virtual ~scan_visitor() = default;
  /// Called for an intact record before it is accepted; false treats it as damage (e.g. out of sequence).
  virtual bool accept(const record_view& record) = 0;
  /// An accepted record of `size` encoded bytes at `offset`; `record` is valid only during the call.
  virtual void on_record(std::uint64_t offset, std::uint32_t size, const record_view& record) = 0;
  /// `length` bytes at `offset` hold no intact record. A damage that ends at the scan's end is a tail.
  virtual void on_damage(std::uint64_t offset, std::uint64_t length) = 0;
};

/// Reads up to `size` bytes at `offset` into `out`, setting `got` (0 means end of file).
using read_fn = std::function<std::error_code(std::uint64_t offset, std::uint8_t* out, std::size_t size,
                                              std::size_t& got)>;

/// How a scan ended.
struct scan_result {
  std::uint64_t end = 0;  ///< offset the scan reached: `end` passed in unless the file was shorter or a read failed
  std::error_code error;  ///< a failed read; bytes from `end` on were not examined
  /// Bytes read, moved within the buffer or run through the CRC: the scan's cost,
  /// which stays a small multiple of the file size whatever the damage looks like.
  std::uint64_t work_bytes = 0;
};

/// Walks the records in [begin, end) with sequential reads through `buffer` (grown to
/// 1 MiB, or to the largest record met), reporting intact records and damaged spans.
/// After damage it resyncs at the next record magic whose length and CRC check out.
scan_result scan_records(const read_fn& read, std::uint64_t begin, std::uint64_t end,
                         std::vector<std::uint8_t>& buffer, scan_visitor& visitor);

}  // namespace plant::spool
