// plant-register: the central register of stock, line states and shortages.
// Exceptions are caught only here.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/config/daemon_arguments.hpp"
#include "common/wire/protobuf_logging.hpp"
#include "register/app/register_application.hpp"
#include "register/config/register_schema.hpp"

namespace {

constexpr const char* default_config_path = "/etc/plant-register/plant-register.toml";

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: plant-register [--config FILE] [--set key.path=value]...\n"
               "       plant-register --check-config FILE [--set key.path=value]...\n"
               "\n"
               "  -c, --config FILE        configuration file (default %s)\n"
               "      --check-config FILE  validate FILE and exit 0 (valid) or 1 (errors); connects to nothing\n"
               "      --set key.path=value override one key (repeatable), validated like the file\n"
               "      --print-reference    print the commented reference of every key with its default\n"
               "      --version            print the version and exit\n"
               "  -h, --help               this text\n",
               default_config_path);
}

}  // namespace

int main(int argc, char** argv) {
  plant::wire::route_protobuf_logs();
  const plant::config::daemon_arguments args = plant::config::parse_daemon_arguments(argc, argv, default_config_path);
  if (const auto code = plant::config::answer_without_config(args, "plant-register",
                                                              plant::central::render_register_reference, print_usage)) {
    return *code;
  }
  const std::string& config_path = args.config_path;
  const std::vector<std::string>& overrides = args.overrides;
  const bool check_only = args.check_only;
  try {
    auto loaded = plant::central::load_register_config_file(config_path, overrides);
    for (const auto& w : loaded.warnings) std::fprintf(stderr, "%s\n", w.to_string().c_str());
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!loaded.config) {
      std::fprintf(stderr, "plant-register: %s: %zu error%s; not starting\n", config_path.c_str(),
                   loaded.errors.size(), loaded.errors.size() == 1 ? "" : "s");
      return 1;
    }
    if (check_only) {
      std::printf("%s: ok (config hash %s)\n", config_path.c_str(), loaded.config->hash.c_str());
      return 0;
    }
    plant::central::register_application app(std::move(*loaded.config), overrides);
    return app.run();
  } catch (const plant::central::startup_error& e) {
    std::fprintf(stderr, "plant-register: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plant-register: fatal: %s\n", e.what());
    return 3;
  }
}
