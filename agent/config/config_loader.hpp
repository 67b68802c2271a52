#pragma once
/// Loads the agent's TOML config strictly: every error in one run, each as
/// "FILE:LINE:COLUMN: error: key.path: message", sorted by position.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/agent_config.hpp"
#include "common/config/diagnostics.hpp"
#include "common/config/schema.hpp"

namespace plant::config {

/// The outcome of a load: a config when there are no errors, and every finding.
struct load_result {
  std::optional<agent_config> config;       ///< set only when errors is empty
  std::shared_ptr<const table_value> tree;  ///< the value tree `config` was made from (reload compares trees)
  std::vector<diagnostic> errors;           ///< sorted by file position, overrides last
  std::vector<diagnostic> warnings;         ///< sorted by file position
};

/// Loads `path`; relative paths in it are resolved against its directory.
/// `overrides` are "key.path=value" (see apply_overrides in overrides.hpp).
load_result load_config_file(const std::string& path, const std::vector<std::string>& overrides = {});

/// Loads config text; `display_name` names it in diagnostics, relative paths are resolved against `base_dir`.
load_result load_config_text(std::string_view toml_text, const std::string& display_name,
                             const std::vector<std::string>& overrides = {}, const std::string& base_dir = ".");

/// The typed config of a valid value tree (the loader's last step; reload uses it on a merged tree).
agent_config make_agent_config(const table_value& tree, const std::string& source_path);

}  // namespace plant::config
