#pragma once
/// The spool's system calls with their EINTR and short-transfer loops, written once.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <system_error>

namespace plant::spool {

/// The spool's own name for the acknowledgement record in its directory.
inline constexpr const char* ack_file_name = "ack";

/// Errors that mean "not ours to touch" (another owner, a read-only mount) rather than damage.
inline bool is_access_error(int error) { return error == EACCES || error == EPERM || error == EROFS; }

/// errno as an error_code.
inline std::error_code last_errno() { return {errno, std::system_category()}; }

/// Reads up to `size` bytes at `offset`; `got` says how many (fewer only at the end of the file).
std::error_code pread_full(int fd, std::uint8_t* out, std::size_t size, std::uint64_t offset, std::size_t& got);

/// Writes all `size` bytes at `offset`.
std::error_code pwrite_full(int fd, const void* data, std::size_t size, std::uint64_t offset);

}  // namespace plant::spool
