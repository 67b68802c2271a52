#include "watch/views/board_state.hpp"
#include "common/wire/wire_names.hpp"

namespace plant::watch {

namespace {

quality to_quality(plant::v1::Quality q) {
  switch (q) {
    case plant::v1::QUALITY_GOOD: return quality::good;
    case plant::v1::QUALITY_STALE: return quality::stale;
    default: return quality::bad;
  }
}

line_state to_line_state(plant::v1::LineState s) {
  if (s < 0 || s > 6) return line_state::unknown;
  return static_cast<line_state>(s);
}

stock_status to_stock_status(plant::v1::StockStatus s) {
  if (s < 0 || s > 4) return stock_status::unknown;
  return static_cast<stock_status>(s);
}

// What an entry costs beyond its strings (the map node, the struct).
constexpr std::size_t entry_overhead = 96;

// Finds or creates an entry, respecting the count and byte bounds; nullptr when full.
// Keys are names an agent sent: bounded in length like every stored string.
template <typename Map>
typename Map::mapped_type* slot(board_state& board, Map& map, const std::string& key, const board_limits& limits) {
  auto it = map.find(key);
  if (it != map.end()) return &it->second;
  const std::size_t cost = entry_overhead + sizeof(typename Map::mapped_type) + std::min(key.size(), limits.max_text_bytes);
  if (map.size() >= limits.max_entries_per_agent || board.bytes + cost > limits.max_bytes ||
      key.size() > limits.max_text_bytes) {
    ++board.entries_dropped;
    return nullptr;
  }
  board.bytes += cost;
  return &map.try_emplace(key).first->second;
}

// A string field kept on the board, cut to the bound.
std::string bounded(const std::string& text, const board_limits& limits) {
  return text.size() <= limits.max_text_bytes ? text : text.substr(0, limits.max_text_bytes);
}

// Replays from the agent's backlog can arrive after newer live data; the
// newest sample by the agent's read time wins so the board never goes back.
void apply_telemetry(board_state& board, agent_view& view, const plant::v1::TelemetryBatch& batch,
                     const board_limits& limits) {
  for (const auto& line : batch.lines()) {
    line_view* slot_ptr = slot(board, view.lines, line.line(), limits);
    if (slot_ptr == nullptr) continue;
    const epoch_ms receive_time = add_saturating(batch.base_time(), line.receive_time());
    if (slot_ptr->receive_time > receive_time) continue;
    slot_ptr->state = to_line_state(line.state());
    slot_ptr->good_count = line.good_count();
    slot_ptr->reject_count = line.reject_count();
    slot_ptr->good_rate = line.good_rate();
    slot_ptr->q = to_quality(line.quality());
    slot_ptr->source_time = add_saturating(batch.base_time(), line.source_time());
    slot_ptr->receive_time = receive_time;
  }
  for (const auto& stock : batch.stocks()) {
    stock_view* slot_ptr = slot(board, view.stocks, stock.material(), limits);
    if (slot_ptr == nullptr) continue;
    const epoch_ms receive_time = add_saturating(batch.base_time(), stock.receive_time());
    if (slot_ptr->receive_time > receive_time) continue;
    slot_ptr->quantity = stock.quantity();
    slot_ptr->unit = bounded(stock.unit(), limits);
    slot_ptr->location = bounded(stock.location(), limits);
    slot_ptr->q = to_quality(stock.quality());
    slot_ptr->source_time = add_saturating(batch.base_time(), stock.source_time());
    slot_ptr->receive_time = receive_time;
  }
}

// Alerts are retained and replayed, and status.materials repeats them: the
// decision with the newest sample time wins, whichever message carried it.
void apply_material(board_state& board, agent_view& view, const plant::v1::MaterialStatus& m,
                    const board_limits& limits) {
  material_view* slot_ptr = slot(board, view.materials, m.material(), limits);
  if (slot_ptr == nullptr) return;
  if (slot_ptr->status != stock_status::unknown && slot_ptr->at > m.at()) return;
  *slot_ptr = to_material_view(m);
  slot_ptr->unit = bounded(slot_ptr->unit, limits);
  // A forged list of a million line names would be held per material.
  if (slot_ptr->lines.size() > 64) slot_ptr->lines.resize(64);
  if (slot_ptr->starved_lines.size() > 64) slot_ptr->starved_lines.resize(64);
  for (auto& line : slot_ptr->lines) line = bounded(line, limits);
  for (auto& line : slot_ptr->starved_lines) line = bounded(line, limits);
}

void apply_status(board_state& board, agent_view& view, const plant::v1::AgentStatus& status, bool retained,
                  epoch_ms received_at, const board_limits& limits) {
  // Status goes by arrival, not by its time field: the broker's Last Will was
  // built when the agent connected, so its time is older than the heartbeats
  // it supersedes. For the same reason its age is counted from when we got it,
  // unless the broker replayed it (retained), when its own time is all we know.
  view.has_status = true;
  switch (status.state()) {
    case plant::v1::AgentStatus::STATE_ONLINE: view.state = agent_state::online; break;
    case plant::v1::AgentStatus::STATE_OFFLINE: view.state = agent_state::offline; break;
    default: view.state = agent_state::unknown; break;
  }
  switch (status.reason()) {
    case plant::v1::AgentStatus::REASON_BIRTH: view.reason = "birth"; break;
    case plant::v1::AgentStatus::REASON_HEARTBEAT: view.reason = "heartbeat"; break;
    case plant::v1::AgentStatus::REASON_SHUTDOWN: view.reason = "shutdown"; break;
    case plant::v1::AgentStatus::REASON_CONNECTION_LOST: view.reason = "connection_lost"; break;
    case plant::v1::AgentStatus::REASON_RELOAD: view.reason = "reload"; break;
    default: view.reason = "unknown"; break;
  }
  view.status_seen_at = retained && status.time() != 0 ? status.time() : received_at;
  // The Last Will carries the counters of connect time; keep the newer
  // figures from the heartbeats when the agent is reported dead.
  if (status.state() != plant::v1::AgentStatus::STATE_OFFLINE || view.version.empty()) {
    view.version = bounded(status.version(), limits);
    view.backlog_messages = status.backlog().messages();
    view.backlog_bytes = status.backlog().bytes();
    view.backlog_oldest_age_ms = status.backlog().oldest_age_ms();
    view.dropped = status.dropped();
    view.last_error = bounded(status.last_error(), limits);
  }
  for (const auto& m : status.materials()) apply_material(board, view, m, limits);
}

}  // namespace

std::string_view to_string(stock_status status) {
  switch (status) {
    case stock_status::ok: return "ok";
    case stock_status::low: return "low";
    case stock_status::critical: return "critical";
    case stock_status::out: return "out";
    default: return "unknown";
  }
}

material_view to_material_view(const plant::v1::MaterialStatus& m) {
  material_view v;
  v.status = to_stock_status(m.status());
  v.quantity = m.quantity();
  v.unit = m.unit();
  v.rate = m.rate();
  v.projected_stockout = m.projected_stockout();
  v.at = m.at();
  v.lines.assign(m.lines().begin(), m.lines().end());
  v.starved_lines.assign(m.starved_lines().begin(), m.starved_lines().end());
  v.reorder_point = m.reorder_point();
  v.safety_stock = m.safety_stock();
  v.incoming = m.incoming();
  v.next_receipt = m.next_receipt();
  v.late_receipts = m.late_receipts();
  v.late_quantity = m.late_quantity();
  v.covered_until = m.covered_until();
  v.reason = std::string(wire::shortage_reason_name(m.reason()));
  return v;
}

void apply_envelope(board_state& board, const std::string& site, const std::string& agent,
                    const plant::v1::Envelope& envelope, bool retained, epoch_ms received_at,
                    const board_limits& limits) {
  auto key = std::make_pair(site, agent);
  auto it = board.agents.find(key);
  if (it == board.agents.end()) {
    const std::size_t cost = entry_overhead + sizeof(agent_view) + site.size() + agent.size();
    if (board.agents.size() >= limits.max_agents || board.bytes + cost > limits.max_bytes ||
        site.size() > limits.max_text_bytes || agent.size() > limits.max_text_bytes) {
      ++board.entries_dropped;
      return;
    }
    board.bytes += cost;
    it = board.agents.try_emplace(std::move(key)).first;
    it->second.site = site;
    it->second.agent = agent;
  }
  agent_view& view = it->second;
  switch (envelope.body_case()) {
    case plant::v1::Envelope::kTelemetry: apply_telemetry(board, view, envelope.telemetry(), limits); break;
    case plant::v1::Envelope::kStatus:
      apply_status(board, view, envelope.status(), retained, received_at, limits);
      break;
    case plant::v1::Envelope::kAlert: apply_material(board, view, envelope.alert().material(), limits); break;
    default: break;
  }
}

}  // namespace plant::watch
