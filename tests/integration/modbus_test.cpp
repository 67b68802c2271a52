// A real PLC stand-in (libmodbus server) -> the real plant-agent -> a real
// Mosquitto -> plant-watch --json: values arrive exactly, turn stale when the
// PLC hangs (the log names the peer), recover; and --probe shows the raw
// registers and exits 1 naming the peer when the device is dead.
#ifdef AGENT_WITH_MODBUS
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/wire/time_format.hpp"
#include "tests/support/agent_harness.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/modbus_test_server.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

std::string modbus_section(const std::string& address) {
  return "[[source.modbus]]\n"
         "name = \"plc-1\"\n"
         "address = \"" + address + "\"\n"
         "unit_id = 1\n"
         "interval = \"200ms\"\n"
         "timeout = \"100ms\"\n"
         "reconnect_min_delay = \"100ms\"\n"
         "reconnect_max_delay = \"500ms\"\n"
         "\n"
         "[[source.modbus.line]]\n"
         "id = \"line-1\"\n"
         "state = { area = \"holding\", address = 100, type = \"uint16\", map = { 0 = \"idle\", 1 = \"running\", "
         "2 = \"fault\" } }\n"
         "good_count = { area = \"holding\", address = 102, type = \"uint32\", order = \"CDAB\" }\n"
         "\n"
         "[[source.modbus.stock]]\n"
         "material = \"silo-1\"\n"
         "unit = \"kg\"\n"
         "location = \"bay-1\"\n"
         "quantity = { area = \"holding\", address = 200, type = \"float32\" }\n";
}

void fill(modbus_test_server& plc) {
  plc.set_holding(100, 1);
  plc.set_uint32(102, 123456, sources::word_order::cdab);
  plc.set_float32(200, 1234.5f, sources::word_order::abcd);
}

// Every published object (`{...}` of the lines/stocks arrays) that starts with `head`.
std::vector<std::string> objects(const watch_process& watch, const std::string& head) {
  std::vector<std::string> found;
  for (const auto& line : watch.json()) {
    if (json_string(line, "kind") != "telemetry") continue;
    for (auto at = line.find("{" + head); at != std::string::npos; at = line.find("{" + head, at + 1)) {
      found.push_back(line.substr(at, line.find('}', at) - at + 1));
    }
  }
  return found;
}

bool any_object_with(const watch_process& watch, const std::string& head, const std::vector<std::string>& parts) {
  for (const auto& object : objects(watch, head)) {
    bool all = true;
    for (const auto& part : parts) all = all && object.find(part) != std::string::npos;
    if (all) return true;
  }
  return false;
}

std::string last_objects(const watch_process& watch) {
  std::string text;
  for (const auto& o : objects(watch, "\"line\":\"line-1\"")) text = o;
  for (const auto& o : objects(watch, "\"material\":\"silo-1\"")) text += "\n" + o;
  return text;
}

/// What the live tests start from: a Mosquitto, a PLC holding fill()'s values, and
/// plant-watch --json subscribed to the broker.
struct live_plc {
  explicit live_plc(const std::string& name) : dir(name), watch(dir, "watch") {}
  bool start() {
    if (!broker.start() || !plc.start()) return false;
    fill(plc);
    return watch.start(broker.url(), {"--json", "--duration", "120s"});
  }
  temp_dir dir;
  mosquitto_broker broker;
  modbus_test_server plc;
  watch_process watch;
};

TEST(modbus, plc_values_arrive_exactly_and_turn_stale_while_the_plc_hangs) {
  live_plc live("modbus-e2e");
  ASSERT_TRUE(live.start());
  temp_dir& dir = live.dir;
  mosquitto_broker& broker = live.broker;
  modbus_test_server& plc = live.plc;
  watch_process& watch = live.watch;
  agent_process agent(dir, "agent",
                      agent_config_text("gw-mb", "site-m", dir.file("state"), broker.url(),
                                        "publish_interval = \"100ms\"\n", modbus_section(plc.address())));
  ASSERT_TRUE(agent.start());

  const std::string line_head = "\"line\":\"line-1\"";
  const std::string stock_head = "\"material\":\"silo-1\"";
  PLANT_ASSERT_EVENTUALLY(any_object_with(watch, line_head,
                                          {"\"state\":\"running\",\"good_count\":123456,\"reject_count\":0,",
                                           "\"source\":\"plc-1\"", "\"quality\":\"good\""}),
                          20s)
      << agent.log() << watch.errors() << last_objects(watch);
  PLANT_ASSERT_EVENTUALLY(any_object_with(watch, stock_head,
                                          {"\"quantity\":1234.5,\"unit\":\"kg\",\"location\":\"bay-1\",\"source\":"
                                           "\"plc-1\"",
                                           "\"quality\":\"good\""}),
                          10s)
      << last_objects(watch);
  // Nothing but the server's values was ever published as good.
  for (const auto& o : objects(watch, line_head)) {
    if (o.find("\"quality\":\"good\"") != std::string::npos) {
      EXPECT_NE(o.find("\"state\":\"running\",\"good_count\":123456,"), std::string::npos) << o;
    }
  }

  // The PLC hangs: sockets open, no answers. The core republishes the last values as stale.
  plc.set_silent(true);
  PLANT_ASSERT_EVENTUALLY(any_object_with(watch, line_head,
                                          {"\"state\":\"running\",\"good_count\":123456,", "\"quality\":\"stale\""}),
                          20s)
      << agent.log() << last_objects(watch);
  PLANT_ASSERT_EVENTUALLY(any_object_with(watch, stock_head, {"\"quantity\":1234.5,", "\"quality\":\"stale\""}), 10s)
      << last_objects(watch);
  PLANT_ASSERT_EVENTUALLY(agent.log().find(plc.address() + " unit 1: read holding 100..103: Connection timed out") !=
                              std::string::npos,
                          10s)
      << agent.log();

  // It answers again, with a new count: good values return.
  plc.set_uint32(102, 123460, sources::word_order::cdab);
  plc.set_silent(false);
  PLANT_ASSERT_EVENTUALLY(any_object_with(watch, line_head, {"\"good_count\":123460,", "\"quality\":\"good\""}), 40s)
      << agent.log() << last_objects(watch);
  EXPECT_TRUE(agent.process().running());
}

// Receive times (Unix ms) of the published objects that start with `head` and contain `part`.
std::vector<epoch_ms> receive_times(const watch_process& watch, const std::string& head, const std::string& part) {
  std::vector<epoch_ms> times;
  for (const auto& object : objects(watch, head)) {
    if (object.find(part) == std::string::npos) continue;
    epoch_ms at = 0;
    const auto text = json_string(object, "receive_time");
    if (text && wire::parse_rfc3339(*text, at).empty()) times.push_back(at);
  }
  return times;
}

TEST(modbus, report_by_exception_sends_an_unchanged_value_as_a_heartbeat_and_a_move_past_the_deadband) {
  live_plc live("modbus-rbe");
  ASSERT_TRUE(live.start());
  temp_dir& dir = live.dir;
  mosquitto_broker& broker = live.broker;
  modbus_test_server& plc = live.plc;
  watch_process& watch = live.watch;
  // Polled every 100 ms; max_interval at the source, a deadband on the quantity.
  const std::string section = "[[source.modbus]]\n"
                              "name = \"plc-1\"\n"
                              "address = \"" + plc.address() + "\"\n"
                              "interval = \"100ms\"\n"
                              "timeout = \"80ms\"\n"
                              "max_interval = \"2s\"\n"
                              "[[source.modbus.line]]\n"
                              "id = \"line-1\"\n"
                              "state = { area = \"holding\", address = 100, map = { 0 = \"idle\", 1 = \"running\" } }\n"
                              "[[source.modbus.stock]]\n"
                              "material = \"silo-1\"\n"
                              "quantity = { area = \"holding\", address = 200, type = \"float32\", deadband = 5.0 }\n";
  agent_process agent(dir, "agent",
                      agent_config_text("gw-rbe", "site-r", dir.file("state"), broker.url(),
                                        "publish_interval = \"100ms\"\n", section));
  ASSERT_TRUE(agent.start());
  const std::string stock_head = "\"material\":\"silo-1\"";
  const std::string line_head = "\"line\":\"line-1\"";

  // An unchanged value goes out once and then as a heartbeat, never sooner than max_interval.
  PLANT_ASSERT_EVENTUALLY(receive_times(watch, stock_head, "\"quantity\":1234.5,").size() >= 3, 30s)
      << agent.log() << last_objects(watch);
  const auto heartbeats = receive_times(watch, stock_head, "\"quantity\":1234.5,");
  for (std::size_t i = 1; i < heartbeats.size(); ++i)
    EXPECT_GE(heartbeats[i] - heartbeats[i - 1], 2000) << "report " << i << " came before max_interval";
  const auto states = receive_times(watch, line_head, "\"state\":\"running\"");
  ASSERT_GE(states.size(), 2u) << last_objects(watch);
  for (std::size_t i = 1; i < states.size(); ++i) EXPECT_GE(states[i] - states[i - 1], 2000) << i;

  // A move within the deadband waits for the heartbeat; a state change and a move past it do not.
  plc.set_float32(200, 1236.0f, sources::word_order::abcd);
  PLANT_ASSERT_EVENTUALLY(!receive_times(watch, stock_head, "\"quantity\":1236,").empty(), 20s) << last_objects(watch);
  const epoch_ms within = receive_times(watch, stock_head, "\"quantity\":1236,").front();
  epoch_ms before_within = 0;
  for (epoch_ms t : receive_times(watch, stock_head, "\"quantity\":1234.5,"))
    if (t < within) before_within = std::max(before_within, t);
  EXPECT_GE(within - before_within, 2000) << "a move of 1.5 within deadband 5 was published as a change";

  plc.set_holding(100, 0);
  plc.set_float32(200, 1250.0f, sources::word_order::abcd);
  PLANT_ASSERT_EVENTUALLY(!receive_times(watch, stock_head, "\"quantity\":1250,").empty() &&
                              !receive_times(watch, line_head, "\"state\":\"idle\"").empty(),
                          20s)
      << last_objects(watch);
  EXPECT_TRUE(agent.process().running());
}

TEST(modbus, every_point_of_a_device_that_never_answered_is_published_bad_without_a_value) {
  temp_dir dir("modbus-never");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--json", "--duration", "60s"}));
  const std::string address = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
  agent_process agent(dir, "agent",
                      agent_config_text("gw-never", "site-n", dir.file("state"), broker.url(),
                                        "publish_interval = \"100ms\"\n", modbus_section(address)));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(any_object_with(watch, "\"line\":\"line-1\"",
                                          {"\"state\":\"unknown\",\"good_count\":0,", "\"quality\":\"bad\""}) &&
                              any_object_with(watch, "\"material\":\"silo-1\"",
                                              {"\"quantity\":0,\"unit\":\"kg\",\"location\":\"bay-1\"",
                                               "\"quality\":\"bad\""}),
                          20s)
      << agent.log() << last_objects(watch);
  for (const auto& o : objects(watch, "\"material\":\"silo-1\"")) EXPECT_NE(o.find("\"quality\":\"bad\""), std::string::npos) << o;
}

TEST(modbus, probe_prints_raw_registers_and_decoded_values) {
  temp_dir dir("modbus-probe");
  modbus_test_server plc;
  ASSERT_TRUE(plc.start());
  fill(plc);
  agent_process agent(dir, "agent",
                      agent_config_text("gw-p", "site-p", dir.file("state"), "tcp://127.0.0.1:1", "",
                                        modbus_section(plc.address())));
  auto result = run_agent({"--probe", "plc-1", "--config", agent.config_path()}, 20s);
  EXPECT_EQ(result.exit_code, 0) << result.err << result.out;
  for (const char* expected : {
           "source.modbus[0].line[0].state: holding 100 uint16: raw 0x0001: 1 (running)\n",
           "source.modbus[0].line[0].good_count: holding 102 uint32 CDAB: raw 0xE240 0x0001: 123456\n",
           "source.modbus[0].stock[0].quantity: holding 200 float32 ABCD: raw 0x449A 0x5000: 1234.5\n",
       }) {
    EXPECT_NE(result.out.find(expected), std::string::npos) << "missing: " << expected << "in:\n" << result.out;
  }
  EXPECT_NE(result.out.find("state=running good=123456 reject=0 quality=good"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("quantity=1234.5 kg quality=good"), std::string::npos) << result.out;
  EXPECT_EQ(plc.accepted(), 1u);
}

TEST(modbus, probe_of_a_dead_device_exits_1_naming_the_peer) {
  temp_dir dir("modbus-probe-dead");
  const std::uint16_t closed = free_tcp_port();
  const std::string address = "tcp://127.0.0.1:" + std::to_string(closed);
  agent_process agent(dir, "agent",
                      agent_config_text("gw-d", "site-d", dir.file("state"), "tcp://127.0.0.1:1", "",
                                        modbus_section(address)));
  auto result = run_agent({"--probe", "plc-1", "--config", agent.config_path()}, 20s);
  EXPECT_EQ(result.exit_code, 1) << result.err << result.out;
  EXPECT_NE(result.err.find("plant-agent: probe plc-1: " + address + " unit 1: connect: Connection refused"),
            std::string::npos)
      << result.err;

  // A device that accepts the connection but never answers: the read's deadline ends the probe.
  modbus_test_server hung;
  ASSERT_TRUE(hung.start());
  hung.set_silent(true);
  agent_process hung_agent(dir, "hung",
                           agent_config_text("gw-h", "site-h", dir.file("state-h"), "tcp://127.0.0.1:1", "",
                                             modbus_section(hung.address())));
  auto hung_result = run_agent({"--probe", "plc-1", "--config", hung_agent.config_path()}, 20s);
  EXPECT_EQ(hung_result.exit_code, 1) << hung_result.err << hung_result.out;
  EXPECT_NE(hung_result.err.find("plant-agent: probe plc-1: " + hung.address() +
                                 " unit 1: read holding 100..103: Connection timed out"),
            std::string::npos)
      << hung_result.err;
}

}  // namespace
}  // namespace plant::test
#endif  // AGENT_WITH_MODBUS
