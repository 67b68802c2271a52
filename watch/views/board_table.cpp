#include "watch/views/board_table.hpp"

#include "common/core/text.hpp"
#include "watch/views/text_table.hpp"
#include "common/wire/time_format.hpp"

namespace plant::watch {

using namespace plant::wire;

namespace {

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out.append(separator);
    out.append(item);
  }
  return out;
}

std::string state_label(const agent_view& a) {
  if (!a.has_status) return "NO STATUS";
  switch (a.state) {
    case agent_state::online: return "ONLINE";
    case agent_state::offline: return "OFFLINE";
    default: return "UNKNOWN";
  }
}

std::string agent_heading(const agent_view& a, epoch_ms now) {
  std::string out = a.site + "/" + a.agent + "  " + state_label(a);
  if (!a.has_status) return out + "  (no status message yet)";
  out += " (" + a.reason + ", " + format_span(now - a.status_seen_at) + " ago)";
  out += "  version " + (a.version.empty() ? std::string("?") : a.version);
  out += "  backlog " + std::to_string(a.backlog_messages) + " msgs, " + format_bytes(a.backlog_bytes);
  if (a.backlog_messages > 0) out += ", oldest " + format_span(a.backlog_oldest_age_ms);
  if (a.dropped > 0) out += "  dropped " + std::to_string(a.dropped);
  if (!a.last_error.empty()) out += "  last error: " + a.last_error;
  return out;
}

std::string with_unit(double quantity, const std::string& unit) {
  return unit.empty() ? format_number(quantity) : format_number(quantity) + " " + unit;
}

}  // namespace

std::string describe_shortage(const material_view& m, epoch_ms now) {
  std::string out(to_string(m.status));
  // A projection only matters while the material is short; ok stock is consuming normally.
  if (m.projected_stockout != 0 && (m.status == stock_status::low || m.status == stock_status::critical)) {
    const std::int64_t left = m.projected_stockout - now;
    out += left > 0 ? ", stockout in " + format_span(left) : ", stockout due";
  }
  if (!m.reason.empty()) out += ", " + m.reason;
  if (m.late_receipts > 0) out += ", " + std::to_string(m.late_receipts) + " late receipt" + (m.late_receipts == 1 ? "" : "s");
  if (m.status == stock_status::ok && m.incoming > 0 && m.covered_until != 0 && m.covered_until > now)
    out += ", covered " + format_span(m.covered_until - now);
  if (!m.starved_lines.empty()) out += ", starving " + join(m.starved_lines, ", ");
  return out;
}

std::string render_board_table(const board_state& board, epoch_ms now) {
  std::string out = "plant-watch  " + format_rfc3339_ms(now) + "  agents " + std::to_string(board.agents.size()) +
                    "  messages " + std::to_string(board.messages) + "  undecodable " +
                    std::to_string(board.undecodable) + "  dropped " + std::to_string(board.queue_dropped);
  if (board.rejected > 0) out += "  rejected " + std::to_string(board.rejected);
  if (board.entries_dropped > 0) out += "  untracked " + std::to_string(board.entries_dropped);
  out += "\n";
  if (!board.broker.empty()) out += "broker " + board.broker + ": " + board.connection + "\n";
  if (board.agents.empty()) return out + "\nwaiting for messages...\n";

  using align = text_table::align;
  for (const auto& [key, a] : board.agents) {
    // The heading quotes what the agent sent (its ids, version, last error): escaped and bounded.
    out += "\n" + escape_for_display(agent_heading(a, now), 400) + "\n";
    if (!a.lines.empty()) {
      text_table lines({"LINE", "STATE", "GOOD", "REJECT", "RATE/MIN", "QUALITY", "AGE"},
                       {align::left, align::left, align::right, align::right, align::right, align::left,
                        align::right});
      for (const auto& [id, l] : a.lines) {
        lines.add_row({id, std::string(to_string(l.state)), std::to_string(l.good_count),
                       std::to_string(l.reject_count), format_number(l.good_rate, 1), std::string(to_string(l.q)),
                       format_span(now - l.receive_time)});
      }
      out += lines.render("  ");
    }
    // Materials known from stock samples, from shortage decisions, or both.
    std::map<std::string, std::pair<const stock_view*, const material_view*>> materials;
    for (const auto& [id, s] : a.stocks) materials[id].first = &s;
    for (const auto& [id, m] : a.materials) materials[id].second = &m;
    if (!materials.empty()) {
      text_table stocks({"MATERIAL", "QUANTITY", "QUALITY", "AGE", "SHORTAGE"},
                        {align::left, align::right, align::left, align::right, align::left});
      for (const auto& [id, pair] : materials) {
        const auto* s = pair.first;
        const auto* m = pair.second;
        std::vector<std::string> row{id};
        if (s != nullptr) {
          row.push_back(with_unit(s->quantity, s->unit));
          row.emplace_back(to_string(s->q));
          row.push_back(format_span(now - s->receive_time));
        } else {
          row.push_back(with_unit(m->quantity, m->unit));
          row.emplace_back("-");
          row.push_back(format_span(now - m->at));
        }
        row.push_back(m != nullptr ? describe_shortage(*m, now) : "-");
        stocks.add_row(std::move(row));
      }
      out += stocks.render("  ");
    }
    if (a.lines.empty() && materials.empty()) out += "  (no telemetry yet)\n";
  }
  return out;
}

}  // namespace plant::watch
