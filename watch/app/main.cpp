// plant-watch: the ops-side CLI that shows what plant-agents publish.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "common/wire/protobuf_logging.hpp"
#include "watch/app/agent_config_import.hpp"
#include "watch/app/watch_options.hpp"
#include "watch/app/watch_session.hpp"

int main(int argc, char** argv) {
  // A closed pipe is reported by write() as EPIPE and ends the run quietly.
  std::signal(SIGPIPE, SIG_IGN);
  plant::wire::route_protobuf_logs();

  const std::vector<std::string> args(argv + 1, argv + argc);
  plant::watch::parse_result parsed;
  try {
    parsed = plant::watch::parse_command_line(args, plant::watch::import_agent_connection);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plant-watch: %s\n", e.what());
    return 2;
  }
  if (parsed.help) {
    std::fputs(plant::watch::help_text().c_str(), stdout);
    return 0;
  }
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "%s\n", parsed.error.c_str());
    return 2;
  }

  std::string password;
  if (!parsed.options.password_file.empty()) {
    const std::string error = plant::watch::read_password_file(parsed.options.password_file, password);
    if (!error.empty()) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 2;
    }
  }

  try {
    plant::watch::watch_session session(std::move(parsed.options), std::move(password), stdout, stderr);
    return session.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plant-watch: %s\n", e.what());
    return 1;
  }
}
