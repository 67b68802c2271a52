// plant-agent: reads line status and stock levels, detects shortages at the
// edge, and publishes protobuf over MQTT. Exceptions are caught only here.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "agent/app/application.hpp"
#include "agent/app/source_probe.hpp"
#include "agent/config/agent_schema.hpp"
#include "agent/config/config_loader.hpp"
#include "common/config/daemon_arguments.hpp"
#include "common/wire/protobuf_logging.hpp"

namespace {

constexpr const char* default_config_path = "/etc/plant-agent/plant-agent.toml";

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: plant-agent [--config FILE] [--set key.path=value]...\n"
               "       plant-agent --check-config FILE [--set key.path=value]...\n"
               "       plant-agent --probe SOURCE_NAME [--config FILE]\n"
               "\n"
               "  -c, --config FILE        configuration file (default %s)\n"
               "      --check-config FILE  validate FILE and exit 0 (valid) or 1 (errors); connects to nothing\n"
               "      --set key.path=value override one key (repeatable), validated like the file\n"
               "      --probe SOURCE_NAME  poll one source once, print raw and decoded values, and exit\n"
               "      --print-reference    print the commented reference of every key with its default\n"
               "      --version            print the version and exit\n"
               "  -h, --help               this text\n",
               default_config_path);
}

void print_diagnostics(const plant::config::load_result& result) {
  for (const auto& warning : result.warnings) std::fprintf(stderr, "%s\n", warning.to_string().c_str());
  for (const auto& error : result.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  plant::wire::route_protobuf_logs();
  const plant::config::daemon_arguments args =
      plant::config::parse_daemon_arguments(argc, argv, default_config_path, {"--probe"});
  if (const auto code = plant::config::answer_without_config(args, "plant-agent",
                                                              plant::config::render_agent_reference, print_usage)) {
    return *code;
  }
  const std::string& config_path = args.config_path;
  const std::vector<std::string>& overrides = args.overrides;
  const bool check_only = args.check_only;
  const auto probe = args.extra.find("--probe");
  const std::string probe_source = probe == args.extra.end() ? "" : probe->second;

  try {
    auto result = plant::config::load_config_file(config_path, overrides);
    print_diagnostics(result);
    if (!result.config) {
      std::fprintf(stderr, "plant-agent: %s: %zu error%s; not starting\n", config_path.c_str(), result.errors.size(),
                   result.errors.size() == 1 ? "" : "s");
      return 1;
    }
    if (check_only) {
      const auto& config = *result.config;
      std::printf("%s: ok (%zu sources, %zu materials, config hash %s)\n", config_path.c_str(),
                  config.sources.size(), config.materials.size(),
                  config.hash.c_str());
      return 0;
    }
    if (!probe_source.empty()) return plant::app::probe_source(*result.config, probe_source);
    plant::app::application app(std::move(*result.config), result.tree, config_path, overrides);
    return app.run();
  } catch (const plant::app::startup_error& e) {
    std::fprintf(stderr, "plant-agent: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plant-agent: fatal: %s\n", e.what());
    return 3;
  }
}
