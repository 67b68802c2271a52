// The first complete path: sources -> plant-agent -> real Mosquitto -> plant-watch.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string simulator_section =
    "[[source.simulator]]\nname = \"sim\"\nseed = 7\nlines = 3\nmaterials = 8\ninterval = \"1s\"\n"
    "speed = 10.0\n";

TEST(end_to_end, simulated_line_states_and_stock_levels_arrive_decoded) {
  temp_dir dir("e2e-sim");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--json", "--duration", "60s"}));
  agent_process agent(dir, "agent",
                      agent_config_text("gw-1", "site-a", dir.file("state"), broker.url(),
                                        "publish_interval = \"200ms\"\n", simulator_section));
  ASSERT_TRUE(agent.start());

  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= 5, 20s) << agent.log() << watch.errors();
  auto telemetry = watch.of_kind("telemetry");
  std::set<std::string> materials_seen;
  std::int64_t previous_seq = -1;
  for (const auto& line : telemetry) {
    EXPECT_EQ(json_string(line, "agent"), "gw-1");
    EXPECT_EQ(json_string(line, "site"), "site-a");
    EXPECT_NE(line.find("\"topic\":\"plant/v1/site-a/gw-1/telemetry\""), std::string::npos) << line;
    auto seq = json_integer(line, "seq");
    ASSERT_TRUE(seq.has_value()) << line;
    if (previous_seq >= 0) {
      EXPECT_EQ(*seq, previous_seq + 1) << "sequence numbers grow by one per message";
    }
    previous_seq = *seq;
    for (const char* material : {"steel-coil-1.2", "resin-pellets", "paint-base-ral7035", "cardboard-500",
                                 "screws-m6", "adhesive-pu", "label-roll", "stretch-film"}) {
      if (line.find(std::string("\"material\":\"") + material + "\"") != std::string::npos) {
        materials_seen.insert(material);
      }
    }
  }
  EXPECT_EQ(materials_seen.size(), 8u);
  const std::string& last = telemetry.back();
  EXPECT_NE(last.find("\"line\":\"line-1\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"line\":\"line-3\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"source\":\"sim\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"quality\":\"good\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"unit\":\"kg\""), std::string::npos) << last;

  // The retained birth says online; a clean stop says offline.
  PLANT_ASSERT_EVENTUALLY(!watch.of_kind("status").empty(), 10s);
  EXPECT_EQ(json_string(watch.of_kind("status").front(), "state"), "online");
  auto stopped = agent.process().terminate_and_wait(10s);
  EXPECT_TRUE(stopped.success()) << stopped.describe() << agent.log();
  PLANT_ASSERT_EVENTUALLY(json_string(watch.of_kind("status").back(), "state") == "offline", 10s)
      << watch.output();
  EXPECT_NE(agent.log().find("stopped"), std::string::npos);
}

TEST(end_to_end, csv_drop_is_published_with_its_own_timestamps_and_bad_rows_are_reported) {
  temp_dir dir("e2e-csv");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  std::string drop = dir.file("drop");
  ASSERT_EQ(::mkdir(drop.c_str(), 0755), 0);
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--json", "--duration", "60s"}));
  agent_process agent(dir, "agent",
                      agent_config_text("gw-csv", "site-b", dir.file("state"), broker.url(),
                                        "publish_interval = \"100ms\"\n",
                                        "[[source.csv]]\nname = \"wms\"\ndirectory = \"" + drop +
                                            "\"\ntimestamp_column = \"time\"\nunit_column = \"unit\"\n"
                                            "location_column = \"bin\"\ninterval = \"100ms\"\n"
                                            "settle_time = \"0s\"\nafter = \"delete\"\n"));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to", 10s));

  // Written elsewhere and renamed in, as a WMS export should be.
  ASSERT_TRUE(write_file(dir.file("export.tmp"),
                         "material,quantity,unit,bin,time\n"
                         "resin-pellets,1234.5,kg,A-01,2026-11-20T08:00:00Z\n"
                         "\"steel, coil\",abc,kg,A-02,2026-11-20T08:00:00Z\n"
                         "screws-m6,500,pcs,B-07,1763625600\n"));
  ASSERT_EQ(::rename(dir.file("export.tmp").c_str(), (drop + "/export.csv").c_str()), 0);

  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= 1, 15s) << agent.log();
  std::string all;
  for (const auto& line : watch.of_kind("telemetry")) all += line;
  EXPECT_NE(all.find("\"material\":\"resin-pellets\",\"quantity\":1234.5,\"unit\":\"kg\",\"location\":\"A-01\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("\"source_time\":\"2026-11-20T08:00:00.000Z\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"material\":\"screws-m6\",\"quantity\":500"), std::string::npos) << all;
  // 1763625600 is 2025-11-20T08:00:00Z.
  EXPECT_NE(all.find("\"source_time\":\"2025-11-20T08:00:00.000Z\""), std::string::npos) << all;
  EXPECT_EQ(all.find("steel, coil"), std::string::npos) << "the bad row must not be published";
  PLANT_EXPECT_EVENTUALLY(agent.log().find("export.csv:3: quantity: 'abc' is not a number") != std::string::npos,
                          5s)
      << agent.log();
  // after = "delete": the file goes once its rows are sealed into the spool.
  PLANT_EXPECT_EVENTUALLY(!file_exists(drop + "/export.csv"), 5s);
  EXPECT_TRUE(agent.process().running());
}

// D3 exactly as reported: one row with invalid UTF-8 used to make the whole batch
// undecodable downstream, so the good rows around it were lost too. D19: a huge
// header in the same drop must not make a huge log line.
TEST(end_to_end, a_row_with_invalid_utf8_is_reported_and_the_rest_of_the_file_arrives) {
  plant_stack stack("e2e-utf8");
  ASSERT_TRUE(stack.start());
  std::string drop = stack.dir().file("drop");
  ASSERT_EQ(::mkdir(drop.c_str(), 0755), 0);
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-u8", "site-u8", stack.state_dir(), stack.broker().url(),
                                        "publish_interval = \"100ms\"\n",
                                        "[[source.csv]]\nname = \"erp\"\ndirectory = \"" + drop +
                                            "\"\ninterval = \"100ms\"\nsettle_time = \"0s\"\nafter = \"delete\"\n"));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to", 10s));
  // printf 'material,quantity\nsteel-coil,100\n\xff\xfebad,5\nresin,7\n'
  ASSERT_TRUE(write_file(stack.dir().file("x.tmp"), "material,quantity\nsteel-coil,100\n\xff\xfe" "bad,5\nresin,7\n"));
  ASSERT_EQ(::rename(stack.dir().file("x.tmp").c_str(), (drop + "/stock.csv").c_str()), 0);
  // A header of 1 MiB with a NUL in it and no quantity column.
  std::string header(1 << 20, 'h');
  header[100] = '\0';
  ASSERT_TRUE(write_file(stack.dir().file("y.tmp"), "material," + header + "\nsteel-coil,1\n"));
  ASSERT_EQ(::rename(stack.dir().file("y.tmp").c_str(), (drop + "/huge-header.csv").c_str()), 0);

  PLANT_ASSERT_EVENTUALLY(agent.log().find("stock.csv:3: material: invalid UTF-8") != std::string::npos, 10s)
      << agent.log();
  PLANT_ASSERT_EVENTUALLY(agent.log().find("huge-header.csv:1: the header is longer than 1048576 bytes; the file is not read") !=
                              std::string::npos,
                          10s) << agent.log();
  std::string all;
  PLANT_ASSERT_EVENTUALLY((all = [&] {
                            std::string text;
                            for (const auto& line : stack.watch().of_kind("telemetry")) text += line;
                            return text;
                          }())
                                  .find("\"material\":\"resin\"") != std::string::npos,
                          10s)
      << agent.log();
  EXPECT_NE(all.find("\"material\":\"steel-coil\",\"quantity\":100"), std::string::npos) << all;
  EXPECT_NE(all.find("\"material\":\"resin\",\"quantity\":7"), std::string::npos) << all;
  EXPECT_EQ(stack.watch().errors().find("not a plant.v1.Envelope"), std::string::npos) << stack.watch().errors();
  // Every log line stays short and free of raw control bytes.
  const std::string log = agent.log();
  std::size_t line_start = 0;
  for (std::size_t at = log.find('\n'); at != std::string::npos; line_start = at + 1, at = log.find('\n', line_start)) {
    EXPECT_LE(at - line_start, 4200u) << log.substr(line_start, 200);
  }
  EXPECT_EQ(log.find('\0'), std::string::npos);
  std::string audit = stack.finish_and_audit(agent, "gw-u8");
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
}

TEST(end_to_end, broker_restart_loses_nothing_for_a_persistent_watch_session) {
  plant_stack stack("e2e-restart");
  ASSERT_TRUE(stack.start());
  mosquitto_broker& broker = stack.broker();
  watch_process& watch = stack.watch();
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-r", "site-r", stack.state_dir(), broker.url(),
                                        "publish_interval = \"100ms\"\n",
                                        simulator_section + "[health]\nlisten = \"127.0.0.1:" +
                                            std::to_string(health_port) + "\"\n"));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= 5, 20s) << agent.log();

  ASSERT_TRUE(broker.stop());
  ASSERT_TRUE(agent.wait_for_log("cannot reach", 10s));
  std::size_t before_outage = watch.of_kind("telemetry").size();
  // The agent keeps sealing messages into its spool while the broker is away.
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_backlog_messages").value_or(0) >= 10, 20s)
      << agent.log();
  ASSERT_TRUE(broker.start());
  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= before_outage + 20, 30s) << agent.log();

  std::string audit = stack.finish_and_audit(agent, "gw-r", 15s);
  ASSERT_FALSE(audit.empty()) << watch.output() << watch.errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_GE(json_integer(audit, "unique").value_or(0), 25) << audit;
  EXPECT_GE(json_integer(audit, "replayed").value_or(0), 10) << audit;
  EXPECT_NE(audit.find("\"missing\":[]"), std::string::npos) << audit;
}

TEST(end_to_end, a_killed_agent_is_marked_offline_by_its_last_will) {
  temp_dir dir("e2e-will");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  agent_process agent(dir, "agent",
                      agent_config_text("gw-w", "site-w", dir.file("state"), broker.url(), "", simulator_section));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to", 10s));
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--json", "--topic", "plant/v1/+/+/status", "--duration", "60s"}));
  // The retained birth arrives first.
  PLANT_ASSERT_EVENTUALLY(!watch.of_kind("status").empty(), 10s) << watch.errors();
  EXPECT_EQ(json_string(watch.of_kind("status").front(), "state"), "online");
  agent.process().kill9();
  PLANT_ASSERT_EVENTUALLY(json_string(watch.of_kind("status").back(), "state") == "offline", 15s)
      << watch.output();
  EXPECT_EQ(json_string(watch.of_kind("status").back(), "reason"), "connection_lost");
}

}  // namespace
}  // namespace plant::test
