#pragma once
/// The shortage verdict for one material, ordered by severity.
#include <cstdint>
#include <string_view>

namespace plant::edge {

/// Mirrors plant.v1.StockStatus; the numeric values are the wire values and the
/// order is the severity order (a larger value is worse).
enum class stock_status : std::uint8_t { unknown = 0, ok = 1, low = 2, critical = 3, out = 4 };

/// "ok", "low", "critical", "out"; "unknown" for anything else.
std::string_view to_string(stock_status status);
/// Parses the names above (including "unknown"); returns false for anything else.
bool parse_stock_status(std::string_view text, stock_status& out);

}  // namespace plant::edge
