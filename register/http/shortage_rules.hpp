#pragma once
/// The board's rules, as pure functions of the register's rows and the time:
/// how severe a status is, how long a transfer between two sites takes, what
/// a surplus plant can spare and whether it arrives in time, and whether an
/// operator's acknowledgement or snooze still holds.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.hpp"
#include "register/config/register_config.hpp"

namespace plant::central::api {

/// ok 0, low 1, critical 2, out 3; anything else -1.
int severity(std::string_view status);

/// The configured time from `from` to `to`; an entry for the other direction
/// serves when this one has none.
std::optional<config_millis> transfer_time(const std::vector<transfer_route>& routes, std::string_view from,
                                           std::string_view to);

/// What a plant holds above its own reorder point (its safety stock when it
/// has no reorder point); never negative.
double spare_quantity(double quantity, double reorder_point, double safety_stock);

/// A transfer from a surplus plant to a short one, decided at `now`.
struct transfer_proposal {
  bool has_route = false;     ///< a [[transfer]] entry covers the two sites
  config_millis time{0};      ///< its transfer time
  epoch_ms arrives_at = 0;    ///< now + time
  /// true/false when it can be told; empty when the short plant is not consuming
  /// (no projected stockout) or no route is known.
  std::optional<bool> arrives_before_stockout;
};

/// `status` and `projected_stockout` (0 = not consuming) are the short plant's.
transfer_proposal propose_transfer(std::optional<config_millis> route, epoch_ms now, std::string_view status,
                                   epoch_ms projected_stockout);

/// The newest operator action on one (site, material).
struct shortage_action {
  std::string action;       ///< "ack" or "snooze"
  std::string by;           ///< operator name
  std::string note;
  std::string status;       ///< the shortage's status when the operator acted
  epoch_ms at = 0;
  epoch_ms until = 0;       ///< snooze only
};

enum class action_effect {
  holds,      ///< acknowledged, or snoozed until a time still ahead
  escalated,  ///< the status got worse since: shown again, with who had acted
  expired,    ///< the snooze ran out, or the shortage ended since (status ok in between)
};

/// `ok_since_action`: an "ok" decision for the material came after the action.
action_effect effect_of(const shortage_action& action, std::string_view current_status, epoch_ms now,
                        bool ok_since_action);

}  // namespace plant::central::api
