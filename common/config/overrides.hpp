#pragma once
/// `--set key.path=value` overrides, applied to the parsed TOML document before it
/// is read, so they are validated exactly like the file. Their nodes carry a source
/// tag so that findings about them point at "--set:N:1".
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "common/config/diagnostics.hpp"

namespace plant::config {

/// Where a TOML node or key is: its file, line and column, or "--set:N:1" for overrides.
position locate(const toml::source_region& region);

/// Applies "key.path=value" overrides in order. The value is read as TOML (`3`, `"x"`,
/// `true`, `["a","b"]`), and taken as a string when it is not valid TOML. Integer path
/// segments index arrays (zero-based; the next index appends); missing tables are
/// created. Malformed overrides are reported as errors at "--set:N:1".
void apply_overrides(toml::table& root, const std::vector<std::string>& overrides, diagnostic_sink& sink);

}  // namespace plant::config
