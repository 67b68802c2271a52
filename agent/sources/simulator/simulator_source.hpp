#pragma once
/// The "simulator" source: a plant_model driven by the wall clock. Plant time
/// runs `speed` times as fast as wall time (or as fast as publishing drains
/// with speed 0); every plant tick yields one sample per line and per material.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/sources/simulator/simulator_settings.hpp"
#include "agent/sources/simulator/plant_model.hpp"
#include "agent/sources/source.hpp"
#include "agent/sources/source_registry.hpp"

namespace plant::sources {

class simulator_source final : public source {
 public:
  /// Most samples one poll returns; the rest follow on the next polls. A sample
  /// is ~170 bytes in memory, so this keeps one poll near 3.4 MB on a gateway.
  static constexpr std::size_t max_samples_per_poll = 20000;
  /// Samples per poll when unthrottled (speed 0).
  static constexpr std::size_t unthrottled_samples_per_poll = 20000;

  /// Plant time starts at `wall_start`. Throws std::invalid_argument naming the
  /// source and key for a config out of range (start-up only).
  simulator_source(const sources::simulator_settings& cfg, epoch_ms wall_start);

  /// The configured name.
  const std::string& name() const override { return name_; }
  /// "simulator".
  std::string_view kind() const override { return "simulator"; }
  /// sample_interval / speed clamped to 5 ms..1 s; 0 when unthrottled.
  std::chrono::milliseconds interval() const override { return interval_; }
  /// Steps the plant up to where `now` puts it (bounded per poll) and returns each tick's
  /// samples; the first tick is stamped wall_start + sample_interval.
  poll_result poll(epoch_ms now) override;

  /// Plant time of the last emitted tick.
  epoch_ms plant_time() const { return model_.now(); }
  /// How far plant time was behind the speed's target after the last poll (< one tick when keeping up).
  std::chrono::milliseconds lag() const { return std::chrono::milliseconds{lag_ms_}; }
  /// Polls that stopped at max_samples_per_poll with whole ticks still due.
  std::uint64_t capped_polls() const { return capped_polls_; }
  /// The plant, for ground truth in tests and benchmarks.
  const plant_model& model() const { return model_; }

 private:
  std::string name_;
  double speed_;
  epoch_ms wall_start_;
  plant_model model_;
  std::chrono::milliseconds interval_{0};
  epoch_ms target_ = 0;  // plant time the speed asks for; never moves back
  std::int64_t lag_ms_ = 0;
  std::uint64_t capped_polls_ = 0;
  bool receipts_ = false;
  std::vector<epoch_ms> orders_due_;  // the due times last handed on, to send only changes
};

/// The registry's factory for [[source.simulator]].
std::unique_ptr<source> make_simulator_source(const source_settings& settings, const source_context& context);

}  // namespace plant::sources
