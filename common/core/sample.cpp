#include "common/core/sample.hpp"

#include <array>

namespace plant {

namespace {
constexpr std::array<std::string_view, 7> line_state_names{"unknown", "running", "idle", "starved",
                                                           "blocked", "fault", "maintenance"};
}

std::string_view to_string(line_state state) {
  auto index = static_cast<std::size_t>(state);
  return index < line_state_names.size() ? line_state_names[index] : "unknown";
}

bool parse_line_state(std::string_view text, line_state& out) {
  for (std::size_t i = 0; i < line_state_names.size(); ++i) {
    if (line_state_names[i] == text) {
      out = static_cast<line_state>(i);
      return true;
    }
  }
  return false;
}

std::string_view to_string(quality q) {
  switch (q) {
    case quality::good: return "good";
    case quality::stale: return "stale";
    case quality::bad: return "bad";
  }
  return "bad";
}

}  // namespace plant
