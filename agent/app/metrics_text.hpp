#pragma once
/// What the health endpoint shows: the /healthz decision over the agent's
/// stats snapshot, and its rendering in the Prometheus text exposition format
/// 0.0.4. Pure: no sockets, no clocks (the snapshot carries the ages), so tests
/// give a snapshot and compare exact text.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/app/agent_stats.hpp"

namespace plant::app {

/// The /healthz decision: healthy, or the reasons it is not, as one line.
struct health_verdict {
  bool healthy = true;  ///< 200 when true, 503 when false
  /// "ok" when healthy; otherwise every failed check, joined with "; ".
  std::string reason = "ok";
};

/// Healthy when connected to the broker, the spool (if enabled) accepts writes,
/// and the oldest unacknowledged message is not older than max_backlog_age.
/// Source failures do not count: they are per-source metrics, not agent health.
health_verdict decide_health(const agent_stats& snapshot);

/// The snapshot in Prometheus text format 0.0.4, every metric prefixed plant_agent_.
std::string render_metrics(const agent_stats& snapshot);

}  // namespace plant::app
