#pragma once
/// The default live view: a text table of every agent, its lines and its
/// materials. A pure function of the board and the time, so it is tested as text.
#include <string>

#include "common/core/sample.hpp"
#include "watch/views/board_state.hpp"

namespace plant::watch {

/// Renders the whole board as of `now` (Unix ms); every line ends in '\n'.
std::string render_board_table(const board_state& board, epoch_ms now);

/// "low", "critical, stockout in 2h03m", "out, starving line-2": a material's shortage cell.
std::string describe_shortage(const material_view& m, epoch_ms now);

}  // namespace plant::watch
