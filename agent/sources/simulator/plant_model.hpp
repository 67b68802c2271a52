#pragma once
/// A deterministic plant: production lines and the materials they consume,
/// advanced in fixed ticks of plant time. Pure: no clocks, no I/O. The same
/// parameters give the same samples on every platform (integer arithmetic and
/// an own PRNG throughout; see seeded_random.hpp).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/core/sample.hpp"
#include "agent/sources/simulator/seeded_random.hpp"

namespace plant::sources {

/// Size of the plant and scenario knobs. The defaults give lines that mostly run,
/// fault a few times a day, and materials that now and then run out because a
/// delivery is late.
struct model_params {
  std::uint64_t seed = 1;                                  ///< same seed, same plant
  int lines = 3;                                           ///< "line-1".."line-L", 1..100000
  int materials = 8;                                       ///< 0..100000, all in "store-1"
  std::chrono::milliseconds tick{1000};                    ///< plant time per step(), 1 ms..24 h
  epoch_ms start_time = 0;                                 ///< plant time before the first step

  double sensor_noise = 0.002;                             ///< half-width of the reported-quantity noise, share of capacity
  double late_delivery_probability = 0.15;                 ///< share of deliveries that arrive late
  double severe_late_share = 0.3;                          ///< of the late ones, the share late by 0.8-2 periods (else 0.1-0.6)
  std::chrono::milliseconds delivery_period_min{std::chrono::hours{4}};   ///< per material, drawn once
  std::chrono::milliseconds delivery_period_max{std::chrono::hours{12}};  ///< per material, drawn once

  double rate_changes_per_hour = 0.5;                      ///< a feed's consumption rate moves to a new level
  double rate_change_range = 0.3;                          ///< new level within nominal * (1 +- this)
  double bursts_per_hour = 0.05;                           ///< a feed starts consuming burst_factor times faster
  double burst_factor = 2.5;                               ///< 1..10
  std::chrono::milliseconds burst_duration{std::chrono::minutes{20}};  ///< mean; drawn from 0.5x..1.5x

  double faults_per_hour = 0.15;                           ///< per running line
  std::chrono::milliseconds repair_min{std::chrono::minutes{5}};   ///< fault duration range
  std::chrono::milliseconds repair_max{std::chrono::minutes{45}};
  double idles_per_hour = 0.1;                             ///< per running line
  std::chrono::milliseconds idle_min{std::chrono::minutes{5}};
  std::chrono::milliseconds idle_max{std::chrono::minutes{30}};
  double blocks_per_hour = 0.3;                            ///< per running line (downstream full)
  std::chrono::milliseconds blocked_min{std::chrono::minutes{1}};
  std::chrono::milliseconds blocked_max{std::chrono::minutes{8}};
  std::chrono::milliseconds maintenance_interval{std::chrono::hours{24}};  ///< planned windows per line; 0 = none
  std::chrono::milliseconds maintenance_min{std::chrono::minutes{30}};
  std::chrono::milliseconds maintenance_max{std::chrono::minutes{90}};
  double reject_share = 0.02;                              ///< mean share of parts rejected (per line 0.5x..1.5x)

  std::size_t max_stockout_events = 10000;                 ///< stockout log bound; older events are dropped and counted
};

/// Ground truth: a material's true quantity was zero from zero_at until recovered_at.
struct stockout_event {
  std::size_t material = 0;                 ///< material index
  epoch_ms zero_at = 0;                     ///< plant time of the first tick that ended at zero
  std::optional<epoch_ms> recovered_at;     ///< plant time of the first tick back above zero; empty while out
  bool late_delivery = false;               ///< a delivery was overdue when the stock hit zero
};

class plant_model {
 public:
  /// Throws std::invalid_argument("<key>: <reason>") for parameters out of range (start-up only).
  explicit plant_model(const model_params& params);

  /// Advances plant time by one tick.
  void step();
  /// Appends one sample per line, then one per material, stamped with the current plant time.
  void emit(std::vector<sample>& out, epoch_ms receive_time) const;

  /// Current plant time (start_time + ticks() * tick).
  epoch_ms now() const { return start_time_ + elapsed_ms_; }
  /// Steps taken so far.
  std::uint64_t ticks() const { return ticks_; }
  /// Plant time per step.
  std::chrono::milliseconds tick() const { return std::chrono::milliseconds{tick_ms_}; }
  /// Samples one emit() appends: lines + materials.
  std::size_t samples_per_tick() const { return lines_.size() + materials_.size(); }

  /// Number of lines.
  std::size_t line_count() const { return lines_.size(); }
  /// "line-<i+1>".
  const std::string& line_name(std::size_t line) const { return lines_[line].name; }
  /// The reported state: starved while any input is at zero, else the line's own state.
  line_state state(std::size_t line) const { return lines_[line].reported; }
  /// Good parts since start.
  std::uint64_t good_count(std::size_t line) const { return lines_[line].good; }
  /// Rejected parts since start.
  std::uint64_t reject_count(std::size_t line) const { return lines_[line].rejects; }
  /// Materials the line consumes (indices).
  const std::vector<std::size_t>& line_inputs(std::size_t line) const { return lines_[line].inputs; }

  /// Number of materials.
  std::size_t material_count() const { return materials_.size(); }
  /// Readable name for the first eight, "material-<i+1>" after that.
  const std::string& material_name(std::size_t material) const { return materials_[material].name; }
  /// "kg", "l", "pcs" or "m".
  const std::string& material_unit(std::size_t material) const { return materials_[material].unit; }
  /// Lines the material feeds (indices).
  const std::vector<std::size_t>& material_lines(std::size_t material) const { return materials_[material].lines; }
  /// The true quantity (no sensor noise), never negative; exactly 0.0 when out of stock.
  double true_quantity(std::size_t material) const;
  /// The quantity the store would report now (true quantity plus noise, clamped at 0; 0 when truly empty).
  double reported_quantity(std::size_t material) const;
  /// Most the store holds; deliveries are cut to fit.
  double capacity(std::size_t material) const;
  /// Nominal delivery lot.
  double lot_size(std::size_t material) const;
  /// Nominal consumption per hour with all fed lines running at nominal speed.
  double nominal_rate_per_hour(std::size_t material) const;
  /// Time between scheduled deliveries.
  std::chrono::milliseconds delivery_period(std::size_t material) const;
  /// Deliveries that arrived so far.
  std::uint64_t deliveries(std::size_t material) const { return materials_[material].deliveries; }
  /// Of those, the ones that arrived after their scheduled time.
  std::uint64_t late_deliveries(std::size_t material) const { return materials_[material].late_deliveries; }

  /// An order behind a coming delivery, as the plant's ERP lists it.
  struct open_order {
    double quantity = 0.0;  ///< the nominal lot
    epoch_ms due = 0;       ///< its scheduled arrival (a late lot keeps its due time)
  };
  /// The open orders of a material: the next scheduled lot and the one after. The
  /// next one is late once its due time passed without it arriving; the model's
  /// own schedule, so it is ground truth for the supply-aware detector.
  std::vector<open_order> open_orders(std::size_t material) const;

  /// The last max_stockout_events stockouts, oldest first; an open one has no recovered_at.
  const std::deque<stockout_event>& stockouts() const { return stockouts_; }
  /// Stockouts dropped from the front of stockouts() to keep it bounded.
  std::uint64_t stockouts_dropped() const { return stockouts_dropped_; }

 private:
  struct line_rt {
    std::string name;
    line_state base = line_state::running;      // the line's own state machine
    line_state reported = line_state::running;  // base, or starved
    std::int64_t remaining_ms = 0;               // of a timed (non-running) base state
    std::int64_t next_maintenance_ms = 0;        // elapsed time of the next planned window
    std::uint64_t good = 0;
    std::uint64_t rejects = 0;
    std::int64_t parts_per_hour = 0;             // nominal
    std::int64_t speed_permille = 1000;
    std::int64_t reject_ppm = 0;                 // rejected parts per million
    std::uint64_t reject_threshold = 0;          // per part, threshold53
    std::int64_t part_acc = 0;
    std::int64_t good_rate_milli = 0;            // good parts/min * 1000 while running
    bool running_this_tick = false;
    std::vector<std::size_t> inputs;
  };
  struct material_rt {
    std::string name;
    std::string unit;
    std::int64_t qty = 0;                        // milli-units, true
    std::int64_t capacity = 0;
    std::int64_t lot = 0;
    std::int64_t nominal_rate = 0;               // milli-units per hour
    std::int64_t period_ms = 0;
    std::int64_t next_due_ms = 0;                // scheduled arrival, elapsed time
    std::int64_t next_arrival_ms = 0;            // actual arrival, elapsed time
    std::int64_t noise_half = 0;                 // milli-units
    std::uint64_t deliveries = 0;
    std::uint64_t late_deliveries = 0;
    bool out = false;
    std::uint64_t open_event = 0;                // sequence number of the open stockout
    std::vector<std::size_t> lines;
  };
  // One material feeding one line; the unit of consumption.
  struct feed {
    std::size_t material = 0;
    std::size_t line = 0;
    std::int64_t rate = 0;                       // milli-units per hour, nominal
    std::int64_t level_permille = 1000;          // drifted level
    std::int64_t burst_left_ms = 0;
    std::int64_t acc = 0;
  };

  void schedule_next_delivery(material_rt& m);
  void deliver(material_rt& m);
  void advance_line(line_rt& line, bool starved);
  void track_stockout(std::size_t index);
  std::int64_t noisy_milli(std::size_t index) const;

  model_params params_;
  seeded_random rng_;
  std::uint64_t noise_key_;
  std::int64_t tick_ms_;
  epoch_ms start_time_;
  std::int64_t elapsed_ms_ = 0;
  std::uint64_t ticks_ = 0;

  // Per-tick probabilities as 53-bit thresholds, derived once from the per-hour knobs.
  std::uint64_t t_fault_ = 0, t_idle_ = 0, t_blocked_ = 0;  // cumulative
  std::uint64_t t_speed_change_ = 0;
  std::uint64_t t_rate_change_ = 0;
  std::uint64_t t_burst_ = 0;
  std::uint64_t t_late_ = 0;
  std::uint64_t t_severe_ = 0;
  std::int64_t rate_range_permille_ = 0;
  std::int64_t burst_permille_ = 1000;

  std::vector<line_rt> lines_;
  std::vector<material_rt> materials_;
  std::vector<feed> feeds_;
  std::deque<stockout_event> stockouts_;
  std::uint64_t stockouts_dropped_ = 0;
  std::uint64_t stockout_seq_ = 0;               // events ever opened
  std::string location_ = "store-1";
};

}  // namespace plant::sources
