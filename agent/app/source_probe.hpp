#pragma once
/// plant-agent --probe SOURCE: poll one source once and print what it read,
/// so a technician can check a register map before deploying it.
#include <string>

#include "agent/config/agent_config.hpp"

namespace plant::app {

/// Returns the process exit status: 0 when the poll succeeded, 1 otherwise.
int probe_source(const config::agent_config& config, const std::string& source_name);

}  // namespace plant::app
