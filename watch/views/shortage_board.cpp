#include "watch/views/shortage_board.hpp"

#include <algorithm>
#include <tuple>

#include "common/wire/json_writer.hpp"
#include "watch/views/text_table.hpp"
#include "common/wire/time_format.hpp"

namespace plant::watch {

using namespace plant::wire;

namespace {

bool is_short(stock_status s) {
  return s == stock_status::low || s == stock_status::critical || s == stock_status::out;
}

// The sort key: group 0 = out, 1 = stockout projected, 2 = not consuming (no projection).
auto urgency_key(const shortage_entry& e) {
  const int group = e.status.status == stock_status::out ? 0 : (e.status.projected_stockout != 0 ? 1 : 2);
  const epoch_ms when = group == 1 ? e.status.projected_stockout : 0;
  const int severity = -static_cast<int>(e.status.status);  // critical (3) before low (2)
  return std::tuple<int, epoch_ms, int, const std::string&, const std::string&, const std::string&>(
      group, when, severity, e.site, e.agent, e.material);
}

std::string with_unit(double quantity, const std::string& unit) {
  return unit.empty() ? format_number(quantity) : format_number(quantity) + " " + unit;
}

std::string feeds_cell(const material_view& m) {
  std::vector<std::string> items;
  auto starved = [&](const std::string& line) {
    return std::find(m.starved_lines.begin(), m.starved_lines.end(), line) != m.starved_lines.end();
  };
  for (const auto& line : m.lines) items.push_back(starved(line) ? line + " (starved)" : line);
  // A starved line the material is not configured to feed still matters to ops.
  for (const auto& line : m.starved_lines) {
    if (std::find(m.lines.begin(), m.lines.end(), line) == m.lines.end()) items.push_back(line + " (starved)");
  }
  if (items.empty()) return "-";
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string stockout_cell(const material_view& m, epoch_ms now) {
  if (m.status == stock_status::out) return "now";
  if (m.projected_stockout == 0) return "-";
  const std::int64_t left = m.projected_stockout - now;
  return left > 0 ? "in " + format_span(left) : "due";
}

// What is on order and why it does not help: "late_receipt, 1 late (3000 kg)", "+500 kg, next in 2h".
std::string supply_cell(const material_view& m, epoch_ms now) {
  std::vector<std::string> parts;
  if (!m.reason.empty()) parts.push_back(m.reason);
  if (m.late_receipts > 0) parts.push_back(std::to_string(m.late_receipts) + " late (" + with_unit(m.late_quantity, m.unit) + ")");
  if (m.incoming > 0) parts.push_back("+" + with_unit(m.incoming, m.unit));
  if (m.next_receipt > now) parts.push_back("next in " + format_span(m.next_receipt - now));
  if (parts.empty()) return "-";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string helpers_cell(const std::vector<shortage_helper>& helpers) {
  if (helpers.empty()) return "-";
  std::string out;
  for (const auto& h : helpers) {
    out += (out.empty() ? "" : ", ") + h.site + "/" + h.agent + " " + with_unit(h.quantity, h.unit);
  }
  return out;
}

}  // namespace

bool has_surplus(const material_view& m, double margin) {
  if (m.status != stock_status::ok) return false;
  if (m.reorder_point > 0) return m.quantity > m.reorder_point * (1.0 + margin);
  return m.quantity > 2.0 * m.safety_stock;
}

std::vector<shortage_entry> find_shortages(const board_state& board, double surplus_margin) {
  std::vector<shortage_entry> result;
  for (const auto& [key, a] : board.agents) {
    for (const auto& [material, m] : a.materials) {
      if (!is_short(m.status)) continue;
      shortage_entry entry{a.site, a.agent, material, m, {}};
      for (const auto& [other_key, other] : board.agents) {
        if (other_key == key) continue;
        auto it = other.materials.find(material);
        if (it == other.materials.end() || !has_surplus(it->second, surplus_margin)) continue;
        entry.helpers.push_back({other.site, other.agent, it->second.quantity, it->second.unit});
      }
      std::sort(entry.helpers.begin(), entry.helpers.end(), [](const shortage_helper& x, const shortage_helper& y) {
        return std::tie(y.quantity, x.site, x.agent) < std::tie(x.quantity, y.site, y.agent);
      });
      result.push_back(std::move(entry));
    }
  }
  std::sort(result.begin(), result.end(),
            [](const shortage_entry& x, const shortage_entry& y) { return urgency_key(x) < urgency_key(y); });
  return result;
}

std::string render_shortage_table(const std::vector<shortage_entry>& shortages, epoch_ms now) {
  std::string out = "plant-watch shortages  " + format_rfc3339_ms(now) + "  " + std::to_string(shortages.size()) +
                    (shortages.size() == 1 ? " material short\n" : " materials short\n");
  if (shortages.empty()) return out;
  using align = text_table::align;
  text_table table({"STATUS", "SITE", "AGENT", "MATERIAL", "QUANTITY", "RATE/H", "STOCKOUT", "SUPPLY", "FEEDS",
                    "WHO CAN HELP"},
                   {align::left, align::left, align::left, align::left, align::right, align::right, align::left,
                    align::left, align::left, align::left});
  for (const auto& e : shortages) {
    table.add_row({std::string(to_string(e.status.status)), e.site, e.agent, e.material,
                   with_unit(e.status.quantity, e.status.unit), format_number(e.status.rate, 1),
                   stockout_cell(e.status, now), supply_cell(e.status, now), feeds_cell(e.status),
                   helpers_cell(e.helpers)});
  }
  return out + table.render();
}

std::string shortage_json(const shortage_entry& e) {
  json_writer w;
  const material_view& m = e.status;
  w.begin_object().key("shortage").begin_object();
  w.field("site", e.site);
  w.field("agent", e.agent);
  w.field("material", e.material);
  w.field("status", to_string(m.status));
  w.field("quantity", m.quantity);
  w.field("unit", m.unit);
  w.field("rate", m.rate);
  w.key("projected_stockout");
  if (m.projected_stockout == 0) {
    w.null();
  } else {
    w.value(format_rfc3339_ms(m.projected_stockout));
  }
  w.field("at", format_rfc3339_ms(m.at));
  w.key("lines").begin_array();
  for (const auto& line : m.lines) w.value(line);
  w.end_array();
  w.key("starved_lines").begin_array();
  for (const auto& line : m.starved_lines) w.value(line);
  w.end_array();
  w.field("reorder_point", m.reorder_point);
  w.field("safety_stock", m.safety_stock);
  w.field("incoming", m.incoming);
  w.key("next_receipt");
  if (m.next_receipt == 0) w.null(); else w.value(format_rfc3339_ms(m.next_receipt));
  w.key("late_receipts").begin_object().field("count", m.late_receipts).field("quantity", m.late_quantity).end_object();
  w.key("covered_until");
  if (m.covered_until == 0) w.null(); else w.value(format_rfc3339_ms(m.covered_until));
  w.key("reason");
  if (m.reason.empty()) w.null(); else w.value(m.reason);
  w.key("helpers").begin_array();
  for (const auto& h : e.helpers) {
    w.begin_object();
    w.field("site", h.site);
    w.field("agent", h.agent);
    w.field("quantity", h.quantity);
    w.field("unit", h.unit);
    w.end_object();
  }
  w.end_array();
  w.end_object().end_object();
  return w.take();
}

}  // namespace plant::watch
