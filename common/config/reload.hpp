#pragma once
/// What a SIGHUP reload changes, decided by the schema: every changed key by
/// name with its policy (live, reconnect, restart), and the config to run with,
/// which keeps the running value of every key that needs a restart, so the
/// running config always describes what is running.
#include <string>
#include <vector>

#include "common/config/schema.hpp"

namespace plant::config {

/// One key whose effective value differs between the running config and the new file.
struct key_change {
  std::string path;    ///< "mqtt.qos", "source.modbus[0].interval"
  std::string before;  ///< canonical value text, "" when the key (or its block) is new
  std::string after;   ///< canonical value text, "" when it is gone
  reload_policy policy = reload_policy::live;
};

struct reload_plan {
  std::vector<key_change> changes;  ///< in path order
  table_value merged;               ///< the new tree with restart keys holding their running values

  /// True when some change has `policy`.
  bool any(reload_policy policy) const;
  /// True when a changed key's path starts with `prefix` ("mqtt.", "source.").
  bool touches(const std::string& prefix) const;
};

/// Compares two valid trees of the same schema.
reload_plan plan_reload(const table_value& running, const table_value& next);

/// The key a path names ("source.modbus[0].line[1].state.area" -> area), or nullptr.
const key_spec* find_key(const section_spec& root, const std::string& path);

/// One line per change for the log: "mqtt.qos: 1 -> 0 (applied)".
std::string describe(const key_change& change);

}  // namespace plant::config
