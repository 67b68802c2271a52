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

std::optional<int> answer_without_config(const daemon_arguments& args, const char* program,
                                         std::string (*reference)(), void (*usage)(std::FILE*)) {
  if (!args.error.empty()) {
    std::fprintf(stderr, "%s: %s\n", program, args.error.c_str());
    if (args.error.rfind("unknown option", 0) == 0) usage(stderr);
    return 2;
  }
  if (args.print_reference) {
    std::fputs(reference().c_str(), stdout);
    return 0;
  }
  if (args.version) {
    std::printf("%s %s\n", program, PLANT_VERSION);
    return 0;
  }
  if (args.help) {
    usage(stdout);
    return 0;
  }
  return std::nullopt;
}

}  // namespace plant::config
