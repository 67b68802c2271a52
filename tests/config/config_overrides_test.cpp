#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/config/config_loader.hpp"
#include "agent/sources/csv/csv_settings.hpp"
#include "agent/sources/simulator/simulator_settings.hpp"

namespace plant::config {
namespace {

std::vector<sources::simulator_settings> simulators(const agent_config& c) {
  return c.sources_of<sources::simulator_settings>();
}
std::vector<sources::csv_settings> csvs(const agent_config& c) { return c.sources_of<sources::csv_settings>(); }

using lines = std::vector<std::string>;

const std::string agent_lines = "[agent]\nid = \"gw-1\"\nsite = \"plant-1\"\n";

load_result load(const std::string& text, const lines& overrides) {
  return load_config_text(text, "t.toml", overrides, "/etc/plant");
}

lines errors(const load_result& r) {
  lines out;
  for (const diagnostic& d : r.errors) out.push_back(d.to_string());
  return out;
}

TEST(config_overrides, values_are_read_as_toml_with_a_string_fallback) {
  const load_result r = load(agent_lines, {"mqtt.qos=0", "mqtt.url = tcp://broker:1884", "agent.id=\"gw-9\"",
                                           "spool.enabled=false", "spool.max_age=3d", "mqtt.username="});
  ASSERT_EQ(errors(r), lines{});
  EXPECT_EQ(r.config->mqtt.qos, 0);
  EXPECT_EQ(r.config->mqtt.url, "tcp://broker:1884");
  EXPECT_EQ(r.config->agent.id, "gw-9");
  EXPECT_FALSE(r.config->spool.enabled);
  EXPECT_EQ(r.config->spool.max_age, millis{3 * 86400000});
  EXPECT_EQ(r.config->mqtt.username, "");
}

TEST(config_overrides, are_type_checked_and_located_by_index) {
  const load_result r = load(agent_lines, {"mqtt.qos=3", "mqtt.qos=1", "spool.enabled=yes", "agent.log_level=loud"});
  EXPECT_FALSE(r.config);
  // The last override of a key wins, so only its finding remains.
  EXPECT_EQ(errors(r), (lines{"--set:3:1: error: spool.enabled: expected true or false, got string",
                              "--set:4:1: error: agent.log_level: 'loud' is not one of debug, info, warn, error"}));
  EXPECT_EQ(errors(load(agent_lines, {"mqtt.qos=3"})), lines{"--set:1:1: error: mqtt.qos: 3 is out of range 0..2"});
  EXPECT_EQ(errors(load(agent_lines, {"agent.id=gw-2", "mqtt.qos=3"})),
            lines{"--set:2:1: error: mqtt.qos: 3 is out of range 0..2"});
}

TEST(config_overrides, integer_segments_index_arrays_of_tables) {
  const std::string text = agent_lines + "[[source.simulator]]\nname = \"a\"\n[[source.simulator]]\nname = \"b\"\n";
  const load_result r = load(text, {"source.simulator.1.speed=10", "source.simulator.0.lines=7"});
  ASSERT_EQ(errors(r), lines{});
  EXPECT_DOUBLE_EQ(simulators(*r.config).at(1).speed, 10.0);
  EXPECT_EQ(simulators(*r.config).at(0).lines, 7);
  EXPECT_DOUBLE_EQ(simulators(*r.config).at(0).speed, 1.0);
}

TEST(config_overrides, create_missing_tables_and_append_entries) {
  const load_result r = load(agent_lines, {"source.csv.0.name=erp", "source.csv.0.directory=in", "health.listen=[::1]:9464",
                                           "material.0.id=oil", "material.0.lead_time=2h",
                                           "material.0.lines=[\"l1\", \"l2\"]", "source.csv.1.name=mes",
                                           "source.csv.1.directory=/in"});
  ASSERT_EQ(errors(r), lines{});
  ASSERT_EQ(csvs(*r.config).size(), 2u);
  EXPECT_EQ(csvs(*r.config)[0].common.name, "erp");
  EXPECT_EQ(csvs(*r.config)[0].directory, "/etc/plant/in");
  EXPECT_EQ(csvs(*r.config)[1].common.name, "mes");
  EXPECT_EQ(r.config->health.listen, "[::1]:9464");
  ASSERT_EQ(r.config->materials.size(), 1u);
  EXPECT_EQ(r.config->materials[0].lines, (lines{"l1", "l2"}));
}

TEST(config_overrides, created_entries_are_validated_like_the_file) {
  EXPECT_EQ(errors(load(agent_lines, {"source.simulator.0.speed=2"})),
            lines{"--set:1:1: error: source.simulator[0]: missing required key 'name'"});
  EXPECT_EQ(errors(load(agent_lines, {"mqtt.qso=1"})),
            lines{"--set:1:1: error: mqtt.qso: unknown key 'qso'; did you mean 'qos'?"});
  EXPECT_EQ(errors(load(agent_lines + "[[source.modbus]]\nname = \"p\"\naddress = \"tcp://p\"\n"
                                      "[[source.modbus.stock]]\nmaterial = \"m\"\nquantity = { area = \"input\", address = 1 }\n",
                        {"source.modbus.0.parity=even"})),
            lines{"--set:1:1: error: source.modbus[0].parity: only applies to rtu:// addresses"});
}

TEST(config_overrides, malformed_ones_are_errors) {
  const load_result r = load(agent_lines + "[mqtt]\nqos = 1\n[[source.simulator]]\nname = \"s\"\n",
                             {"mqtt.qos", "=3", "mqtt..qos=1", "mqtt.qos.level=1", "source.simulator.x=1",
                              "source.simulator.2.name=s", "source.simulator.0.speed=5"});
  EXPECT_FALSE(r.config);
  EXPECT_EQ(errors(r), (lines{"--set:1:1: error: malformed override 'mqtt.qos': expected key.path=value",
                              "--set:2:1: error: malformed override '=3': expected key.path=value",
                              "--set:3:1: error: malformed override 'mqtt..qos=1': expected key.path=value",
                              "--set:4:1: error: mqtt.qos.level: 'mqtt.qos' is an integer, not a table",
                              "--set:5:1: error: source.simulator.x: 'source.simulator' is an array; use an index, "
                              "e.g. source.simulator.0",
                              "--set:6:1: error: source.simulator.2.name: index 2 is out of range 0..1 for "
                              "'source.simulator' (1 adds an entry)"}));
}

TEST(config_overrides, findings_follow_the_file_findings) {
  const load_result r = load("[mqtt]\nqos = 7\n[agent]\nid = \"gw-1\"\nsite = \"plant-1\"\n", {"spool.sync=sometimes"});
  EXPECT_EQ(errors(r), (lines{"t.toml:2:7: error: mqtt.qos: 7 is out of range 0..2",
                              "--set:1:1: error: spool.sync: 'sometimes' is not one of always, batch, never"}));
}

}  // namespace
}  // namespace plant::config
