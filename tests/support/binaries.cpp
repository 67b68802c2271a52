#include "tests/support/binaries.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#if !defined(PLANT_AGENT_BIN) || !defined(PLANT_WATCH_BIN) || !defined(PLANT_SOURCE_DIR)
#error "tests/support needs PLANT_AGENT_BIN, PLANT_WATCH_BIN and PLANT_SOURCE_DIR (set by tests/CMakeLists.txt)"
#endif

namespace plant::test {

namespace {
// The environment may name other builds of the binaries under test: scripts/test
// runs the integration suite once more against its sanitizer builds this way.
std::string binary(const char* variable, const char* built) {
  const char* given = std::getenv(variable);
  return given != nullptr && *given != '\0' ? given : built;
}
}  // namespace

std::string agent_binary() { return binary("PLANT_AGENT_BIN", PLANT_AGENT_BIN); }

std::string watch_binary() { return binary("PLANT_WATCH_BIN", PLANT_WATCH_BIN); }

std::string source_dir() { return PLANT_SOURCE_DIR; }

std::string mosquitto_binary() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', begin), dirs.size());
    const std::string candidate = dirs.substr(begin, end - begin) + "/mosquitto";
    if (end > begin && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    begin = end + 1;
  }
  return "/usr/sbin/mosquitto";
}

}  // namespace plant::test
