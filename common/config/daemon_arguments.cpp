#include "common/config/daemon_arguments.hpp"

#include <algorithm>

namespace plant::config {

daemon_arguments parse_daemon_arguments(int argc, const char* const* argv, const std::string& default_config_path,
                                        const std::vector<std::string>& extra_flags) {
  daemon_arguments out;
  out.config_path = default_config_path;
  for (int i = 1; i < argc && out.error.empty(); ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& flag, std::string& into) {
      if (i + 1 >= argc) {
        out.error = flag + " needs a value";
        return;
      }
      into = argv[++i];
    };
    if (arg == "-c" || arg == "--config") {
      value("--config", out.config_path);
    } else if (arg == "--check-config") {
      value("--check-config", out.config_path);
      out.check_only = true;
    } else if (arg == "--set") {
      std::string override_text;
      value("--set", override_text);
      if (out.error.empty()) out.overrides.push_back(override_text);
    } else if (arg.rfind("--set=", 0) == 0) {
      out.overrides.push_back(arg.substr(6));
    } else if (std::find(extra_flags.begin(), extra_flags.end(), arg) != extra_flags.end()) {
      value(arg, out.extra[arg]);
    } else if (arg == "--print-reference") {
      out.print_reference = true;
    } else if (arg == "--version") {
      out.version = true;
    } else if (arg == "-h" || arg == "--help") {
      out.help = true;
    } else {
      out.error = "unknown option '" + arg + "'";
    }
  }
  return out;
}

}  // namespace plant::config
