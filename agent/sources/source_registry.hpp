#pragma once
/// Explicit registration: the one place that knows every built-in source kind.
/// (No static self-registration, which static libraries silently drop.)
#include <memory>
#include <vector>

#include "agent/config/agent_config.hpp"
#include "agent/sources/source.hpp"

namespace plant::sources {

/// Creates every configured source, in config order.
std::vector<std::unique_ptr<source>> make_sources(const config::agent_config& config, epoch_ms now);

}  // namespace plant::sources
