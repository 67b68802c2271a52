#include "agent/sources/source_registry.hpp"

#include <stdexcept>
#include <string>

#include "agent/sources/csv/csv_source.hpp"
#include "agent/sources/modbus/modbus_settings.hpp"
#include "agent/sources/simulator/simulator_source.hpp"
#ifdef AGENT_WITH_MODBUS
#include "agent/sources/modbus/modbus_source.hpp"
#endif

namespace plant::sources {

const std::vector<source_kind>& source_kinds() {
  static const std::vector<source_kind> kinds{
      {"simulator", simulator_schema, read_settings<simulator_settings>, make_simulator_source, ""},
      {"csv", csv_schema, read_settings<csv_settings>, make_csv_source, ""},
#ifdef AGENT_WITH_MODBUS
      {"modbus", modbus_schema, read_settings<modbus_settings>, make_modbus_source, "AGENT_WITH_MODBUS"},
#else
      {"modbus", modbus_schema, read_settings<modbus_settings>, nullptr, "AGENT_WITH_MODBUS"},
#endif
  };
  return kinds;
}

const source_kind* find_source_kind(std::string_view name) {
  for (const source_kind& kind : source_kinds())
    if (kind.name == name) return &kind;
  return nullptr;
}

std::vector<std::unique_ptr<source>> make_sources(const std::vector<configured_source>& configured,
                                                  const source_context& context) {
  std::vector<std::unique_ptr<source>> made;
  made.reserve(configured.size());
  for (const configured_source& entry : configured) {
    if (entry.kind->make == nullptr) {
      throw std::invalid_argument(entry.settings->common.key_path + ": this plant-agent was built without " +
                                  std::string(entry.kind->name) + " sources (CMake option " +
                                  std::string(entry.kind->cmake_option) + "=OFF)");
    }
    made.push_back(entry.kind->make(*entry.settings, context));
  }
  return made;
}

}  // namespace plant::sources
