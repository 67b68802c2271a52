#include "agent/sources/simulator/simulator_source.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace plant::sources {

namespace {

plant_model make_model(const sources::simulator_settings& cfg, epoch_ms wall_start) {
  const std::string where = "simulator source \"" + cfg.common.name + "\": ";
  if (!(cfg.speed >= 0.0) || !std::isfinite(cfg.speed)) {
    throw std::invalid_argument(where + "speed: must be 0 or a positive number, got " + std::to_string(cfg.speed));
  }
  const auto interval = cfg.common.interval.count();
  if (interval < 1 || interval > 24ll * 3600 * 1000) {
    throw std::invalid_argument(where + "interval: must be between 1 ms and 24 h, got " +
                                std::to_string(interval) + " ms");
  }
  model_params p;
  p.seed = cfg.seed;
  p.lines = cfg.lines;
  p.materials = cfg.materials;
  p.tick = cfg.common.interval;
  p.start_time = wall_start;
  try {
    return plant_model(p);
  } catch (const std::invalid_argument& e) {
    // The model knows the key; only we know which source it belongs to.
    throw std::invalid_argument(where + e.what());
  }
}

}  // namespace

simulator_source::simulator_source(const sources::simulator_settings& cfg, epoch_ms wall_start)
    : name_(cfg.common.name),
      speed_(cfg.speed),
      wall_start_(wall_start),
      model_(make_model(cfg, wall_start)),
      target_(wall_start),
      receipts_(cfg.receipts) {
  if (speed_ > 0.0) {
    const double ms = static_cast<double>(cfg.common.interval.count()) / speed_;
    interval_ = std::chrono::milliseconds{static_cast<std::int64_t>(std::clamp(ms, 5.0, 1000.0))};
  }
}

poll_result simulator_source::poll(epoch_ms now) {
  poll_result result;
  const std::size_t per_tick = model_.samples_per_tick();
  const std::int64_t tick_ms = model_.tick().count();
  std::uint64_t ticks = 0;
  if (speed_ == 0.0) {
    ticks = std::max<std::size_t>(1, unthrottled_samples_per_poll / per_tick);
  } else {
    if (now > wall_start_) {
      // Computed from wall_start each time, never accumulated, so rounding cannot
      // drift and any split of wall time into polls reaches the same plant time.
      const double plant_elapsed = static_cast<double>(now - wall_start_) * speed_;
      const double limit = static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2);
      const epoch_ms target = wall_start_ + static_cast<std::int64_t>(std::min(plant_elapsed, limit));
      target_ = std::max(target_, target);  // a wall clock stepping back does not rewind the plant
    }
    const std::int64_t behind = target_ - model_.now();
    const auto due = static_cast<std::uint64_t>(behind > 0 ? behind / tick_ms : 0);
    const std::uint64_t cap = std::max<std::size_t>(1, max_samples_per_poll / per_tick);
    ticks = std::min(due, cap);
    if (due > cap) ++capped_polls_;
  }
  result.samples.reserve(static_cast<std::size_t>(ticks) * per_tick);
  for (std::uint64_t i = 0; i < ticks; ++i) {
    model_.step();
    model_.emit(result.samples, now);
  }
  lag_ms_ = speed_ == 0.0 ? 0 : std::max<std::int64_t>(0, target_ - model_.now());
  if (receipts_) {
    // The orders change only when a lot arrives (the schedule moves on), so a
    // snapshot is handed on then, and once at the start.
    std::vector<epoch_ms> due;
    supply_snapshot snapshot;
    snapshot.kind = supply_snapshot::kind_t::receipts;
    snapshot.file = name_;
    snapshot.read_at = now;
    for (std::size_t i = 0; i < model_.material_count(); ++i) {
      for (const auto& order : model_.open_orders(i)) {
        due.push_back(order.due);
        supply_row row;
        row.material = model_.material_name(i);
        row.quantity = order.quantity;
        row.due = order.due;
        snapshot.rows.push_back(std::move(row));
      }
    }
    if (due != orders_due_) {
      orders_due_ = std::move(due);
      result.supplies.push_back(std::move(snapshot));
    }
  }
  return result;
}

std::unique_ptr<source> make_simulator_source(const source_settings& settings, const source_context& context) {
  return std::make_unique<simulator_source>(static_cast<const simulator_settings&>(settings), context.now);
}

}  // namespace plant::sources
