#pragma once
/// plant-register's config schema: [register], [mqtt], [database], [http].
/// One table per section drives parsing, errors (file:line:col), --set, the
/// reference config (config/plant-register.toml) and the config hash.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/diagnostics.hpp"
#include "common/config/schema.hpp"
#include "register/config/register_config.hpp"

namespace plant::central {

/// The schema of the whole register config file.
const config::section_spec& register_root_section();

/// The commented reference config; config/plant-register.toml holds exactly this text.
std::string render_register_reference();

struct register_load_result {
  std::optional<register_config> config;  ///< set only when errors is empty
  std::vector<config::diagnostic> errors;
  std::vector<config::diagnostic> warnings;
};

/// Loads the file at `path` with `overrides` ("key.path=value").
register_load_result load_register_config_file(const std::string& path, const std::vector<std::string>& overrides = {});
/// Loads config text; relative paths are resolved against `base_dir`.
register_load_result load_register_config_text(std::string_view toml_text, const std::string& display_name,
                                               const std::vector<std::string>& overrides = {},
                                               const std::string& base_dir = ".");

}  // namespace plant::central
