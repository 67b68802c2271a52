// Shortage detection end to end: a WMS export replayed in sample time through
// the CSV source, the agent's detector, Mosquitto and plant-watch.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cmath>

#include "agent/config/agent_config.hpp"
#include "agent/edge/shortage_detector.hpp"
#include "agent/sources/csv/stock_csv_parser.hpp"
#include "tests/support/agent_harness.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/shortage_scenario.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"
#include "common/wire/time_format.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

// What the detector decides on these rows, computed in process: the replay
// through the agent must raise exactly these alerts at exactly these times.
std::vector<edge::shortage_alert> expected_alerts(const std::string& csv) {
  edge::shortage_detector detector = scenario_detector();
  sources::stock_csv_columns columns;
  columns.timestamp = "time";
  columns.unit = "unit";
  auto parsed = sources::parse_stock_csv(csv, "history.csv", columns, ',', 0, 0);
  EXPECT_TRUE(parsed.rejects.empty());
  std::vector<edge::shortage_alert> alerts;
  for (const auto& s : parsed.samples) detector.observe(s, alerts);
  return alerts;
}

std::vector<std::string> alert_lines(const watch_process& watch) {
  std::vector<std::string> found;
  for (const auto& line : watch.of_kind("alert")) {
    if (json_bool(line, "retained") == false) found.push_back(line);
  }
  return found;
}

TEST(shortage, replaying_a_wms_export_raises_the_alerts_a_live_run_would_have_at_sample_times) {
  auto expected = expected_alerts(consuming_history());
  // The scenario itself must make sense: low before critical before out, then cleared by the delivery.
  ASSERT_GE(expected.size(), 4u);
  EXPECT_EQ(expected.front().material.status, edge::stock_status::low);
  EXPECT_TRUE(expected.back().cleared);
  const epoch_ms stockout = history_start + 100 * hour;
  EXPECT_LE(expected.front().material.at, stockout - 24 * hour) << "warned at least the lead time ahead";

  temp_dir dir("shortage-replay");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  std::string drop = dir.file("drop");
  ASSERT_EQ(::mkdir(drop.c_str(), 0755), 0);
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--json", "--duration", "60s"}));
  agent_process agent(dir, "agent",
                      agent_config_text("north-gw", "north", dir.file("state"), broker.url(),
                                        "publish_interval = \"100ms\"\n", csv_section(drop) + material_section));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("shortage detection on for 1 materials", 10s));
  drop_file(dir, drop, "history.csv", consuming_history());

  PLANT_ASSERT_EVENTUALLY(alert_lines(watch).size() >= expected.size(), 20s) << agent.log() << watch.errors();
  auto published = alert_lines(watch);
  ASSERT_EQ(published.size(), expected.size()) << watch.output();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& want = expected[i];
    const std::string& got = published[i];
    EXPECT_EQ(json_string(got, "material"), "resin") << got;
    EXPECT_EQ(json_string(got, "status"), std::string(edge::to_string(want.material.status))) << got;
    EXPECT_EQ(json_string(got, "previous_status"), std::string(edge::to_string(want.previous))) << got;
    EXPECT_EQ(json_string(got, "at"), wire::format_rfc3339_ms(want.material.at)) << "alert " << i << ": " << got;
    EXPECT_EQ(json_bool(got, "cleared"), want.cleared) << got;
    EXPECT_EQ(json_string(got, "topic"), "plant/v1/north/north-gw/alerts") << got;
    EXPECT_GT(json_integer(got, "seq").value_or(0), 0) << "alerts are sequenced like telemetry";
  }
  // The low alert carries the projection it was raised on.
  EXPECT_GT(json_number(published.front(), "rate").value_or(0), 50.0) << published.front();
  EXPECT_TRUE(json_string(published.front(), "projected_stockout").has_value()) << published.front();

  // A subscriber that connects later still sees the current picture (retained).
  watch_process late(dir, "late");
  ASSERT_TRUE(late.start(broker.url(), {"--json", "--topic", "plant/v1/north/north-gw/alerts", "--count", "1"}));
  ASSERT_TRUE(late.process().wait(10s).has_value());
  auto retained = late.json();
  ASSERT_EQ(retained.size(), 1u) << late.errors();
  EXPECT_EQ(json_bool(retained[0], "retained"), true);
  EXPECT_EQ(json_string(retained[0], "at"), wire::format_rfc3339_ms(expected.back().material.at));
}

TEST(shortage, the_ops_board_lists_shortages_with_the_plants_that_can_help) {
  temp_dir dir("shortage-board");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  std::string north_drop = dir.file("north"), south_drop = dir.file("south");
  ASSERT_EQ(::mkdir(north_drop.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(south_drop.c_str(), 0755), 0);
  agent_process north(dir, "north", agent_config_text("north-gw", "north", dir.file("north-state"), broker.url(),
                                                      "publish_interval = \"100ms\"\n",
                                                      csv_section(north_drop) + material_section));
  agent_process south(dir, "south", agent_config_text("south-gw", "south", dir.file("south-state"), broker.url(),
                                                      "publish_interval = \"100ms\"\n",
                                                      csv_section(south_drop) + material_section));
  ASSERT_TRUE(north.start());
  ASSERT_TRUE(south.start());
  ASSERT_TRUE(north.wait_for_log("connected to", 10s));
  ASSERT_TRUE(south.wait_for_log("connected to", 10s));
  // North runs out (history up to 90 h: critical, not yet out); south has plenty.
  std::string north_csv = consuming_history();
  north_csv = north_csv.substr(0, north_csv.find(std::to_string((history_start + 91 * hour) / 1000)));
  north_csv = north_csv.substr(0, north_csv.rfind('\n') + 1);
  drop_file(dir, north_drop, "north.csv", north_csv);
  drop_file(dir, south_drop, "south.csv", surplus_history());
  ASSERT_TRUE(north.wait_for_log("resin: low -> critical", 15s));

  // The board is built from the agents' retained status, so a fresh ops
  // session sees it at once; retry until the south plant's picture arrived too.
  std::string line;
  int attempt = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        watch_process board(dir, "board-" + std::to_string(attempt++));
        if (!board.start(broker.url(), {"--shortages", "--json", "--duration", "2s"})) return false;
        board.process().wait(10s);
        for (const auto& l : board.json()) {
          if (l.rfind("{\"shortage\":", 0) == 0) line = l;
        }
        return line.find("\"helpers\":[{") != std::string::npos;
      },
      30s))
      << line << north.log() << south.log();
  EXPECT_EQ(json_string(line, "site"), "north") << line;
  EXPECT_EQ(json_string(line, "material"), "resin") << line;
  EXPECT_EQ(json_string(line, "status"), "critical") << line;
  auto helpers = line.substr(line.find("\"helpers\":"));
  EXPECT_EQ(json_string(helpers, "site"), "south") << line;
  EXPECT_GT(json_number(helpers, "quantity").value_or(0), 40000.0) << line;
}

}  // namespace
}  // namespace plant::test
