#pragma once
/// Durations ("250ms", "5s", "1h30m", "7d") and sizes ("64MiB", "512KiB", "100B",
/// "1GB") as written in the config file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <chrono>

namespace plant {

using millis = std::chrono::milliseconds;

/// Parses "250ms", "5s", "2m", "2h", "7d" or compounds like "1h30m" (units largest
/// first, each once). On failure returns nullopt and sets `error` to the reason.
std::optional<millis> parse_duration(std::string_view text, std::string& error);

/// Parses "100B", "512KiB", "64MiB", "1GiB", "2TiB" (powers of 1024), "1KB", "1MB",
/// "1GB", "1TB" (powers of 1000) or plain digits (bytes). On failure returns
/// nullopt and sets `error` to the reason.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error);

/// The shortest compound form: "50ms", "1m30s", "7d", "0s".
std::string format_duration(millis d);

/// The largest binary unit that divides exactly: "256MiB", "64KiB", "100B".
std::string format_size(std::uint64_t bytes);

}  // namespace plant
