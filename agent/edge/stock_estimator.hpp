#pragma once
/// Consumption rate and time to stockout of one material, from its noisy stock
/// series and the running state of the lines it feeds. Pure: no clocks, no I/O;
/// every time is the sample's own (source) time, so a replay of last month's
/// export gives the same numbers as the live run did.
///
/// How it works, in short:
///  - Time that counts is RUNNING time: the integral of the consuming lines'
///    running share (set_activity). While every line stands still no consumption
///    accrues and nothing ages, so a weekend shutdown neither fakes a rate of
///    zero nor forgets the rate the lines had. Rates are per running hour.
///  - The rate is the slope of an exponentially weighted least-squares line
///    through (running hours, quantity) (see line_fit); a reading's weight halves
///    every `rate_half_life` of running time. The slope of such a line follows a
///    change of consumption through a gamma(2) kernel: half-way after 2.4
///    half-lives, 90 % after 5.6 (about 5 h and 11 h at the default 2 h). A
///    faster fit was tried and lost: on 1-minute readings it doubled the false
///    alerts of noisy sensors and brought flaps. A second fit with `long_half_life` (default 8x)
///    runs beside it. The projection uses
///      rate_running = max(rate_recent, rate_long + spread_allowance * rate_spread)
///    (rate_spread: how far the recent rate strays from the long one): a rise in
///    consumption is acted on within hours, a lull of a few hours is not
///    projected over a lead time of days, and a material whose consumption
///    swings gets a proportionally earlier warning. A missed stockout stops a
///    line; an early warning costs a phone call.
///  - Projections assume the consuming lines keep their recent running share:
///    time_to_stockout = level / (rate_running * running_share), the share being
///    exponentially weighted over plant time (`share_half_life`, default 4x the
///    rate half-life; see set_activity for starved lines).
///  - A reading that jumps by more than `jump_threshold` robust noise units
///    against the previous one is held (with up to seven more): a reading back at
///    the old level makes them all glitches, which are dropped; `confirmations`
///    further readings that agree with the newest level confirm it as a step
///    (two identical glitches in a row are not enough). An upward step is a
///    delivery: a new segment of the fit starts, so the step is never taken for
///    negative consumption. A downward step stays in (a pallet taken to the line
///    is consumption).
///  - The noise scale is an exponentially weighted mean of absolute first
///    differences after removing the expected consumption, clipped so that steps
///    cannot inflate it while a sensor that really got noisier still raises it.
///  - After a gap (longer than `gap_factor` typical intervals and than `min_gap`)
///    the first reading waits for confirmation like a jump and then starts a new
///    segment, with the gap's running time cut out of the fit: the change across
///    a gap is never turned into a rate. Readings at ~0 (empty_level) are not fitted
///    at all: an empty bin says nothing about demand.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/core/sample.hpp"
#include "agent/edge/line_fit.hpp"

namespace plant::edge {

/// Tuning of one estimator; the defaults are what the shortage detector uses.
struct estimator_params {
  /// Running time after which a reading weighs half in the recent fit.
  std::chrono::milliseconds rate_half_life{std::chrono::hours{2}};
  /// The long fit's half-life; 0 = 8 x rate_half_life.
  std::chrono::milliseconds long_half_life{0};
  /// The projected rate is at least the long rate + this x its spread.
  double spread_allowance = 0.5;
  /// Memory of the running share, in plant time; 0 = 4 x rate_half_life.
  std::chrono::milliseconds share_half_life{0};
  /// A step is a change above this many mean absolute noise differences.
  double jump_threshold = 5.0;
  /// Readings that must agree with a step before it is believed (1..7).
  int confirmations = 2;
  /// A gap is an interval above this many typical intervals ...
  double gap_factor = 8.0;
  /// ... and above this; 0 = rate_half_life / 4.
  std::chrono::milliseconds min_gap{0};
  /// The rate is ready once the readings spread over this much running time (sd); 0 = rate_half_life / 4 ...
  std::chrono::milliseconds min_span{0};
  /// ... and this many readings are in the fit.
  int min_readings = 6;
};

/// What observe() did with a reading.
enum class reading_verdict : std::uint8_t {
  accepted,         ///< used (and any held reading before it resolved)
  held,             ///< a jump, or the first reading after a gap: waits for readings that confirm it
  ignored_quality,  ///< bad or stale
  ignored_time,     ///< not after the newest reading seen (duplicate or out of order)
  ignored_value,    ///< NaN or infinite
};

/// The outcome of one observe() call.
struct observation {
  reading_verdict verdict = reading_verdict::accepted;
  bool delivery = false;         ///< a held upward step was confirmed: stock was delivered (at the held reading's time)
  bool dropped_outlier = false;  ///< held readings were dropped as glitches
  bool gap = false;              ///< the accepted reading came after a gap and was re-based
};

/// The estimator's current view; all of it refers to the newest accepted reading.
struct stock_estimate {
  bool has_reading = false;    ///< false until the first reading is accepted
  epoch_ms at = 0;             ///< sample time of the newest accepted reading
  double quantity = 0.0;       ///< that reading as reported
  double level = 0.0;          ///< the fitted (de-noised) quantity at `at`; = quantity until the fit is ready
  double noise = 0.0;          ///< estimated noise, one standard deviation, in units
  bool rate_ready = false;     ///< the fit had enough readings and running-time spread (once true, stays true)
  double rate_recent = 0.0;    ///< units per running hour over the recent past (rate_half_life), >= 0
  double rate_long = 0.0;      ///< units per running hour over the long past (long_half_life), >= 0
  double rate_spread = 0.0;    ///< how far rate_recent strays from rate_long (RMS over the long half-life)
  double rate_running = 0.0;   ///< max(rate_recent, rate_long + 0.5 rate_spread): what projections use
  double running_share = 1.0;  ///< recent share of plant time the consuming lines ran or would have (0..1)
  double rate = 0.0;           ///< rate_running * running_share: units per plant hour (>= 0)
  std::optional<epoch_ms> projected_stockout;  ///< at + level / rate; empty when not ready or not consuming
};

/// Counts of what the estimator saw, for stats and tests.
struct estimator_counters {
  std::uint64_t accepted = 0;         ///< readings used
  std::uint64_t ignored_quality = 0;  ///< bad or stale readings
  std::uint64_t ignored_time = 0;     ///< duplicates and out-of-order readings
  std::uint64_t ignored_value = 0;    ///< non-finite readings
  std::uint64_t outliers = 0;         ///< held readings dropped as glitches
  std::uint64_t deliveries = 0;       ///< upward steps excluded from the rate
  std::uint64_t steps_down = 0;       ///< confirmed downward steps (kept as consumption)
  std::uint64_t gaps = 0;             ///< new segments after a gap, or after readings that never settled
};

class stock_estimator {
 public:
  /// An estimator with no readings; the consuming lines are assumed running until told otherwise.
  explicit stock_estimator(const estimator_params& params = {});

  /// The consuming lines' state from `at` on: `running_share` is the share that runs
  /// (0 = none, 1 = all) and drives the running-time clock; `projected_share` is the
  /// share to assume for the future (the detector counts a line starved by a
  /// shortage as running: it runs again once the shortage is over). Applies from the
  /// newest time already seen when `at` is older (the past is not rewritten).
  void set_activity(epoch_ms at, double running_share, double projected_share);

  /// One stock reading taken at `at` (sample time).
  observation observe(epoch_ms at, double quantity, quality q);

  /// The current estimate (see stock_estimate).
  const stock_estimate& estimate() const { return estimate_; }
  /// What has been seen so far.
  const estimator_counters& counters() const { return counters_; }
  /// The reading level at or below which the bin counts as empty: max(2 noise, a hair above 0).
  double empty_level() const;

 private:
  enum class rebase : std::uint8_t { none, delivery, restart };

  struct reading {
    epoch_ms at = 0;
    double quantity = 0.0;
    double running_hours = 0.0;  // running-time clock at `at`
  };

  double running_hours_at(epoch_ms at);
  void advance_activity(epoch_ms at);
  bool is_gap(epoch_ms from, epoch_ms to) const;
  bool is_jump(double difference) const;
  double expected_change(const reading& from, const reading& to) const;
  void update_noise(double difference);
  void update_noise_clipped(double difference);
  void hold(const reading& r, bool after_gap, observation& result);
  void accept(const reading& r, rebase how);
  void refresh_estimate();

  estimator_params params_;
  double half_life_h_;  // rate half-life in hours
  double long_half_life_h_;
  double share_half_life_ms_;
  double min_gap_ms_;
  double min_span_h_;

  // Activity (running-time) clock.
  double share_now_ = 1.0;      // current running share of the consuming lines
  double projected_now_ = 1.0;  // current share assumed for the future
  double share_avg_ = 1.0;      // projected share, exponentially weighted over plant time
  epoch_ms clock_at_ = 0;       // activity integrated up to here
  bool clock_started_ = false;
  double clock_hours_ = 0.0;  // running hours accumulated up to clock_at_

  // Newest accepted reading and a held one.
  bool has_last_ = false;
  reading last_;
  static constexpr std::size_t max_held = 8;
  std::array<reading, max_held> held_{};  // jumps waiting for a reading that confirms one
  std::size_t held_count_ = 0;
  std::size_t held_agreeing_ = 0;  // readings at the end of held_ that agree with each other
  bool held_after_gap_ = false;    // they follow a gap: the old level is no reference
  epoch_ms newest_seen_ = 0;
  bool censored_ = false;  // the newest accepted reading was at ~0: re-base the next real one

  // Noise and sampling interval.
  double diff_scale_ = 0.0;  // EW mean |first difference - expected consumption|
  int diff_count_ = 0;
  double typical_interval_ms_ = 0.0;

  // The fits (x = running hours minus the cut-out gaps, y = quantity; a new
  // segment at every delivery or gap): a recent one for the level and for rising
  // consumption, a long one so that a lull of a few hours is not projected over
  // a lead time of days.
  line_fit recent_;
  line_fit long_;
  double spread_var_ = 0.0;  // EW mean of (recent rate - long rate)^2
  bool ready_ = false;       // the fit was once spread enough; stays so
  bool fit_started_ = false;
  double x_offset_h_ = 0.0;  // running hours cut out at gaps (fit x = running hours - offset)
  double anchor_x_h_ = 0.0;  // fit x of the newest fitted point
  double anchor_q_ = 0.0;    // quantity of the newest fitted point

  stock_estimate estimate_;
  estimator_counters counters_;
};

}  // namespace plant::edge
