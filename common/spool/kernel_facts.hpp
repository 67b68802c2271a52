#pragma once
/// What the spool needs to know of the kernel it runs on, read from /proc.
#include <cstdint>
#include <string_view>

namespace plant::spool {

/// A 64-bit hash of /proc/sys/kernel/random/boot_id, which changes at every boot:
/// recovery compares it to tell a restart (the page cache survived, every write is
/// there) from a power cut (only what was synced is). 0 when it cannot be read.
std::uint64_t current_boot_id();
/// The same hash of a boot_id text (never 0 for a non-empty text). Pure.
std::uint64_t boot_id_hash(std::string_view boot_id_text);

/// How old dirty page-cache data gets before the kernel's flusher writes it back
/// (/proc/sys/vm/dirty_expire_centisecs, 30 s by default): a segment deleted before
/// then costs the disk nothing. 30000 when it cannot be read.
std::int64_t dirty_expire_ms();

}  // namespace plant::spool
