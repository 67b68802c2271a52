#include "agent/sources/source_registry.hpp"

#include "agent/sources/csv/csv_source.hpp"
#include "agent/sources/simulator/simulator_source.hpp"
#ifdef AGENT_WITH_MODBUS
#include "agent/sources/modbus/modbus_source.hpp"
#endif

namespace plant::sources {

std::vector<std::unique_ptr<source>> make_sources(const config::agent_config& config, epoch_ms now) {
  std::vector<std::unique_ptr<source>> made;
  for (const auto& simulator : config.simulators) made.push_back(std::make_unique<simulator_source>(simulator, now));
  for (const auto& csv : config.csvs) made.push_back(std::make_unique<csv_source>(csv, config.agent.state_dir));
#ifdef AGENT_WITH_MODBUS
  for (const auto& modbus : config.modbus) made.push_back(std::make_unique<modbus_source>(modbus));
#endif
  return made;
}

}  // namespace plant::sources
