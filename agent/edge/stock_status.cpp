#include "agent/edge/stock_status.hpp"

#include <array>

namespace plant::edge {

namespace {
constexpr std::array<std::string_view, 5> status_names{"unknown", "ok", "low", "critical", "out"};
}

std::string_view to_string(stock_status status) {
  const auto index = static_cast<std::size_t>(status);
  return index < status_names.size() ? status_names[index] : "unknown";
}

bool parse_stock_status(std::string_view text, stock_status& out) {
  for (std::size_t i = 0; i < status_names.size(); ++i) {
    if (status_names[i] == text) {
      out = static_cast<stock_status>(i);
      return true;
    }
  }
  return false;
}

}  // namespace plant::edge
