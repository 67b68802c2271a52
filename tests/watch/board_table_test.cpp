#include "watch/views/board_table.hpp"

#include <gtest/gtest.h>

#include <string>

#include "watch/views/board_state.hpp"

namespace plant::watch {
namespace {


constexpr epoch_ms now = 1700000000000;  // 2023-11-14T22:13:20.000Z

board_state sample_board() {
  board_state board;
  board.broker = "tcp://broker:1883";
  board.connection = "connected";
  board.messages = 1200;
  board.undecodable = 1;
  board.queue_dropped = 0;

  agent_view& a = board.agents[{"site-a", "gw-1"}];
  a.site = "site-a";
  a.agent = "gw-1";
  a.has_status = true;
  a.state = agent_state::online;
  a.reason = "heartbeat";
  a.status_seen_at = now - 3000;
  a.version = "0.1.0";
  a.backlog_messages = 2;
  a.backlog_bytes = 3072;
  a.backlog_oldest_age_ms = 1500;

  line_view& l1 = a.lines["L1"];
  l1.state = line_state::running;
  l1.good_count = 1234;
  l1.reject_count = 5;
  l1.good_rate = 57.5;
  l1.receive_time = now - 1000;
  line_view& l2 = a.lines["L2"];
  l2.state = line_state::starved;
  l2.good_count = 10;
  l2.q = quality::stale;
  l2.receive_time = now - 65000;

  stock_view& steel = a.stocks["steel"];
  steel.quantity = 40.5;
  steel.unit = "kg";
  steel.receive_time = now - 2000;
  material_view& steel_status = a.materials["steel"];
  steel_status.status = stock_status::critical;
  steel_status.quantity = 40.5;
  steel_status.unit = "kg";
  steel_status.projected_stockout = now + (2 * 60 + 3) * 60000;
  steel_status.starved_lines = {"L2"};
  material_view& glue = a.materials["glue"];
  glue.status = stock_status::ok;
  glue.quantity = 300;
  glue.unit = "l";
  glue.projected_stockout = now + 86400000;
  glue.at = now - 10000;

  agent_view& b = board.agents[{"site-b", "gw-2"}];
  b.site = "site-b";
  b.agent = "gw-2";
  return board;
}

TEST(watch_board_table, renders_agents_lines_and_materials) {
  EXPECT_EQ(render_board_table(sample_board(), now),
            "plant-watch  2023-11-14T22:13:20.000Z  agents 2  messages 1200  undecodable 1  dropped 0\n"
            "broker tcp://broker:1883: connected\n"
            "\n"
            "site-a/gw-1  ONLINE (heartbeat, 3s ago)  version 0.1.0  backlog 2 msgs, 3.0 KiB, oldest 1s\n"
            "  LINE  STATE    GOOD  REJECT  RATE/MIN  QUALITY    AGE\n"
            "  L1    running  1234       5      57.5  good        1s\n"
            "  L2    starved    10       0         0  stale    1m05s\n"
            "  MATERIAL  QUANTITY  QUALITY  AGE  SHORTAGE\n"
            "  glue         300 l  -        10s  ok\n"
            "  steel      40.5 kg  good      2s  critical, stockout in 2h03m, starving L2\n"
            "\n"
            "site-b/gw-2  NO STATUS  (no status message yet)\n"
            "  (no telemetry yet)\n");
}

TEST(watch_board_table, empty_board_and_offline_agent) {
  board_state board;
  board.broker = "tcp://broker:1883";
  board.connection = "Connection refused (retrying)";
  EXPECT_EQ(render_board_table(board, now),
            "plant-watch  2023-11-14T22:13:20.000Z  agents 0  messages 0  undecodable 0  dropped 0\n"
            "broker tcp://broker:1883: Connection refused (retrying)\n"
            "\n"
            "waiting for messages...\n");

  agent_view& a = board.agents[{"s", "gw"}];
  a.site = "s";
  a.agent = "gw";
  a.has_status = true;
  a.state = agent_state::offline;
  a.reason = "connection_lost";
  a.status_seen_at = now - 125000;
  a.version = "0.1.0";
  a.dropped = 3;
  a.last_error = "spool: disk full";
  board.entries_dropped = 4;
  EXPECT_EQ(render_board_table(board, now),
            "plant-watch  2023-11-14T22:13:20.000Z  agents 1  messages 0  undecodable 0  dropped 0  untracked 4\n"
            "broker tcp://broker:1883: Connection refused (retrying)\n"
            "\n"
            "s/gw  OFFLINE (connection_lost, 2m05s ago)  version 0.1.0  backlog 0 msgs, 0 B  dropped 3"
            "  last error: spool: disk full\n"
            "  (no telemetry yet)\n");
}

TEST(watch_board_table, shortage_cell) {
  material_view m;
  m.status = stock_status::low;
  m.projected_stockout = now + 90000;
  EXPECT_EQ(describe_shortage(m, now), "low, stockout in 1m30s");
  m.projected_stockout = now - 1;
  EXPECT_EQ(describe_shortage(m, now), "low, stockout due");
  m.status = stock_status::out;
  m.starved_lines = {"L1", "L3"};
  EXPECT_EQ(describe_shortage(m, now), "out, starving L1, L3");
  m = material_view{};
  EXPECT_EQ(describe_shortage(m, now), "unknown");
}

// --- folding envelopes into the board --------------------------------------

plant::v1::Envelope status_envelope(plant::v1::AgentStatus::State state, std::int64_t time, std::uint64_t backlog) {
  plant::v1::Envelope e;
  e.set_agent("gw-1");
  e.set_site("site-a");
  auto* s = e.mutable_status();
  s->set_state(state);
  s->set_reason(state == plant::v1::AgentStatus::STATE_OFFLINE ? plant::v1::AgentStatus::REASON_CONNECTION_LOST
                                                               : plant::v1::AgentStatus::REASON_HEARTBEAT);
  s->set_time(time);
  s->set_version("0.1.0");
  s->mutable_backlog()->set_messages(backlog);
  return e;
}

TEST(watch_board_state, status_goes_by_arrival_and_last_will_keeps_heartbeat_figures) {
  board_state board;
  apply_envelope(board, "site-a", "gw-1", status_envelope(plant::v1::AgentStatus::STATE_ONLINE, now - 60000, 7),
                 /*retained=*/true, now);
  const agent_view& a = board.agents.at({"site-a", "gw-1"});
  EXPECT_EQ(a.state, agent_state::online);
  EXPECT_EQ(a.status_seen_at, now - 60000);  // retained: its own time is all we know
  EXPECT_EQ(a.backlog_messages, 7u);
  // The Last Will was built at connect time, long before; it still wins because it came last.
  apply_envelope(board, "site-a", "gw-1", status_envelope(plant::v1::AgentStatus::STATE_OFFLINE, now - 3600000, 0),
                 false, now + 5000);
  EXPECT_EQ(a.state, agent_state::offline);
  EXPECT_EQ(a.reason, "connection_lost");
  EXPECT_EQ(a.status_seen_at, now + 5000);
  EXPECT_EQ(a.backlog_messages, 7u);
}

TEST(watch_board_state, older_samples_and_decisions_do_not_overwrite_newer_ones) {
  board_state board;
  plant::v1::Envelope live;
  live.set_seq(10);
  auto* t = live.mutable_telemetry();
  t->set_base_time(now);
  auto* line = t->add_lines();
  line->set_line("L1");
  line->set_good_count(500);
  auto* stock = t->add_stocks();
  stock->set_material("steel");
  stock->set_quantity(40);
  apply_envelope(board, "site-a", "gw-1", live, false, now);

  plant::v1::Envelope replay = live;
  replay.set_seq(3);
  replay.set_replayed(true);
  replay.mutable_telemetry()->set_base_time(now - 60000);
  replay.mutable_telemetry()->mutable_lines(0)->set_good_count(100);
  replay.mutable_telemetry()->mutable_stocks(0)->set_quantity(90);
  apply_envelope(board, "site-a", "gw-1", replay, false, now + 10);

  const agent_view& a = board.agents.at({"site-a", "gw-1"});
  EXPECT_EQ(a.lines.at("L1").good_count, 500u);
  EXPECT_EQ(a.stocks.at("steel").quantity, 40.0);

  plant::v1::Envelope alert;
  auto* m = alert.mutable_alert()->mutable_material();
  m->set_material("steel");
  m->set_status(plant::v1::STOCK_STATUS_CRITICAL);
  m->set_at(now);
  apply_envelope(board, "site-a", "gw-1", alert, false, now);
  plant::v1::Envelope old_alert = alert;
  old_alert.mutable_alert()->mutable_material()->set_status(plant::v1::STOCK_STATUS_LOW);
  old_alert.mutable_alert()->mutable_material()->set_at(now - 1000);
  apply_envelope(board, "site-a", "gw-1", old_alert, true, now);
  EXPECT_EQ(a.materials.at("steel").status, stock_status::critical);
}

TEST(watch_board_state, bounded) {
  board_state board;
  board_limits limits;
  limits.max_agents = 1;
  limits.max_entries_per_agent = 1;
  plant::v1::Envelope e;
  auto* t = e.mutable_telemetry();
  t->add_lines()->set_line("L1");
  t->add_lines()->set_line("L2");
  apply_envelope(board, "s", "a", e, false, now, limits);
  apply_envelope(board, "s", "b", e, false, now, limits);
  EXPECT_EQ(board.agents.size(), 1u);
  EXPECT_EQ(board.agents.at({"s", "a"}).lines.size(), 1u);
  EXPECT_EQ(board.entries_dropped, 2u);
}

}  // namespace
}  // namespace plant::watch
