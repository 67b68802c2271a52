#pragma once
/// The shortage scenario shared by the shortage and register tests: a WMS
/// export of a plant consuming resin until it runs out (and a delivery), a
/// plant holding plenty, and the agent config that reads them.
#include <string>

#include "agent/edge/shortage_detector.hpp"
#include "common/core/clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::test {

inline constexpr epoch_ms hour = 3'600'000;
inline constexpr epoch_ms history_start = 1'790'812'800'000;  // 2026-10-01T00:00:00Z

/// Hourly readings: 100 kg/h consumption from 10 t with a little sensor noise, empty
/// after 100 h, then a delivery at 110 h; rows up to `last_hour`.
std::string consuming_history(int last_hour = 130);
/// A plant with plenty: steady stock far above its reorder point, 48 hours.
std::string surplus_history();
/// [[material]] resin (reorder point 5 t, lead time 24 h) and [shortage].
extern const std::string material_section;
/// The detector material_section configures, for computing in process what the agent must decide.
edge::shortage_detector scenario_detector();
/// A [[source.csv]] named "wms" reading `directory`.
std::string csv_section(const std::string& directory);
/// Writes `text` as `directory/name` atomically (a temp file in `dir`, then rename).
void drop_file(const temp_dir& dir, const std::string& directory, const std::string& name, const std::string& text);

}  // namespace plant::test
