#pragma once
/// The live picture plant-watch keeps: per agent its status, lines, stocks and
/// shortage statuses. Plain data, so the table and the shortage board are pure
/// functions of it and tests build one by hand.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/sample.hpp"
#include "common/sparkplug/host_tracker.hpp"
#include "plant/v1/plant.pb.h"

namespace plant::watch {

/// Mirrors plant.v1.StockStatus.
enum class stock_status : std::uint8_t { unknown = 0, ok = 1, low = 2, critical = 3, out = 4 };
/// "unknown", "ok", "low", "critical", "out".
std::string_view to_string(stock_status status);

/// Mirrors plant.v1.AgentStatus.State.
enum class agent_state : std::uint8_t { unknown = 0, online = 1, offline = 2 };

/// The newest sample of one line.
struct line_view {
  line_state state = line_state::unknown;  ///< running, idle, ...
  std::uint64_t good_count = 0;            ///< good parts (monotonic)
  std::uint64_t reject_count = 0;          ///< rejected parts
  double good_rate = 0.0;                  ///< good parts per minute
  quality q = quality::good;               ///< good, stale, bad
  epoch_ms source_time = 0;                ///< when the device says it was true
  epoch_ms receive_time = 0;               ///< when the agent read it
};

/// The newest sample of one material's stock.
struct stock_view {
  double quantity = 0.0;                   ///< amount on hand
  std::string unit;                        ///< "kg", "pcs", ...
  std::string location;                    ///< where it is stored
  quality q = quality::good;               ///< good, stale, bad
  epoch_ms source_time = 0;                ///< when the device or file says it was true
  epoch_ms receive_time = 0;               ///< when the agent read it
};

/// The agent's shortage decision for one material (alerts and status.materials).
struct material_view {
  stock_status status = stock_status::unknown;  ///< ok, low, critical, out
  double quantity = 0.0;                        ///< on hand when decided
  std::string unit;                             ///< unit of quantity
  double rate = 0.0;                            ///< consumption per hour
  epoch_ms projected_stockout = 0;              ///< 0 when not consuming
  epoch_ms at = 0;                              ///< sample time of the decision
  std::vector<std::string> lines;               ///< lines it feeds
  std::vector<std::string> starved_lines;       ///< lines starved of it
  double reorder_point = 0.0;                   ///< 0 when not configured
  double safety_stock = 0.0;                    ///< minimum to keep
  double incoming = 0.0;                        ///< open receipts due within the lead time
  epoch_ms next_receipt = 0;                    ///< earliest due time ahead, 0 = none
  std::uint32_t late_receipts = 0;              ///< receipts past due, no delivery seen
  double late_quantity = 0.0;                   ///< their quantity
  epoch_ms covered_until = 0;                   ///< on hand + receipts above safety stock until then, 0 = beyond
  std::string reason;                           ///< "no_cover", "late_receipt", ...; "" while ok
};

/// Everything known about one agent.
struct agent_view {
  std::string site;                          ///< the agent's site
  std::string agent;                         ///< the agent's id
  bool has_status = false;                   ///< a status message was seen
  agent_state state = agent_state::unknown;  ///< from the newest status
  std::string reason;                        ///< "birth", "heartbeat", "connection_lost", ...
  epoch_ms status_seen_at = 0;               ///< when that status became true (see board_state.cpp)
  std::string version;                       ///< agent version
  std::uint64_t backlog_messages = 0;        ///< unacknowledged messages
  std::uint64_t backlog_bytes = 0;           ///< their size
  std::int64_t backlog_oldest_age_ms = 0;    ///< age of the oldest one
  std::uint64_t dropped = 0;                 ///< messages the agent gave up on
  std::string last_error;                    ///< the agent's last error
  std::map<std::string, line_view> lines;            ///< by line id
  std::map<std::string, stock_view> stocks;          ///< by material id
  std::map<std::string, material_view> materials;    ///< shortage picture, by material id
};

/// Bounds for board_state (it grows with what the agents send).
struct board_limits {
  std::size_t max_agents = 10000;          ///< agents tracked
  std::size_t max_entries_per_agent = 5000;  ///< lines, stocks or materials per agent
  std::size_t max_bytes = 64u << 20;       ///< what the whole board may hold (estimated), whatever the entry count
  std::size_t max_text_bytes = 256;        ///< a name, unit or error kept longer is cut
};

/// The whole picture.
struct board_state {
  std::string broker;                  ///< the URL, for the heading
  std::string connection = "connecting";  ///< "connected", "connecting", or the last failure
  std::map<std::pair<std::string, std::string>, agent_view> agents;  ///< by (site, agent)
  std::uint64_t messages = 0;          ///< deliveries seen
  std::uint64_t undecodable = 0;       ///< deliveries that were not an Envelope
  std::uint64_t rejected = 0;          ///< envelopes naming another agent than their topic
  std::uint64_t queue_dropped = 0;     ///< deliveries dropped because the main thread fell behind
  std::uint64_t entries_dropped = 0;   ///< agents/lines/stocks/materials not tracked (limits)
  std::size_t bytes = 0;               ///< estimated memory held by the entries
};

/// Folds one decoded delivery into the board. `received_at` is our wall clock (Unix ms).
void apply_envelope(board_state& board, const std::string& site, const std::string& agent,
                    const plant::v1::Envelope& envelope, bool retained, epoch_ms received_at,
                    const board_limits& limits = {});

/// Folds one decoded Sparkplug B message into the board: the edge node is the agent
/// (group_id as the site), its births and deaths its state, line/, stock/, shortage/ and
/// agent/ metrics its entries. Metrics flagged is_historical are not shown as current.
void apply_sparkplug(board_state& board, const sparkplug::decoded_message& message, epoch_ms received_at,
                     const board_limits& limits = {});

/// Converts the wire form of a shortage decision.
material_view to_material_view(const plant::v1::MaterialStatus& m);

}  // namespace plant::watch
