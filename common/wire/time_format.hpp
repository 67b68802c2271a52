#pragma once
/// Text forms of times and durations for plant-watch output (pure, no clock).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/sample.hpp"

namespace plant::wire {

/// "2024-05-01T12:00:00.123Z" (RFC 3339, UTC, milliseconds); works for times before 1970 too.
std::string format_rfc3339_ms(epoch_ms t);

/// The same into `buffer` (at least 40 bytes, not terminated); returns the length. No allocation.
std::size_t format_rfc3339_ms(epoch_ms t, char* buffer);

/// Parses an RFC 3339 date-time ("2024-05-01T12:00:00Z", "...T12:00:00.5+02:00"; 't'/'z'
/// and a space for 'T' accepted) into Unix ms (fractions past milliseconds are cut).
/// Returns "" or what is wrong with the text.
std::string parse_rfc3339(std::string_view text, epoch_ms& out);

/// A compact duration for tables: "850ms", "12s", "3m05s", "2h03m", "4d07h"; negative values get a '-'.
std::string format_span(std::int64_t ms);

}  // namespace plant::wire
