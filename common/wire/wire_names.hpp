#pragma once
/// Lower-case names of the plant.v1 enums, as plant-watch prints them.
#include <string_view>

#include "plant/v1/plant.pb.h"

namespace plant::wire {

/// "unknown", "running", "idle", "starved", "blocked", "fault", "maintenance".
std::string_view line_state_name(plant::v1::LineState state);
/// "good", "stale", "bad".
std::string_view quality_name(plant::v1::Quality q);
/// "unknown", "ok", "low", "critical", "out".
std::string_view stock_status_name(plant::v1::StockStatus status);
/// "" (ok or not given), "no_cover", "late_receipt", "receipt_too_small", "demand_above_plan".
std::string_view shortage_reason_name(plant::v1::ShortageReason reason);
/// "unknown", "online", "offline".
std::string_view agent_state_name(plant::v1::AgentStatus::State state);
/// "unknown", "birth", "heartbeat", "shutdown", "connection_lost", "reload".
std::string_view agent_reason_name(plant::v1::AgentStatus::Reason reason);

}  // namespace plant::wire
