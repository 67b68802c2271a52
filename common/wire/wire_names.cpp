#include "common/wire/wire_names.hpp"

#include "common/core/sample.hpp"

namespace plant::wire {

std::string_view line_state_name(plant::v1::LineState state) {
  // plant::line_state mirrors the wire values, so the agent's own names are reused;
  // a value from a newer schema falls out of range and reads "unknown".
  if (state < 0 || state > 6) return "unknown";
  return plant::to_string(static_cast<plant::line_state>(state));
}

std::string_view quality_name(plant::v1::Quality q) {
  switch (q) {
    case plant::v1::QUALITY_GOOD: return "good";
    case plant::v1::QUALITY_STALE: return "stale";
    case plant::v1::QUALITY_BAD: return "bad";
    default: return "bad";
  }
}

std::string_view stock_status_name(plant::v1::StockStatus status) {
  switch (status) {
    case plant::v1::STOCK_STATUS_OK: return "ok";
    case plant::v1::STOCK_STATUS_LOW: return "low";
    case plant::v1::STOCK_STATUS_CRITICAL: return "critical";
    case plant::v1::STOCK_STATUS_OUT: return "out";
    default: return "unknown";
  }
}

std::string_view shortage_reason_name(plant::v1::ShortageReason reason) {
  switch (reason) {
    case plant::v1::SHORTAGE_REASON_NO_COVER: return "no_cover";
    case plant::v1::SHORTAGE_REASON_LATE_RECEIPT: return "late_receipt";
    case plant::v1::SHORTAGE_REASON_RECEIPT_TOO_SMALL: return "receipt_too_small";
    case plant::v1::SHORTAGE_REASON_DEMAND_ABOVE_PLAN: return "demand_above_plan";
    default: return "";
  }
}

std::string_view agent_state_name(plant::v1::AgentStatus::State state) {
  switch (state) {
    case plant::v1::AgentStatus::STATE_ONLINE: return "online";
    case plant::v1::AgentStatus::STATE_OFFLINE: return "offline";
    default: return "unknown";
  }
}

std::string_view agent_reason_name(plant::v1::AgentStatus::Reason reason) {
  switch (reason) {
    case plant::v1::AgentStatus::REASON_BIRTH: return "birth";
    case plant::v1::AgentStatus::REASON_HEARTBEAT: return "heartbeat";
    case plant::v1::AgentStatus::REASON_SHUTDOWN: return "shutdown";
    case plant::v1::AgentStatus::REASON_CONNECTION_LOST: return "connection_lost";
    case plant::v1::AgentStatus::REASON_RELOAD: return "reload";
    default: return "unknown";
  }
}

}  // namespace plant::wire
