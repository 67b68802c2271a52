#include "watch/views/board_state.hpp"
#include "common/sparkplug/sparkplug_metrics.hpp"
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

// The agent's entry, made on first sight within the bounds; nullptr when full.
agent_view* agent_slot(board_state& board, const std::string& site, const std::string& agent,
                       const board_limits& limits) {
  auto key = std::make_pair(site, agent);
  auto it = board.agents.find(key);
  if (it == board.agents.end()) {
    const std::size_t cost = entry_overhead + sizeof(agent_view) + site.size() + agent.size();
    if (board.agents.size() >= limits.max_agents || board.bytes + cost > limits.max_bytes ||
        site.size() > limits.max_text_bytes || agent.size() > limits.max_text_bytes) {
      ++board.entries_dropped;
      return nullptr;
    }
    board.bytes += cost;
    it = board.agents.try_emplace(std::move(key)).first;
    it->second.site = site;
    it->second.agent = agent;
  }
  return &it->second;
}

void apply_envelope(board_state& board, const std::string& site, const std::string& agent,
                    const plant::v1::Envelope& envelope, bool retained, epoch_ms received_at,
                    const board_limits& limits) {
  agent_view* found = agent_slot(board, site, agent, limits);
  if (found == nullptr) return;
  agent_view& view = *found;
  switch (envelope.body_case()) {
    case plant::v1::Envelope::kTelemetry: apply_telemetry(board, view, envelope.telemetry(), limits); break;
    case plant::v1::Envelope::kStatus:
      apply_status(board, view, envelope.status(), retained, received_at, limits);
      break;
    case plant::v1::Envelope::kAlert: apply_material(board, view, envelope.alert().material(), limits); break;
    default: break;
  }
}

namespace {

quality quality_of_code(const std::optional<std::int32_t>& code, quality previous) {
  if (!code) return previous;  // data leaves the quality out while it stays as it was
  if (*code == sparkplug::quality_good) return quality::good;
  if (*code == sparkplug::quality_stale) return quality::stale;
  return quality::bad;
}

stock_status stock_status_of(const std::string& text) {
  for (stock_status s : {stock_status::ok, stock_status::low, stock_status::critical, stock_status::out})
    if (text == to_string(s)) return s;
  return stock_status::unknown;
}

using value_kind = sparkplug::decoded_metric::value_kind;

double number_of(const sparkplug::decoded_metric& m) {
  if (m.kind == value_kind::number) return m.number;
  if (m.kind == value_kind::integer) return static_cast<double>(m.integer);
  return 0.0;
}

void apply_sparkplug_metric(board_state& board, agent_view& view, const sparkplug::decoded_metric& m,
                            epoch_ms received_at, const board_limits& limits) {
  std::string kind, subject, field;
  const epoch_ms at = m.timestamp != 0 ? m.timestamp : received_at;
  if (!sparkplug::split_metric_name(m.name, kind, subject, field)) {
    if (m.is_null) return;
    if (m.name == sparkplug::backlog_messages_metric) view.backlog_messages = m.integer;
    if (m.name == sparkplug::backlog_oldest_age_metric) view.backlog_oldest_age_ms = static_cast<std::int64_t>(m.integer);
    if (m.name == sparkplug::dropped_metric) view.dropped = m.integer;
    if (m.name == sparkplug::version_metric) view.version = bounded(m.text, limits);
    return;
  }
  if (kind == "line") {
    line_view* line = slot(board, view.lines, subject, limits);
    if (line == nullptr) return;
    line->q = m.is_null ? quality::bad : quality_of_code(m.quality, line->q);
    line->source_time = at;
    line->receive_time = received_at;
    if (m.is_null) return;
    if (field == "state" && !parse_line_state(m.text, line->state)) line->state = line_state::unknown;
    if (field == "good_count") line->good_count = m.integer;
    if (field == "reject_count") line->reject_count = m.integer;
    if (field == "good_rate") line->good_rate = number_of(m);
  } else if (kind == "stock" && field == "quantity") {
    stock_view* stock = slot(board, view.stocks, subject, limits);
    if (stock == nullptr) return;
    stock->q = m.is_null ? quality::bad : quality_of_code(m.quality, stock->q);
    if (!m.unit.empty()) stock->unit = bounded(m.unit, limits);
    stock->source_time = at;
    stock->receive_time = received_at;
    if (!m.is_null) stock->quantity = number_of(m);
    auto decided = view.materials.find(subject);
    if (decided != view.materials.end() && !m.is_null) {
      decided->second.quantity = stock->quantity;
      decided->second.unit = stock->unit;
    }
  } else if (kind == "shortage") {
    material_view* material = slot(board, view.materials, subject, limits);
    if (material == nullptr) return;
    material->at = at;
    if (field == "status") material->status = m.is_null ? stock_status::unknown : stock_status_of(m.text);
    if (field == "projected_stockout") material->projected_stockout = m.is_null ? 0 : static_cast<epoch_ms>(m.integer);
    if (field == "rate") material->rate = number_of(m);
    auto stock = view.stocks.find(subject);
    if (stock != view.stocks.end()) {
      material->quantity = stock->second.quantity;
      material->unit = stock->second.unit;
    }
  }
}

}  // namespace

void apply_sparkplug(board_state& board, const sparkplug::decoded_message& message, epoch_ms received_at,
                     const board_limits& limits) {
  const sparkplug::message_type type = message.where.type;
  if (type == sparkplug::message_type::state || type == sparkplug::message_type::ncmd ||
      type == sparkplug::message_type::dcmd)
    return;
  agent_view* view = agent_slot(board, message.where.group_id, message.where.edge_node_id, limits);
  if (view == nullptr) return;
  if (type == sparkplug::message_type::nbirth) {
    view->has_status = true;
    view->state = agent_state::online;
    view->reason = "birth";
    view->status_seen_at = received_at;
  } else if (type == sparkplug::message_type::ndeath && !message.stale_death) {
    view->has_status = true;
    view->state = agent_state::offline;
    view->reason = "connection_lost";
    view->status_seen_at = received_at;
  }
  for (const sparkplug::decoded_metric& m : message.metrics) {
    // Held data is history; the board shows the newest values only.
    if (m.historical || m.name.empty()) continue;
    apply_sparkplug_metric(board, *view, m, received_at, limits);
  }
}

}  // namespace plant::watch
