#pragma once
/// Samples: the one value type every source produces and the pipeline consumes.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/clock.hpp"

namespace plant {

enum class quality : std::uint8_t { good = 0, stale = 1, bad = 2 };

/// Mirrors plant.v1.LineState; the numeric values are the wire values.
enum class line_state : std::uint8_t { unknown = 0, running = 1, idle = 2, starved = 3, blocked = 4, fault = 5, maintenance = 6 };

/// "running", "idle", ... ; "unknown" for anything else.
std::string_view to_string(line_state state);
/// Parses the lower-case names above; returns false for anything else.
bool parse_line_state(std::string_view text, line_state& out);
std::string_view to_string(quality q);

/// One reading. `kind` says which of the fields are meaningful: a line's state
/// and counters, or a material's stock. Flat rather than a variant so that the
/// hot path (hundreds of thousands a second in the benchmark) stays cheap.
struct sample {
  enum class kind_t : std::uint8_t { line, stock };

  kind_t kind = kind_t::stock;
  std::string name;             ///< line id or material id
  quality q = quality::good;
  epoch_ms source_time = 0;     ///< when the device or file says the value was true
  epoch_ms receive_time = 0;    ///< when the agent read it
  /// False when report by exception holds the sample back: the agent's shortage
  /// detector still sees it, the broker does not.
  bool publish = true;

  // kind_t::line
  line_state state = line_state::unknown;
  std::uint64_t good_count = 0;
  std::uint64_t reject_count = 0;
  double good_rate = 0.0;       ///< good parts per minute, 0 when unknown

  // kind_t::stock
  double quantity = 0.0;
  std::string unit;
  std::string location;
};

}  // namespace plant
