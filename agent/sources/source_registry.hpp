#pragma once
/// Explicit registration: the one table of built-in source kinds, each a row of
/// {kind, schema, settings reader, factory}. Adding a kind is one folder under
/// agent/sources/ and one row here. The table drives the [source] part of the
/// config schema, duplicate-name checks and --check-config; a kind compiled out
/// by its CMake option keeps its schema (so a config still reads) but has no
/// factory, and configuring it is an error naming the option.
/// (No static self-registration, which static libraries silently drop.)
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "agent/sources/source.hpp"
#include "agent/sources/source_settings.hpp"
#include "common/core/clock.hpp"

namespace plant::sources {

/// What a factory needs besides the settings.
struct source_context {
  std::filesystem::path state_dir;  ///< agent.state_dir, for sources that keep state (CSV seen-files)
  epoch_ms now = 0;                 ///< wall time at creation (the simulator's plant clock starts here)
};

/// One kind of source.
struct source_kind {
  std::string_view name;                                  ///< "modbus": the table under [source]
  const config::section_spec& (*schema)();                ///< its [[source.<name>]] section
  std::unique_ptr<source_settings> (*read)(const config::table_value& block);  ///< typed settings of one block
  /// Makes the source; null when the kind was compiled out.
  std::unique_ptr<source> (*make)(const source_settings& settings, const source_context& context);
  std::string_view cmake_option;  ///< the CMake option that builds it in ("" when always built)
};

/// Every kind this build knows, in config order.
const std::vector<source_kind>& source_kinds();
/// The kind named `name`, or nullptr.
const source_kind* find_source_kind(std::string_view name);

/// One configured source: its kind and its settings, in config order.
struct configured_source {
  const source_kind* kind = nullptr;
  std::shared_ptr<const source_settings> settings;
};

/// Reads a kind's block into its settings struct (the `read` of a registry row).
template <class Settings>
std::unique_ptr<source_settings> read_settings(const config::table_value& block) {
  auto settings = std::make_unique<Settings>();
  config::store_section(block, settings.get());
  settings->common.key_path = block.path;
  return settings;
}

/// Creates every configured source, in config order. Throws std::invalid_argument for a kind
/// that was compiled out (the config check already reports it) or settings a source refuses.
std::vector<std::unique_ptr<source>> make_sources(const std::vector<configured_source>& configured,
                                                  const source_context& context);

}  // namespace plant::sources
