#pragma once
/// The spool's system calls with their EINTR and short-transfer loops, written once.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <system_error>

namespace plant::spool {

/// errno as an error_code.
inline std::error_code last_errno() { return {errno, std::system_category()}; }

/// Reads up to `size` bytes at `offset`; `got` says how many (fewer only at the end of the file).
std::error_code pread_full(int fd, std::uint8_t* out, std::size_t size, std::uint64_t offset, std::size_t& got);

/// Writes all `size` bytes at `offset`.
std::error_code pwrite_full(int fd, const void* data, std::size_t size, std::uint64_t offset);

}  // namespace plant::spool
