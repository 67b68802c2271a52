#pragma once
/// What a source knows of the supply side: the plant's open orders (receipts)
/// or its planned demand, as one full snapshot that replaces the previous one
/// from the same source (an ERP export lists every open order each time).
/// Sources hand snapshots to the pipeline beside their samples
/// (poll_result::supplies); the shortage detector uses them, and nothing
/// here is published as telemetry.
#include <cstddef>
#include <string>
#include <vector>

#include "common/core/clock.hpp"

namespace plant::sources {

struct supply_row {
  std::string material;
  double quantity = 0.0;
  epoch_ms due = 0;   ///< receipts: when it is due
  epoch_ms from = 0;  ///< demand: the window [from, to) the quantity is consumed over
  epoch_ms to = 0;
  std::string order;     ///< receipts: PO or transfer number, optional
  std::string supplier;  ///< receipts: optional
};

struct supply_snapshot {
  enum class kind_t : std::uint8_t { receipts, demand };
  kind_t kind = kind_t::receipts;
  std::string file;       ///< where it came from, for messages
  epoch_ms read_at = 0;   ///< when it was read
  std::vector<supply_row> rows;
};

/// Rows a snapshot may hold; a bigger file is refused whole (the previous snapshot stays).
inline constexpr std::size_t max_supply_rows = 100000;

}  // namespace plant::sources
