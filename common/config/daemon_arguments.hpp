#pragma once
/// The command line every daemon here shares (plant-agent, plant-register):
/// --config, --check-config, --set, --print-reference, --version, --help,
/// plus options of the program's own that take one value (the agent's --probe).
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace plant::config {

struct daemon_arguments {
  std::string config_path;                        ///< --config / --check-config, else the default
  std::vector<std::string> overrides;             ///< --set key.path=value, in order
  bool check_only = false;                        ///< --check-config
  bool print_reference = false;                   ///< --print-reference
  bool version = false;                           ///< --version
  bool help = false;                              ///< -h / --help
  std::map<std::string, std::string> extra;       ///< the program's own options, by flag
  std::string error;                              ///< "--set needs a value", "unknown option '-x'"; "" = fine
};

/// Reads argv; `extra_flags` are the program's own options taking one value ("--probe").
daemon_arguments parse_daemon_arguments(int argc, const char* const* argv, const std::string& default_config_path,
                                        const std::vector<std::string>& extra_flags = {});

/// What main() does before any config is read: an argument error is printed (with the
/// usage for an unknown option) and gives exit code 2; --print-reference, --version and
/// --help print and give 0. std::nullopt: nothing of the kind, go on.
std::optional<int> answer_without_config(const daemon_arguments& args, const char* program,
                                         std::string (*reference)(), void (*usage)(std::FILE*));

}  // namespace plant::config
