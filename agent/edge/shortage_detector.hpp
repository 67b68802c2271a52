#pragma once
/// Shortage status of every configured material of one agent, from the stock and
/// line-state samples the sources produce. Pure: no clocks, no I/O. Decisions are
/// made in SAMPLE time (each sample's source_time), so replaying an old export
/// raises exactly the alerts a live run over the same samples would have, however
/// the samples are chunked.
///
/// Status of a material (horizons per material; "time left" = level / rate from
/// the stock_estimator, infinite while the rate is not known or zero; with open
/// receipts or planned demand (observe_supply) it is the time the projected stock
/// of supply_projection.hpp takes to reach zero):
///   out       the reported quantity is at ~0 (within twice the estimated noise);
///   critical  time left <= critical_horizon (default: lead_time, i.e. an order
///             placed now arrives too late; margin / 2 when lead_time is 0);
///   low       time left <= lead_time + margin (margin: per material, else
///             shortage.margin), or level < safety_stock (fixed, or from
///             service_level), or level + open orders < reorder_point (the
///             reorder point, when set, is a floor on the inventory position), or
///             an order the stock needs is late;
///   ok        otherwise.
/// A new supply snapshot decides every material it concerns again at once, and an
/// order that covers a shortage ends it like a delivery (no dwell).
/// Hysteresis: a worse status is taken at once. A better one is taken only after
/// its exit condition held for `dwell` of sample time without a break: horizons
/// must exceed horizon_exit_factor x the entry horizon, level must exceed
/// stock_exit_factor x safety stock / reorder point, and "out" ends when the
/// reading exceeds twice the empty level. A confirmed delivery bypasses the dwell
/// (the cause of the shortage is gone, not just a noisy reading) but not the exit
/// thresholds. Leaving low or critical without a delivery also needs the stock to
/// outlast the exit horizon at full running (level / rate_running): a pause of
/// the lines postpones a stockout but does not end the episode.
/// An episode starts with the first non-ok status and ends with the return to ok:
/// one raise, any number of escalations and de-escalations, one clear.
/// Lines: a material's consuming lines' running share drives its estimator (a line
/// that has not reported yet, or reports "unknown", counts as running: assume
/// consumption when in doubt). For the projection a starved line also counts as
/// running: it stands still because some input ran out, and consumes again as soon
/// as that is delivered. A line is starved for a material when the material
/// is out and the line's last reported state is anything but running/unknown;
/// while a material is out, a line joining or leaving its starved lines is an
/// alert too (status unchanged, previous == status, not a new episode).
/// shortage.enabled is for the application to honour (it builds no detector);
/// shortage.surplus_margin is for the ops board (quantity vs reorder point).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/config/agent_config.hpp"
#include "common/core/sample.hpp"
#include "agent/edge/stock_estimator.hpp"
#include "agent/edge/stock_status.hpp"
#include "agent/edge/supply_projection.hpp"
#include "agent/sources/supply_snapshot.hpp"

namespace plant::edge {

/// One material's shortage picture (mirrors plant.v1.MaterialStatus; the encoding layer converts).
struct material_status {
  std::string material;                         ///< material id
  stock_status status = stock_status::unknown;  ///< unknown until the first stock reading
  double quantity = 0.0;                        ///< newest accepted reading
  std::string unit;                             ///< from the config, else from the samples
  double rate = 0.0;                       ///< consumption, units per plant hour (>= 0), at the recent running share
  epoch_ms projected_stockout = 0;         ///< at + quantity left / rate; 0 when not consuming or not known
  epoch_ms at = 0;                         ///< sample time the decision was made on
  std::vector<std::string> lines;          ///< lines this material feeds (from the config)
  std::vector<std::string> starved_lines;  ///< of those, the ones standing still while it is out
  double reorder_point = 0.0;              ///< 0 when not configured
  double safety_stock = 0.0;               ///< from the config
  epoch_ms lead_time_ms = 0;               ///< from the config
  double rate_running = 0.0;               ///< units per running hour of the consuming lines
  double running_share = 1.0;              ///< recent share of time the consuming lines ran (starved counts as running)
  // The supply side (receipts and planned demand sources; all 0 / none without them):
  double incoming = 0.0;                   ///< open receipts due within the lead time
  epoch_ms next_receipt = 0;               ///< the earliest due time still ahead, 0 = none
  std::uint32_t late_receipts = 0;         ///< receipts past due with no delivery seen since
  double late_quantity = 0.0;              ///< their quantity
  epoch_ms covered_until = 0;              ///< on hand plus receipts stay above the safety stock until then; 0 = not within the projection
  shortage_reason reason = shortage_reason::none;  ///< why it is not ok
};

/// A status change of one material (mirrors plant.v1.ShortageAlert).
struct shortage_alert {
  material_status material;                       ///< the material after the change
  stock_status previous = stock_status::unknown;  ///< its status before
  bool cleared = false;                           ///< back to ok: the episode is over
};

/// Hysteresis knobs that are not in the config file.
struct detector_options {
  std::chrono::milliseconds dwell{0};  ///< an exit condition must hold this long; 0 = 2 x shortage.rate_half_life
  double horizon_exit_factor = 1.25;   ///< leave critical/low only beyond this x the entry horizon
  double stock_exit_factor = 1.1;      ///< leave low only above this x safety stock and reorder point
};

/// What the detector has seen, for stats.
struct detector_counters {
  std::uint64_t stock_samples = 0;    ///< stock samples of configured materials
  std::uint64_t line_samples = 0;     ///< line samples of lines some material feeds
  std::uint64_t unknown_names = 0;    ///< samples of materials or lines not in the config
  std::uint64_t ignored_quality = 0;  ///< bad or stale samples (stock and line)
  std::uint64_t ignored_time = 0;     ///< duplicate or out-of-order samples (stock and line)
  std::uint64_t ignored_value = 0;    ///< non-finite stock quantities
  std::uint64_t raised = 0;           ///< episodes started
  std::uint64_t cleared = 0;          ///< episodes ended
  std::uint64_t changes = 0;          ///< status changes (alerts), including raises and clears
  std::uint64_t starved_updates = 0;  ///< alerts for a line joining or leaving a material's starved lines
  std::uint64_t supply_snapshots = 0; ///< receipts and demand snapshots taken
};

class shortage_detector {
 public:
  /// One estimator per material; materials with the same id after the first are ignored.
  shortage_detector(const std::vector<config::material_config>& materials, const config::shortage_section& section,
                    const detector_options& options = {});

  /// Feeds one sample; returns the alerts it caused: status changes (at most one per
  /// material), and while a material is out, changes of its starved lines (previous == status).
  std::vector<shortage_alert> observe(const sample& s);
  /// Same, appending to `out` (no allocation when nothing changes).
  void observe(const sample& s, std::vector<shortage_alert>& out);

  /// A receipts or demand snapshot from `source`: it replaces that source's previous one
  /// and every material it concerns (or concerned) is decided again. Rows of materials
  /// not in the config are counted (unknown_names) and ignored.
  void observe_supply(const sources::supply_snapshot& snapshot, const std::string& source,
                      std::vector<shortage_alert>& out);

  /// Every configured material's current status, in config order.
  std::vector<material_status> snapshot() const;
  /// One material's status; empty when the id is not configured.
  std::optional<material_status> status(std::string_view material) const;
  /// A material's estimator, for diagnostics; nullptr when the id is not configured.
  const stock_estimator* estimator(std::string_view material) const;
  /// What has been seen so far.
  const detector_counters& counters() const { return counters_; }

 private:
  struct line_rt {
    std::string id;
    line_state state = line_state::unknown;
    bool reported = false;
    epoch_ms at = 0;
    std::vector<std::size_t> materials;  // indices of the materials it feeds
  };
  struct material_rt {
    material_rt(config::material_config c, std::string u, stock_estimator e)
        : config(std::move(c)), unit(std::move(u)), estimator(std::move(e)) {}
    config::material_config config;
    std::string unit;
    stock_estimator estimator;
    std::vector<std::size_t> lines;  // indices into lines_
    double low_horizon_h = 0.0;
    double critical_horizon_h = 0.0;
    stock_status status = stock_status::unknown;
    epoch_ms decided_at = 0;  // estimate time of the last decision
    bool decided = false;
    std::optional<epoch_ms> exit_since;  // a better status's exit condition holds since
    // Supply: per source, its newest snapshot's rows for this material.
    std::unordered_map<std::string, std::vector<open_receipt>> receipts_by_source;
    std::unordered_map<std::string, std::vector<planned_demand>> demand_by_source;
    std::vector<open_receipt> receipts;   // all sources merged
    std::vector<planned_demand> demand;
    epoch_ms last_delivery_at = 0;        // newest confirmed rise of the stock
    supply_projection supply;             // of the last decision
    double safety_stock = 0.0;            // of the last decision (fixed, or from service_level)
  };

  void observe_stock(material_rt& m, const sample& s, std::vector<shortage_alert>& out);
  void observe_line(line_rt& line, const sample& s, std::vector<shortage_alert>& out);
  double running_share(const material_rt& m, bool projected) const;
  /// The projected stock of `m` (with `receipts` instead of all its receipts when given).
  supply_projection project(const material_rt& m, double rate, double safety,
                            const std::vector<open_receipt>* receipts = nullptr) const;
  void decide(material_rt& m, bool delivered, std::vector<shortage_alert>& out);
  material_status describe(const material_rt& m) const;

  detector_options options_;
  std::chrono::milliseconds dwell_;
  std::chrono::milliseconds late_grace_;
  std::vector<material_rt> materials_;
  std::vector<line_rt> lines_;
  std::unordered_map<std::string, std::size_t> material_index_;
  std::unordered_map<std::string, std::size_t> line_index_;
  detector_counters counters_;
};

}  // namespace plant::edge
