#pragma once
/// The agent's config schema: [agent], [mqtt], [spool], [health], [shortage],
/// [[source.<kind>]] (from the source registry) and [[material]]. One table
/// drives parsing, errors, the reference config (config/plant-agent.toml),
/// the hash and what SIGHUP does with each key.
#include <string>

#include "agent/config/agent_config.hpp"
#include "common/config/reference.hpp"
#include "common/config/schema.hpp"

namespace plant::config {

/// The schema of the whole agent config file.
const section_spec& agent_root_section();

/// The full commented reference config; config/plant-agent.toml holds exactly this text.
std::string render_agent_reference();

}  // namespace plant::config
