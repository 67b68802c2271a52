#pragma once
/// Where the build put the programs under test, and where the sources are
/// (from the PLANT_AGENT_BIN, PLANT_WATCH_BIN and PLANT_SOURCE_DIR compile definitions).
#include <string>

namespace plant::test {

/// Absolute path of the plant-agent binary of this build.
std::string agent_binary();
/// Absolute path of the plant-watch binary of this build.
std::string watch_binary();
/// The source tree's root (for config/ examples and proto/).
std::string source_dir();
/// The mosquitto broker: found in PATH, else /usr/sbin/mosquitto.
std::string mosquitto_binary();

}  // namespace plant::test
