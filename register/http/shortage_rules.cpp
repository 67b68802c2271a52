#include "register/http/shortage_rules.hpp"

#include <algorithm>

namespace plant::central::api {

int severity(std::string_view status) {
  if (status == "ok") return 0;
  if (status == "low") return 1;
  if (status == "critical") return 2;
  if (status == "out") return 3;
  return -1;
}

std::optional<config_millis> transfer_time(const std::vector<transfer_route>& routes, std::string_view from,
                                           std::string_view to) {
  std::optional<config_millis> reverse;
  for (const auto& r : routes) {
    if (r.from == from && r.to == to) return r.time;
    if (r.from == to && r.to == from && !reverse) reverse = r.time;
  }
  return reverse;
}

double spare_quantity(double quantity, double reorder_point, double safety_stock) {
  const double keep = reorder_point > 0 ? reorder_point : safety_stock;
  return std::max(0.0, quantity - keep);
}

transfer_proposal propose_transfer(std::optional<config_millis> route, epoch_ms now, std::string_view status,
                                   epoch_ms projected_stockout) {
  transfer_proposal p;
  if (!route) return p;
  p.has_route = true;
  p.time = *route;
  p.arrives_at = now + route->count();
  if (status == "out") {
    p.arrives_before_stockout = false;  // it has run out already
  } else if (projected_stockout != 0) {
    p.arrives_before_stockout = p.arrives_at < projected_stockout;
  }
  return p;
}

action_effect effect_of(const shortage_action& action, std::string_view current_status, epoch_ms now,
                        bool ok_since_action) {
  if (ok_since_action || severity(current_status) <= 0) return action_effect::expired;
  if (severity(current_status) > severity(action.status)) return action_effect::escalated;
  if (action.action == "snooze" && now >= action.until) return action_effect::expired;
  return action_effect::holds;
}

}  // namespace plant::central::api
