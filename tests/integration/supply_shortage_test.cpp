// Supply-aware shortage detection end to end: stock CSVs and a receipts CSV
// (the plant's open orders) replayed in sample time through the real agent,
// Mosquitto and plant-watch. A material an order covers raises nothing; the
// same material with the order moved past the stockout raises low a lead time
// ahead, saying why.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cmath>

#include "agent/config/agent_config.hpp"
#include "agent/edge/shortage_detector.hpp"
#include "agent/sources/csv/stock_csv_parser.hpp"
#include "common/wire/time_format.hpp"
#include "tests/support/agent_harness.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/shortage_scenario.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

// 10 t falling 100 kg/h; with `delivery_hour` >= 0 the ordered 8 t arrive then.
std::string history(int delivery_hour, int last_hour = 100) {
  std::string csv = "material,quantity,unit,time\n";
  double stock = 10000.0;
  for (int h = 0; h <= last_hour; ++h) {
    if (h == delivery_hour) stock += 8000.0;
    const double reading = std::max(0.0, stock) + (stock > 0 ? 4.0 * std::sin(h * 1.7) : 0.0);
    csv += "resin," + std::to_string(reading) + ",kg," + std::to_string((history_start + h * hour) / 1000) + "\n";
    stock -= 100.0;
  }
  return csv;
}

std::string orders(int due_hour) {
  return "material,quantity,due,po,supplier\nresin,8000," +
         wire::format_rfc3339_ms(history_start + due_hour * hour) + ",PO-4711,Acme Resins\n";
}

std::string receipts_section(const std::string& directory) {
  return "[[source.csv]]\nname = \"erp-orders\"\nkind = \"receipts\"\ndirectory = \"" + directory +
         "\"\norder_column = \"po\"\nsupplier_column = \"supplier\"\ninterval = \"100ms\"\nsettle_time = \"0s\"\n";
}

// What the detector decides on the same rows in process: the replay must raise exactly these.
std::vector<edge::shortage_alert> expected_alerts(const std::string& stock_csv, const std::string& orders_csv) {
  edge::shortage_detector detector = scenario_detector();
  std::vector<edge::shortage_alert> alerts;
  sources::supply_snapshot snapshot;
  snapshot.kind = sources::supply_snapshot::kind_t::receipts;
  sources::supply_row row;
  row.material = "resin";
  row.quantity = 8000;
  const std::size_t due_at = orders_csv.find(",8000,") + 6;
  EXPECT_TRUE(sources::parse_timestamp(orders_csv.substr(due_at, orders_csv.find_first_of(",\n", due_at) - due_at), row.due));
  snapshot.rows.push_back(row);
  detector.observe_supply(snapshot, "erp-orders", alerts);
  sources::stock_csv_columns columns;
  columns.timestamp = "time";
  columns.unit = "unit";
  for (const auto& s : sources::parse_stock_csv(stock_csv, "stock.csv", columns, ',', 0, 0).samples)
    detector.observe(s, alerts);
  return alerts;
}

struct plant_with_orders {
  temp_dir dir{"supply"};
  mosquitto_broker broker;
  std::string stock_drop = dir.file("stock"), orders_drop = dir.file("orders");
  std::unique_ptr<watch_process> watch;
  std::unique_ptr<agent_process> agent;

  testing::AssertionResult run(const std::string& orders_csv, const std::string& stock_csv, int last_hour) {
    auto ok = broker.start();
    if (!ok) return ok;
    ::mkdir(stock_drop.c_str(), 0755);
    ::mkdir(orders_drop.c_str(), 0755);
    watch = std::make_unique<watch_process>(dir, "watch");
    ok = watch->start(broker.url(), {"--json", "--duration", "60s"});
    if (!ok) return ok;
    agent = std::make_unique<agent_process>(
        dir, "agent",
        agent_config_text("north-gw", "north", dir.file("state"), broker.url(), "publish_interval = \"100ms\"\n",
                          csv_section(stock_drop) + receipts_section(orders_drop) + material_section));
    ok = agent->start();
    if (!ok) return ok;
    drop_file(dir, orders_drop, "orders.csv", orders_csv);
    ok = agent->wait_for_log("erp-orders: 1 open receipts from orders.csv replace the previous ones", 10s);
    if (!ok) return ok;
    drop_file(dir, stock_drop, "stock.csv", stock_csv);
    // Done when the agent's status says it decided on the last row.
    const std::string last = wire::format_rfc3339_ms(history_start + last_hour * hour);
    if (!wait_until([&] { return watch->output().find("\"at\":\"" + last + "\"") != std::string::npos; }, 20s))
      return testing::AssertionFailure() << "the last row was never decided on:\n" << agent->log();
    return testing::AssertionSuccess();
  }

  std::vector<std::string> alerts() const {
    std::vector<std::string> found;
    for (const auto& line : watch->of_kind("alert"))
      if (json_bool(line, "retained") == false) found.push_back(line);
    return found;
  }
};

TEST(supply_shortage, a_material_an_order_covers_raises_nothing_and_its_status_says_what_is_coming) {
  const std::string stock = history(80), order = orders(80);
  ASSERT_TRUE(expected_alerts(stock, order).empty()) << "the scenario: covered throughout";
  // Without the order, the same stock is short a day ahead of the delivery.
  ASSERT_FALSE(expected_alerts(history(-1), "material,quantity,due\nresin,8000,2099-01-01T00:00:00Z\n").empty());

  plant_with_orders plant;
  ASSERT_TRUE(plant.run(order, stock, 100));
  EXPECT_TRUE(plant.alerts().empty()) << plant.watch->output();
  EXPECT_EQ(plant.agent->log().find("resin: ok -> low"), std::string::npos) << plant.agent->log();

  // Replayed only up to 60 h, the order is still open: the status says what is coming.
  plant_with_orders open;
  ASSERT_TRUE(open.run(order, history(80, 60), 60));
  EXPECT_TRUE(open.alerts().empty()) << open.watch->output();
  std::string status;
  PLANT_ASSERT_EVENTUALLY(
      [&] {
        for (const auto& line : open.watch->of_kind("status"))
          if (line.find("\"at\":\"" + wire::format_rfc3339_ms(history_start + 60 * hour) + "\"") != std::string::npos)
            status = line;
        return !status.empty();
      }(),
      10s);
  EXPECT_NE(status.find("\"status\":\"ok\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"incoming\":8000"), std::string::npos) << status;
  EXPECT_NE(status.find("\"next_receipt\":\"" + wire::format_rfc3339_ms(history_start + 80 * hour) + "\""),
            std::string::npos)
      << status;
  EXPECT_EQ(status.find("\"covered_until\":null"), std::string::npos) << "4 t + 8 t last beyond 100 h: " << status;
}

TEST(supply_shortage, the_same_material_with_its_order_moved_past_the_stockout_raises_low_a_lead_time_ahead) {
  // The stock runs out at 100 h; the supplier now promises 115 h.
  const std::string stock = history(-1, 90), order = orders(115);
  const auto expected = expected_alerts(stock, order);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(expected.front().material.status, edge::stock_status::low);
  EXPECT_LE(expected.front().material.at, history_start + (100 - 24) * hour) << "at least the lead time ahead";

  plant_with_orders plant;
  ASSERT_TRUE(plant.run(order, stock, 90));
  PLANT_ASSERT_EVENTUALLY(plant.alerts().size() >= expected.size(), 10s) << plant.watch->output();
  const auto published = plant.alerts();
  ASSERT_EQ(published.size(), expected.size()) << plant.watch->output();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(json_string(published[i], "status"), std::string(edge::to_string(expected[i].material.status)));
    EXPECT_EQ(json_string(published[i], "at"), wire::format_rfc3339_ms(expected[i].material.at)) << published[i];
    EXPECT_EQ(json_string(published[i], "reason"), std::string(edge::to_string(expected[i].material.reason)));
  }
  const std::string& first = published.front();
  EXPECT_EQ(json_string(first, "status"), "low");
  const auto reason = json_string(first, "reason").value_or("");
  EXPECT_TRUE(reason == "no_cover" || reason == "late_receipt") << first;
  EXPECT_LE(json_string(first, "at").value_or("9999"), wire::format_rfc3339_ms(history_start + 76 * hour)) << first;
  EXPECT_EQ(json_string(first, "next_receipt"), wire::format_rfc3339_ms(history_start + 115 * hour)) << first;
  // plant-watch --shortages shows the reason in its SUPPLY column.
  watch_process board(plant.dir, "board");
  ASSERT_TRUE(board.start(plant.broker.url(), {"--shortages", "--duration", "2s"}));
  board.process().wait(10s);
  EXPECT_NE(board.output().find("SUPPLY"), std::string::npos) << board.output();
  EXPECT_NE(board.output().find(reason), std::string::npos) << board.output();
}

TEST(supply_shortage, a_reload_that_rebuilds_the_detector_keeps_the_open_orders) {
  plant_with_orders plant;
  ASSERT_TRUE(plant.run(orders(80), history(80, 60), 60));
  // A changed material rebuilds the detector (its estimates start over); the orders
  // it was given must not vanish with it, the export may come only tomorrow.
  std::string config = read_file(plant.agent->config_path());
  const auto at = config.find("safety_stock = 500.0");
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, 20, "safety_stock = 400.0");
  write_file(plant.agent->config_path(), config);
  ASSERT_TRUE(plant.agent->process().signal(SIGHUP));
  ASSERT_TRUE(plant.agent->wait_for_log("material[0].safety_stock", 10s));
  // The next export of stock (hours 61..62): decided with the order still known.
  std::string more = "material,quantity,unit,time\n";
  for (int h = 61; h <= 62; ++h)
    more += "resin," + std::to_string(10000.0 - 100.0 * h) + ",kg," + std::to_string((history_start + h * hour) / 1000) + "\n";
  drop_file(plant.dir, plant.stock_drop, "stock-2.csv", more);
  std::string status;
  PLANT_ASSERT_EVENTUALLY(
      [&] {
        for (const auto& line : plant.watch->of_kind("status"))
          if (line.find("\"at\":\"" + wire::format_rfc3339_ms(history_start + 62 * hour) + "\"") != std::string::npos)
            status = line;
        return !status.empty();
      }(),
      20s)
      << plant.agent->log();
  EXPECT_NE(status.find("\"incoming\":8000"), std::string::npos) << status;
}

}  // namespace
}  // namespace plant::test
