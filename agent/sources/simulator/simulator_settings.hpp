#pragma once
/// [[source.simulator]]: a deterministic simulated plant.
#include <cstdint>

#include "agent/sources/source_settings.hpp"

namespace plant::sources {

struct simulator_settings final : source_settings {
  // common.interval is the time between samples in plant time (formerly sample_interval).
  std::uint64_t seed = 1;
  int lines = 3;
  int materials = 8;
  double speed = 1.0;  ///< plant seconds per wall second; 0 = as fast as publishing drains
  bool receipts = false;  ///< also hand on the plant's open orders (a receipts snapshot) when they change
};

/// The [[source.simulator]] section of the schema.
const config::section_spec& simulator_schema();

}  // namespace plant::sources
