#pragma once
/// Loads a TOML config strictly against a schema: every error in one run, each as
/// "FILE:LINE:COLUMN: error: key.path: message", sorted by position. The agent
/// and the register wrap it to fill their own typed configs.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/diagnostics.hpp"
#include "common/config/schema.hpp"

namespace plant::config {

/// The outcome of reading a document: the value tree when there are no errors, and every finding.
struct document_result {
  std::optional<table_value> root;   ///< set only when errors is empty
  std::vector<diagnostic> errors;    ///< sorted by file position, overrides last
  std::vector<diagnostic> warnings;  ///< sorted by file position
  std::string display_name;          ///< the file as named in diagnostics
  std::string absolute_path;         ///< the file's absolute path ("" for text)
};

/// Reads config text against `spec`; relative paths are resolved against `base_dir`.
/// `overrides` are "key.path=value" (see overrides.hpp).
document_result load_document_text(std::string_view toml_text, const section_spec& spec,
                                   const std::string& display_name, const std::vector<std::string>& overrides = {},
                                   const std::string& base_dir = ".");

/// Reads the file at `path` against `spec`; relative paths in it are resolved against its directory.
document_result load_document_file(const std::string& path, const section_spec& spec,
                                   const std::vector<std::string>& overrides = {});

/// The canonical "path=value" lines (sorted) of a value tree: defaults, resolved paths and
/// normalised URLs included, so equal behaviour means equal lines (and an equal hash).
std::vector<std::string> effective_lines(const table_value& root);

/// FNV-1a 64 of the effective lines (each '\n'-terminated), as 16 hex digits.
std::string config_hash(const table_value& root);

/// One key's value as the canonical text used by effective_lines ("5s", "true", "\"x\"").
std::string render_value(const key_spec& key, const key_value& value);

}  // namespace plant::config
