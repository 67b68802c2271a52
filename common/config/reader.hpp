#pragma once
/// Reads a parsed TOML document against the schema into a tree of values: every
/// key type- and range-checked, unknown keys reported with suggestions, defaults
/// filled in, relative paths resolved, and each section's cross-key rules run.
#include <string>

#include <toml++/toml.h>

#include "common/config/schema.hpp"
#include "common/config/diagnostics.hpp"

namespace plant::config {

/// Reads `root` (the whole document, overrides applied) against the schema `spec`.
/// Findings go to `sink`; the returned tree is complete (with defaults) as far as the
/// document allows. Relative paths are resolved against `base_dir`.
table_value read_document(const toml::table& root, const section_spec& spec, const std::string& display_name,
                          const std::string& base_dir, diagnostic_sink& sink);

}  // namespace plant::config
