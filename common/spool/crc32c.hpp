#pragma once
/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), in software, slice-by-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace plant::spool {

/// Continues a CRC32C over `size` more bytes; start with `crc` = 0.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

/// The CRC32C of one buffer ("123456789" -> 0xE3069283).
inline std::uint32_t crc32c(const void* data, std::size_t size) { return crc32c_extend(0, data, size); }

/// The CRC32C of A followed by B from the CRC32C of each and B's length, in O(log len_b)
/// (zlib's crc32_combine, for the Castagnoli polynomial). XOR being its own inverse,
/// crc32c_combine(crc(A), crc(AB), len(B)) is crc(B): recovery uses that to check a
/// record claiming a huge length without reading its bytes once per candidate.
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t len_b);

/// The CRC32C of a string's bytes.
inline std::uint32_t crc32c(std::string_view bytes) { return crc32c_extend(0, bytes.data(), bytes.size()); }

}  // namespace plant::spool
