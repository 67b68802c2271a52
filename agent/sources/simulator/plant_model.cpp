#include "agent/sources/simulator/plant_model.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

namespace plant::sources {

namespace {

// State is integer throughout (quantities in milli-units, rates per hour, time in
// ms): floating point would let FMA contraction or x87 precision change the
// trajectory between architectures. Doubles appear only at the edges, as single
// operations that IEEE 754 rounds the same everywhere.
constexpr std::int64_t ms_per_hour = 3'600'000;
// Accumulators hold rate * permille * ms; one whole unit is this many of them.
constexpr std::int64_t acc_per_unit = ms_per_hour * 1000;
constexpr std::int64_t max_span_ms = 30ll * 24 * ms_per_hour;

struct material_kind {
  std::string_view name;
  std::string_view unit;
  std::int64_t rate_min;  // units per hour per fed line, nominal
  std::int64_t rate_max;
};

// Names stay <= 15 characters where we choose them, so the sample's copy fits
// the small-string buffer; "paint-base-ral7035" is the one fixed exception.
constexpr std::array<material_kind, 8> kinds{{
    {"steel-coil-1.2", "kg", 40, 160},
    {"resin-pellets", "kg", 10, 60},
    {"paint-base-ral7035", "l", 3, 20},
    {"cardboard-500", "pcs", 60, 300},
    {"screws-m6", "pcs", 600, 3600},
    {"adhesive-pu", "kg", 1, 8},
    {"label-roll", "pcs", 1, 6},
    {"stretch-film", "m", 30, 200},
}};

std::int64_t scale_permille(std::int64_t value, std::int64_t permille) {
  // Split so that value * permille cannot overflow for large lots.
  return (value / 1000) * permille + (value % 1000) * permille / 1000;
}

std::uint64_t saturating_add53(std::uint64_t a, std::uint64_t b) {
  constexpr std::uint64_t one = 1ull << 53;
  return a + b >= one ? one : a + b;
}

// Probability of an event with `per_hour` rate within one tick; for small ticks
// the linear form is what a Poisson process gives, and for ticks of an hour or
// more the value saturates at 1 instead of wrapping.
std::uint64_t per_tick(double per_hour, std::int64_t tick_ms) {
  const double hours = static_cast<double>(tick_ms) / static_cast<double>(ms_per_hour);
  return threshold53(per_hour * hours);
}

void check(bool ok, const char* key, const std::string& reason) {
  if (!ok) throw std::invalid_argument(std::string(key) + ": " + reason);
}

void check_range(double value, double lo, double hi, const char* key) {
  check(value >= lo && value <= hi, key,
        "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + std::to_string(value));
}

void check_span(std::chrono::milliseconds value, std::int64_t lo_ms, const char* key) {
  check(value.count() >= lo_ms && value.count() <= max_span_ms, key,
        "must be between " + std::to_string(lo_ms) + " ms and 30 days, got " + std::to_string(value.count()) + " ms");
}

void check_order(std::chrono::milliseconds lo, std::chrono::milliseconds hi, const char* lo_key, const char* hi_key) {
  check(lo <= hi, lo_key,
        "must not exceed " + std::string(hi_key) + " (" + std::to_string(lo.count()) + " ms > " +
            std::to_string(hi.count()) + " ms)");
}

void validate(const model_params& p) {
  check(p.lines >= 1 && p.lines <= 100000, "lines", "must be between 1 and 100000, got " + std::to_string(p.lines));
  check(p.materials >= 0 && p.materials <= 100000, "materials",
        "must be between 0 and 100000, got " + std::to_string(p.materials));
  check(p.tick.count() >= 1 && p.tick.count() <= 24 * ms_per_hour, "tick",
        "must be between 1 ms and 24 h, got " + std::to_string(p.tick.count()) + " ms");
  check_range(p.sensor_noise, 0.0, 0.1, "sensor_noise");
  check_range(p.late_delivery_probability, 0.0, 1.0, "late_delivery_probability");
  check_range(p.severe_late_share, 0.0, 1.0, "severe_late_share");
  check_span(p.delivery_period_min, 60'000, "delivery_period_min");
  check_span(p.delivery_period_max, 60'000, "delivery_period_max");
  check_order(p.delivery_period_min, p.delivery_period_max, "delivery_period_min", "delivery_period_max");
  check_range(p.rate_changes_per_hour, 0.0, 3600.0, "rate_changes_per_hour");
  check_range(p.rate_change_range, 0.0, 0.9, "rate_change_range");
  check_range(p.bursts_per_hour, 0.0, 3600.0, "bursts_per_hour");
  check_range(p.burst_factor, 1.0, 10.0, "burst_factor");
  check_span(p.burst_duration, 0, "burst_duration");
  check_range(p.faults_per_hour, 0.0, 3600.0, "faults_per_hour");
  check_range(p.idles_per_hour, 0.0, 3600.0, "idles_per_hour");
  check_range(p.blocks_per_hour, 0.0, 3600.0, "blocks_per_hour");
  check_span(p.repair_min, 0, "repair_min");
  check_span(p.repair_max, 0, "repair_max");
  check_order(p.repair_min, p.repair_max, "repair_min", "repair_max");
  check_span(p.idle_min, 0, "idle_min");
  check_span(p.idle_max, 0, "idle_max");
  check_order(p.idle_min, p.idle_max, "idle_min", "idle_max");
  check_span(p.blocked_min, 0, "blocked_min");
  check_span(p.blocked_max, 0, "blocked_max");
  check_order(p.blocked_min, p.blocked_max, "blocked_min", "blocked_max");
  check(p.maintenance_interval.count() == 0 ||
            (p.maintenance_interval.count() >= 60'000 && p.maintenance_interval.count() <= max_span_ms),
        "maintenance_interval",
        "must be 0 (none) or between 60000 ms and 30 days, got " + std::to_string(p.maintenance_interval.count()) +
            " ms");
  check_span(p.maintenance_min, 0, "maintenance_min");
  check_span(p.maintenance_max, 0, "maintenance_max");
  check_order(p.maintenance_min, p.maintenance_max, "maintenance_min", "maintenance_max");
  check_range(p.reject_share, 0.0, 0.5, "reject_share");
}

const model_params& validated(const model_params& p) {
  validate(p);
  return p;
}

}  // namespace

plant_model::plant_model(const model_params& params)
    : params_(validated(params)),
      rng_(params.seed),
      // A separate key for sensor noise: emit() hashes it instead of drawing from
      // rng_, so whether or how often emit() is called never changes the plant.
      noise_key_(mix64(params.seed ^ 0x6E6F6973655F6B65ull)),
      tick_ms_(params.tick.count()),
      start_time_(params.start_time) {
  t_fault_ = per_tick(params_.faults_per_hour, tick_ms_);
  t_idle_ = saturating_add53(t_fault_, per_tick(params_.idles_per_hour, tick_ms_));
  t_blocked_ = saturating_add53(t_idle_, per_tick(params_.blocks_per_hour, tick_ms_));
  t_speed_change_ = per_tick(6.0, tick_ms_);
  t_rate_change_ = per_tick(params_.rate_changes_per_hour, tick_ms_);
  t_burst_ = per_tick(params_.bursts_per_hour, tick_ms_);
  t_late_ = threshold53(params_.late_delivery_probability);
  t_severe_ = threshold53(params_.severe_late_share);
  rate_range_permille_ = static_cast<std::int64_t>(params_.rate_change_range * 1000.0);
  burst_permille_ = static_cast<std::int64_t>(params_.burst_factor * 1000.0);

  const auto line_total = static_cast<std::size_t>(params_.lines);
  lines_.resize(line_total);
  for (std::size_t i = 0; i < line_total; ++i) {
    line_rt& line = lines_[i];
    line.name = "line-" + std::to_string(i + 1);
    line.parts_per_hour = rng_.uniform(600, 3000);
    const auto reject_ppm =
        static_cast<std::int64_t>(params_.reject_share * static_cast<double>(rng_.uniform(500, 1500)) * 1000.0);
    line.reject_ppm = std::min<std::int64_t>(reject_ppm, 1'000'000);
    line.reject_threshold = threshold53(static_cast<double>(line.reject_ppm) / 1e6);
    const std::int64_t interval = params_.maintenance_interval.count();
    // Staggered so that lines do not all stop for maintenance at once.
    line.next_maintenance_ms = interval > 0 ? rng_.uniform(interval / 4, interval) : 0;
  }

  const auto material_total = static_cast<std::size_t>(params_.materials);
  materials_.resize(material_total);
  for (std::size_t i = 0; i < material_total; ++i) {
    material_rt& m = materials_[i];
    const material_kind& kind = kinds[i % kinds.size()];
    m.name = i < kinds.size() ? std::string(kind.name) : "material-" + std::to_string(i + 1);
    m.unit = std::string(kind.unit);
    // A fixed mapping (not seeded) so that a plant's topology depends only on its size.
    m.lines.push_back(i % line_total);
    if (line_total >= 2 && i % 3 == 1) m.lines.push_back((i + 1) % line_total);
    for (std::size_t line : m.lines) {
      lines_[line].inputs.push_back(i);
      feed f;
      f.material = i;
      f.line = line;
      f.rate = rng_.uniform(kind.rate_min * 1000, kind.rate_max * 1000);
      m.nominal_rate += f.rate;
      feeds_.push_back(f);
    }
    m.period_ms = rng_.uniform(params_.delivery_period_min.count(), params_.delivery_period_max.count());
    // A lot covers a period at full nominal use; lines run ~85% of the time, so
    // stock drifts up to capacity and only a late delivery empties the store.
    m.lot = std::max<std::int64_t>(1000, m.nominal_rate / 60 * m.period_ms / 60'000);
    m.capacity = scale_permille(m.lot, 1800);
    m.qty = scale_permille(m.lot, rng_.uniform(500, 1500));
    m.noise_half = static_cast<std::int64_t>(static_cast<double>(m.capacity) * params_.sensor_noise);
    m.next_due_ms = rng_.uniform(m.period_ms / 5, m.period_ms);
    schedule_next_delivery(m);
  }
}

void plant_model::schedule_next_delivery(material_rt& m) {
  std::int64_t delay = 0;
  if (rng_.chance(t_late_)) {
    delay = rng_.chance(t_severe_) ? rng_.uniform(m.period_ms * 8 / 10, m.period_ms * 2)
                                   : rng_.uniform(m.period_ms / 10, m.period_ms * 6 / 10);
  }
  m.next_arrival_ms = m.next_due_ms + delay;
}

std::vector<plant_model::open_order> plant_model::open_orders(std::size_t material) const {
  const material_rt& m = materials_[material];
  const double lot = static_cast<double>(m.lot) / 1000.0;
  return {{lot, start_time_ + m.next_due_ms}, {lot, start_time_ + m.next_due_ms + m.period_ms}};
}

void plant_model::deliver(material_rt& m) {
  const std::int64_t amount = scale_permille(m.lot, rng_.uniform(900, 1100));
  const std::int64_t room = std::max<std::int64_t>(0, m.capacity - m.qty);
  m.qty += std::min(amount, room);
  ++m.deliveries;
  if (m.next_arrival_ms > m.next_due_ms) ++m.late_deliveries;
  // The schedule stays on its grid: after a very late lot the next one may be
  // due already and arrives at once, as a supplier's backlog would.
  m.next_due_ms += m.period_ms;
  schedule_next_delivery(m);
}

void plant_model::advance_line(line_rt& line, bool starved) {
  if (line.base != line_state::running) {
    line.remaining_ms -= tick_ms_;
    if (line.remaining_ms <= 0) line.base = line_state::running;
  }
  const std::int64_t interval = params_.maintenance_interval.count();
  if (interval > 0 && elapsed_ms_ >= line.next_maintenance_ms) {
    // Planned windows happen whatever the line is doing; a fault is fixed in them.
    line.base = line_state::maintenance;
    line.remaining_ms = rng_.uniform(params_.maintenance_min.count(), params_.maintenance_max.count());
    while (line.next_maintenance_ms <= elapsed_ms_) line.next_maintenance_ms += interval;
  } else if (line.base == line_state::running && !starved) {
    // A starved line is not running, so it can neither fault nor block.
    const std::uint64_t r = rng_.next53();
    if (r < t_fault_) {
      line.base = line_state::fault;
      line.remaining_ms = rng_.uniform(params_.repair_min.count(), params_.repair_max.count());
    } else if (r < t_idle_) {
      line.base = line_state::idle;
      line.remaining_ms = rng_.uniform(params_.idle_min.count(), params_.idle_max.count());
    } else if (r < t_blocked_) {
      line.base = line_state::blocked;
      line.remaining_ms = rng_.uniform(params_.blocked_min.count(), params_.blocked_max.count());
    }
  }
  if (rng_.chance(t_speed_change_)) line.speed_permille = rng_.uniform(880, 1040);
  line.running_this_tick = line.base == line_state::running && !starved;
}

void plant_model::step() {
  ++ticks_;
  elapsed_ms_ += tick_ms_;

  // Deliveries first, so a lot arriving this tick lets a starved line run in it.
  for (material_rt& m : materials_) {
    while (m.next_arrival_ms <= elapsed_ms_) deliver(m);
  }

  for (line_rt& line : lines_) {
    bool starved = false;
    for (std::size_t input : line.inputs) starved = starved || materials_[input].qty == 0;
    advance_line(line, starved);
  }

  for (feed& f : feeds_) {
    if (rng_.chance(t_rate_change_)) {
      f.level_permille = rng_.uniform(1000 - rate_range_permille_, 1000 + rate_range_permille_);
    }
    if (f.burst_left_ms > 0) {
      f.burst_left_ms -= tick_ms_;
    } else if (rng_.chance(t_burst_)) {
      const std::int64_t mean = params_.burst_duration.count();
      f.burst_left_ms = rng_.uniform(mean / 2, mean + mean / 2);
    }
    const line_rt& line = lines_[f.line];
    if (!line.running_this_tick) continue;
    std::int64_t rate = f.rate * f.level_permille / 1000;
    if (f.burst_left_ms > 0) rate = rate * burst_permille_ / 1000;
    f.acc += rate * line.speed_permille * tick_ms_;
    const std::int64_t used = f.acc / acc_per_unit;
    f.acc %= acc_per_unit;
    material_rt& m = materials_[f.material];
    m.qty = std::max<std::int64_t>(0, m.qty - used);
  }

  for (line_rt& line : lines_) {
    if (!line.running_this_tick) continue;
    line.part_acc += line.parts_per_hour * line.speed_permille * tick_ms_;
    const std::int64_t parts = line.part_acc / acc_per_unit;
    line.part_acc %= acc_per_unit;
    std::uint64_t rejects = 0;
    for (std::int64_t i = 0; i < parts; ++i) rejects += rng_.chance(line.reject_threshold) ? 1 : 0;
    line.rejects += rejects;
    line.good += static_cast<std::uint64_t>(parts) - rejects;
  }

  for (std::size_t i = 0; i < materials_.size(); ++i) track_stockout(i);

  // Starvation is decided on the end-of-tick stock, so the emitted state and the
  // emitted (true) quantity always agree.
  for (line_rt& line : lines_) {
    bool starved = false;
    for (std::size_t input : line.inputs) starved = starved || materials_[input].qty == 0;
    line.reported = starved ? line_state::starved : line.base;
    line.good_rate_milli = line.reported == line_state::running
                               ? line.parts_per_hour * line.speed_permille * (1'000'000 - line.reject_ppm) / 60'000'000
                               : 0;
  }
}

void plant_model::track_stockout(std::size_t index) {
  material_rt& m = materials_[index];
  if (m.qty == 0 && !m.out) {
    m.out = true;
    m.open_event = stockout_seq_++;
    if (params_.max_stockout_events == 0) {
      ++stockouts_dropped_;
      return;
    }
    if (stockouts_.size() >= params_.max_stockout_events) {
      stockouts_.pop_front();
      ++stockouts_dropped_;
    }
    stockout_event event;
    event.material = index;
    event.zero_at = now();
    event.late_delivery = m.next_due_ms <= elapsed_ms_;  // due, yet not arrived
    stockouts_.push_back(event);
  } else if (m.qty > 0 && m.out) {
    m.out = false;
    const std::uint64_t first = stockout_seq_ - stockouts_.size();
    if (m.open_event >= first) stockouts_[static_cast<std::size_t>(m.open_event - first)].recovered_at = now();
  }
}

std::int64_t plant_model::noisy_milli(std::size_t index) const {
  const material_rt& m = materials_[index];
  // An empty bin reads empty: noise around zero would hide the stockout the
  // shortage benchmark is looking for.
  if (m.qty == 0 || m.noise_half == 0) return m.qty;
  const std::uint64_t h = mix64(mix64(noise_key_ ^ ticks_) ^ static_cast<std::uint64_t>(index));
  const auto span = static_cast<std::uint64_t>(2 * m.noise_half + 1);
  // Two uniforms averaged: a triangular error, more often small than large.
  const auto a = static_cast<std::int64_t>((h & 0xFFFFFFFFull) % span);
  const auto b = static_cast<std::int64_t>((h >> 32) % span);
  const std::int64_t noise = (a + b - 2 * m.noise_half) / 2;
  return std::max<std::int64_t>(0, m.qty + noise);
}

void plant_model::emit(std::vector<sample>& out, epoch_ms receive_time) const {
  const epoch_ms source_time = now();
  for (const line_rt& line : lines_) {
    sample& s = out.emplace_back();
    s.kind = sample::kind_t::line;
    s.name = line.name;
    s.q = quality::good;
    s.source_time = source_time;
    s.receive_time = receive_time;
    s.state = line.reported;
    s.good_count = line.good;
    s.reject_count = line.rejects;
    s.good_rate = static_cast<double>(line.good_rate_milli) / 1000.0;
  }
  for (std::size_t i = 0; i < materials_.size(); ++i) {
    const material_rt& m = materials_[i];
    sample& s = out.emplace_back();
    s.kind = sample::kind_t::stock;
    s.name = m.name;
    s.q = quality::good;
    s.source_time = source_time;
    s.receive_time = receive_time;
    s.quantity = static_cast<double>(noisy_milli(i)) / 1000.0;
    s.unit = m.unit;
    s.location = location_;
  }
}

double plant_model::true_quantity(std::size_t material) const {
  return static_cast<double>(materials_[material].qty) / 1000.0;
}

double plant_model::reported_quantity(std::size_t material) const {
  return static_cast<double>(noisy_milli(material)) / 1000.0;
}

double plant_model::capacity(std::size_t material) const {
  return static_cast<double>(materials_[material].capacity) / 1000.0;
}

double plant_model::lot_size(std::size_t material) const {
  return static_cast<double>(materials_[material].lot) / 1000.0;
}

double plant_model::nominal_rate_per_hour(std::size_t material) const {
  return static_cast<double>(materials_[material].nominal_rate) / 1000.0;
}

std::chrono::milliseconds plant_model::delivery_period(std::size_t material) const {
  return std::chrono::milliseconds{materials_[material].period_ms};
}

}  // namespace plant::sources
