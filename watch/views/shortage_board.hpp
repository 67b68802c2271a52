#pragma once
/// --shortages: materials running short across every plant, most urgent
/// first, each with the agents elsewhere that hold a surplus of it ("who can
/// help"). Pure functions of the board.
#include <string>
#include <vector>

#include "common/core/sample.hpp"
#include "watch/views/board_state.hpp"

namespace plant::watch {

/// An agent that holds a surplus of a material another one is short of.
struct shortage_helper {
  std::string site;     ///< its site
  std::string agent;    ///< its agent id
  double quantity = 0;  ///< what it has on hand
  std::string unit;     ///< unit of quantity
};

/// One material in low, critical or out at one agent.
struct shortage_entry {
  std::string site;                      ///< where it is short
  std::string agent;                     ///< the agent reporting it
  std::string material;                  ///< material id
  material_view status;                  ///< the agent's decision
  std::vector<shortage_helper> helpers;  ///< surplus holders, largest quantity first
};

/// True when `m` is ok and above reorder_point * (1 + margin), or, without a
/// reorder point, above twice the safety stock.
bool has_surplus(const material_view& m, double margin = 0.2);

/// Every shortage on the board: out first, then by projected stockout (soonest
/// first, unknown last), then critical before low, then site/agent/material.
std::vector<shortage_entry> find_shortages(const board_state& board, double surplus_margin = 0.2);

/// The text board as of `now`; every line ends in '\n'.
std::string render_shortage_table(const std::vector<shortage_entry>& shortages, epoch_ms now);

/// `{"shortage":{...,"helpers":[...]}}` without a line end.
std::string shortage_json(const shortage_entry& entry);

}  // namespace plant::watch
