#include "agent/edge/shortage_detector.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace plant::edge {

namespace {

constexpr double ms_per_hour = 3'600'000.0;

double to_hours(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / ms_per_hour; }

bool stands_still(line_state state) { return state != line_state::running && state != line_state::unknown; }

bool same_row(const open_receipt& a, const open_receipt& b) {
  return a.quantity == b.quantity && a.due == b.due && a.order == b.order;
}
bool same_row(const planned_demand& a, const planned_demand& b) {
  return a.quantity == b.quantity && a.from == b.from && a.to == b.to;
}

// Puts `rows` in place of `source`'s previous ones and rebuilds `merged` (every source's
// rows together); true when that source's rows changed.
template <typename Row>
bool replace_rows(std::unordered_map<std::string, std::vector<Row>>& by_source, const std::string& source,
                  std::vector<Row> rows, std::vector<Row>& merged) {
  auto& mine = by_source[source];
  const bool changed = mine.size() != rows.size() ||
                       !std::equal(mine.begin(), mine.end(), rows.begin(),
                                   [](const Row& a, const Row& b) { return same_row(a, b); });
  mine = std::move(rows);
  merged.clear();
  for (const auto& [name, list] : by_source) merged.insert(merged.end(), list.begin(), list.end());
  return changed;
}

}  // namespace

shortage_detector::shortage_detector(const std::vector<config::material_config>& materials,
                                     const config::shortage_section& section, const detector_options& options)
    : options_(options),
      dwell_(options.dwell.count() > 0 ? options.dwell : 2 * section.rate_half_life),
      late_grace_(section.late_grace) {
  estimator_params params;
  params.rate_half_life = section.rate_half_life;
  materials_.reserve(materials.size());
  for (const config::material_config& c : materials) {
    if (material_index_.count(c.id) != 0) continue;
    const std::size_t index = materials_.size();
    material_index_.emplace(c.id, index);
    material_rt& m = materials_.emplace_back(c, c.unit, stock_estimator(params));
    m.safety_stock = c.safety_stock;
    const auto margin = c.margin.value_or(section.margin);
    m.low_horizon_h = to_hours(c.lead_time + margin);
    // Critical means "an order placed now arrives too late"; without a lead
    // time, half the margin still leaves a step between low and out.
    m.critical_horizon_h = to_hours(c.critical_horizon.value_or(c.lead_time.count() > 0 ? c.lead_time : margin / 2));
    for (const std::string& line_id : c.lines) {
      auto [it, added] = line_index_.emplace(line_id, lines_.size());
      if (added) lines_.push_back(line_rt{line_id, line_state::unknown, false, 0, {}});
      line_rt& line = lines_[it->second];
      if (std::find(line.materials.begin(), line.materials.end(), index) == line.materials.end()) {
        line.materials.push_back(index);
        m.lines.push_back(it->second);
      }
    }
  }
}

std::vector<shortage_alert> shortage_detector::observe(const sample& s) {
  std::vector<shortage_alert> out;
  observe(s, out);
  return out;
}

void shortage_detector::observe(const sample& s, std::vector<shortage_alert>& out) {
  if (s.kind == sample::kind_t::stock) {
    const auto it = material_index_.find(s.name);
    if (it == material_index_.end()) {
      ++counters_.unknown_names;
      return;
    }
    observe_stock(materials_[it->second], s, out);
  } else {
    const auto it = line_index_.find(s.name);
    if (it == line_index_.end()) {
      ++counters_.unknown_names;
      return;
    }
    observe_line(lines_[it->second], s, out);
  }
}

double shortage_detector::running_share(const material_rt& m, bool projected) const {
  if (m.lines.empty()) return 1.0;
  std::size_t running = 0;
  for (std::size_t index : m.lines) {
    const line_state state = lines_[index].state;
    running += !stands_still(state) || (projected && state == line_state::starved) ? 1 : 0;
  }
  return static_cast<double>(running) / static_cast<double>(m.lines.size());
}

void shortage_detector::observe_line(line_rt& line, const sample& s, std::vector<shortage_alert>& out) {
  ++counters_.line_samples;
  if (s.q != quality::good) {
    ++counters_.ignored_quality;
    return;
  }
  if (line.reported && s.source_time < line.at) {
    ++counters_.ignored_time;
    return;
  }
  const bool stood_still = line.reported && stands_still(line.state);
  line.reported = true;
  line.at = s.source_time;
  line.state = s.state;
  for (std::size_t index : line.materials) {
    material_rt& m = materials_[index];
    m.estimator.set_activity(s.source_time, running_share(m, false), running_share(m, true));
    // The stock reading that says "out" usually comes before the line that
    // stops for want of it; tell ops when a line joins (or leaves) the starved.
    if (m.status == stock_status::out && stood_still != stands_still(line.state)) {
      ++counters_.starved_updates;
      out.push_back(shortage_alert{describe(m), m.status, false});
    }
  }
}

void shortage_detector::observe_stock(material_rt& m, const sample& s, std::vector<shortage_alert>& out) {
  ++counters_.stock_samples;
  if (m.unit.empty() && !s.unit.empty()) m.unit = s.unit;
  const observation result = m.estimator.observe(s.source_time, s.quantity, s.q);
  switch (result.verdict) {
    case reading_verdict::ignored_quality:
      ++counters_.ignored_quality;
      return;
    case reading_verdict::ignored_time:
      ++counters_.ignored_time;
      return;
    case reading_verdict::ignored_value:
      ++counters_.ignored_value;
      return;
    case reading_verdict::accepted:
    case reading_verdict::held:
      break;
  }
  const stock_estimate& e = m.estimator.estimate();
  // A held reading may still have settled an earlier one; decide whenever the
  // accepted series moved on.
  if (result.delivery) m.last_delivery_at = e.at;
  if (!e.has_reading || (m.decided && e.at == m.decided_at)) return;
  decide(m, result.delivery, out);
}

supply_projection shortage_detector::project(const material_rt& m, double rate, double safety,
                                             const std::vector<open_receipt>* receipts) const {
  const stock_estimate& e = m.estimator.estimate();
  supply_input in;
  in.now = e.at;
  in.level = std::max(0.0, e.level);
  in.rate = rate;
  in.safety_stock = safety;
  in.lead_time_ms = m.config.lead_time.count();
  in.late_grace_ms = late_grace_.count();
  in.last_delivery_at = m.last_delivery_at;
  in.receipts = receipts != nullptr ? receipts : &m.receipts;
  in.demand = &m.demand;
  return project_supply(in);
}

void shortage_detector::decide(material_rt& m, bool delivered, std::vector<shortage_alert>& out) {
  const stock_estimate& e = m.estimator.estimate();
  constexpr double never = std::numeric_limits<double>::infinity();
  // The safety stock: as configured, or from the variability of consumption and lead time.
  double safety = m.config.safety_stock;
  if (m.config.service_level) {
    safety = variability_safety_stock(*m.config.service_level, e.rate, e.rate_spread * e.running_share,
                                      to_hours(m.config.lead_time), to_hours(m.config.lead_time_sd));
  }
  m.safety_stock = safety;
  const auto hours_until = [&](const std::optional<epoch_ms>& t) {
    return t ? static_cast<double>(*t - e.at) / ms_per_hour : never;
  };
  // On hand minus consumption plus what is on order (see supply_projection). Without
  // receipts or a plan this is level / rate, exactly as the estimator projects it.
  m.supply = project(m, e.rate_ready ? e.rate : 0.0, safety);
  const bool has_supply = !m.receipts.empty() || !m.demand.empty();
  const double left_h = has_supply ? hours_until(m.supply.stockout)
                                   : (e.projected_stockout ? hours_until(e.projected_stockout) : never);
  // Leaving low or critical without a delivery needs the stock to outlast the
  // exit horizon even if the lines ran without a stop from now on: a pause of
  // the lines only postpones a stockout, it must not end the episode (and start
  // a new one when they run again).
  const double left_running_h =
      e.rate_running <= 0.0 ? never
      : has_supply          ? hours_until(project(m, e.rate_running, safety).stockout)
                            : std::max(0.0, e.level) / e.rate_running;
  const double left_exit_h = std::min(left_h, left_running_h);
  const double empty = m.estimator.empty_level();
  // The reorder point is a floor on the inventory position (on hand + on order), as
  // ERP planners use it: an order already placed answers it.
  const double reorder = m.config.reorder_point.value_or(0.0) - m.supply.on_order;
  // A late order matters when the stock needs it: without it (and without any other
  // late one) the material would be short. Then it is at least low at once, even while
  // the grace still counts it; a late lot the plant does not need yet is no alarm.
  bool late = false;
  if (m.supply.late_receipts > 0) {
    std::vector<open_receipt> on_time;
    for (const auto& r : m.receipts)
      if (r.due > e.at || m.last_delivery_at >= r.due) on_time.push_back(r);
    const double left_without_h = hours_until(project(m, e.rate_ready ? e.rate : 0.0, safety, &on_time).stockout);
    late = left_without_h <= m.low_horizon_h || e.level < m.config.reorder_point.value_or(0.0);
  }
  const double horizon_exit = options_.horizon_exit_factor;
  const double stock_exit = options_.stock_exit_factor;

  // `enter` is the status the strict thresholds give; `stay` the one the relaxed
  // (exit) thresholds give. stay >= enter always; the gap between them is the
  // hysteresis band.
  stock_status enter = stock_status::ok;
  if (e.quantity <= empty) {
    enter = stock_status::out;
  } else if (left_h <= m.critical_horizon_h) {
    enter = stock_status::critical;
  } else if (left_h <= m.low_horizon_h || e.level < safety || e.level < reorder || late) {
    enter = stock_status::low;
  }
  stock_status stay = stock_status::ok;
  if (e.quantity <= 2.0 * empty) {
    stay = stock_status::out;
  } else if (left_exit_h <= horizon_exit * m.critical_horizon_h) {
    stay = stock_status::critical;
  } else if (left_exit_h <= horizon_exit * m.low_horizon_h || e.level <= stock_exit * safety ||
             e.level <= stock_exit * reorder || late) {
    stay = stock_status::low;
  }
  stay = std::max(stay, enter);

  const stock_status previous = m.status;
  stock_status next = previous;
  if (!m.decided || previous == stock_status::unknown) {
    next = enter;
    m.exit_since.reset();
  } else if (enter > previous) {
    next = enter;
    m.exit_since.reset();
  } else if (delivered && stay < previous) {
    // The cause is gone, not just a noisy reading: no dwell. The relaxed
    // thresholds still apply, so a lot that barely lifts the stock above them
    // does not end the episode.
    next = stay;
    m.exit_since.reset();
  } else if (stay < previous) {
    if (!m.exit_since) m.exit_since = e.at;
    if (e.at - *m.exit_since >= dwell_.count()) {
      next = stay;
      m.exit_since.reset();
    }
  } else {
    m.exit_since.reset();
  }
  m.decided = true;
  m.decided_at = e.at;
  m.status = next;
  if (next == previous) return;
  if (previous == stock_status::unknown && next == stock_status::ok) return;
  ++counters_.changes;
  const bool cleared = next == stock_status::ok;
  if (cleared) ++counters_.cleared;
  if (previous == stock_status::ok || previous == stock_status::unknown) ++counters_.raised;
  out.push_back(shortage_alert{describe(m), previous, cleared});
}

material_status shortage_detector::describe(const material_rt& m) const {
  const stock_estimate& e = m.estimator.estimate();
  material_status s;
  s.material = m.config.id;
  s.status = m.status;
  s.quantity = e.quantity;
  s.unit = m.unit;
  s.rate = e.rate;
  // With orders or a plan the stockout is the projected stock's, else the estimator's.
  const bool has_supply = !m.receipts.empty() || !m.demand.empty();
  s.projected_stockout = has_supply && m.decided ? m.supply.stockout.value_or(0) : e.projected_stockout.value_or(0);
  s.at = e.at;
  s.lines = m.config.lines;
  if (m.status == stock_status::out) {
    for (std::size_t index : m.lines) {
      const line_rt& line = lines_[index];
      if (line.reported && stands_still(line.state)) s.starved_lines.push_back(line.id);
    }
  }
  s.reorder_point = m.config.reorder_point.value_or(0.0);
  s.safety_stock = m.config.safety_stock;
  s.lead_time_ms = m.config.lead_time.count();
  s.rate_running = e.rate_running;
  s.running_share = e.running_share;
  s.safety_stock = m.safety_stock;
  s.incoming = m.supply.incoming;
  s.next_receipt = m.supply.next_receipt;
  s.late_receipts = m.supply.late_receipts;
  s.late_quantity = m.supply.late_quantity;
  s.covered_until = m.supply.covered_until.value_or(0);
  s.reason = m.status == stock_status::ok || m.status == stock_status::unknown ? shortage_reason::none
                                                                                : reason_for(m.supply);
  return s;
}

void shortage_detector::observe_supply(const sources::supply_snapshot& snapshot, const std::string& source,
                                       std::vector<shortage_alert>& out) {
  const bool receipts = snapshot.kind == sources::supply_snapshot::kind_t::receipts;
  std::vector<std::vector<open_receipt>> new_receipts(receipts ? materials_.size() : 0);
  std::vector<std::vector<planned_demand>> new_demand(receipts ? 0 : materials_.size());
  for (const auto& row : snapshot.rows) {
    const auto it = material_index_.find(row.material);
    if (it == material_index_.end()) {
      ++counters_.unknown_names;
      continue;
    }
    if (receipts) {
      new_receipts[it->second].push_back(open_receipt{row.quantity, row.due, row.order, row.supplier});
    } else {
      new_demand[it->second].push_back(planned_demand{row.quantity, row.from, row.to});
    }
  }
  ++counters_.supply_snapshots;
  for (std::size_t i = 0; i < materials_.size(); ++i) {
    material_rt& m = materials_[i];
    const bool changed = receipts ? replace_rows(m.receipts_by_source, source, std::move(new_receipts[i]), m.receipts)
                                  : replace_rows(m.demand_by_source, source, std::move(new_demand[i]), m.demand);
    // Decided again at once (in the newest reading's time): an order placed or
    // cancelled changes the picture without waiting for the next stock reading. An
    // order that covers the shortage removes its cause like a delivery does, so the
    // dwell is skipped (the exit thresholds are not).
    if (changed && m.estimator.estimate().has_reading) decide(m, true, out);
  }
}

std::vector<material_status> shortage_detector::snapshot() const {
  std::vector<material_status> all;
  all.reserve(materials_.size());
  for (const material_rt& m : materials_) all.push_back(describe(m));
  return all;
}

std::optional<material_status> shortage_detector::status(std::string_view material) const {
  const auto it = material_index_.find(std::string(material));
  if (it == material_index_.end()) return std::nullopt;
  return describe(materials_[it->second]);
}

const stock_estimator* shortage_detector::estimator(std::string_view material) const {
  const auto it = material_index_.find(std::string(material));
  return it == material_index_.end() ? nullptr : &materials_[it->second].estimator;
}

}  // namespace plant::edge
