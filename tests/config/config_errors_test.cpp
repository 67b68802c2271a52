// Golden tests: one per kind of error, asserting the full text a technician sees.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "agent/config/config_loader.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::config {
namespace {

using plant::test::temp_dir;
using lines = std::vector<std::string>;

// Lines 1-3 of most inputs below.
const std::string agent_lines = "[agent]\nid = \"gw-1\"\nsite = \"plant-1\"\n";

lines errors_of(const std::string& text, const std::string& base_dir = "/etc/plant") {
  const load_result r = load_config_text(text, "t.toml", {}, base_dir);
  EXPECT_EQ(r.config.has_value(), r.errors.empty());
  lines out;
  for (const diagnostic& d : r.errors) out.push_back(d.to_string());
  return out;
}

TEST(config_errors, diagnostic_format) {
  EXPECT_EQ((diagnostic{"a.toml", 3, 7, "mqtt.qos", "bad", severity::error}).to_string(),
            "a.toml:3:7: error: mqtt.qos: bad");
  EXPECT_EQ((diagnostic{"a.toml", 1, 1, "", "bad", severity::warning}).to_string(), "a.toml:1:1: warning: bad");
}

TEST(config_errors, syntax_error_is_reported_once_at_its_location) {
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nqos = \n[spool]\nsync = \"sometimes\"\n"),
            lines{"t.toml:5:7: error: Error while parsing key-value pair: expected value, saw '\\n'"});
}

TEST(config_errors, unknown_key_with_a_suggestion) {
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nqso = 1\n"),
            lines{"t.toml:5:1: error: mqtt.qso: unknown key 'qso'; did you mean 'qos'?"});
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nreconnect = \"1s\"\n"),
            lines{"t.toml:5:1: error: mqtt.reconnect: unknown key 'reconnect'; did you mean 'reconnect_min_delay'?"});
  EXPECT_EQ(errors_of(agent_lines + "[[source.simulaotr]]\nname = \"s\"\n"),
            lines{"t.toml:4:10: error: source.simulaotr: unknown key 'simulaotr'; did you mean 'simulator'?"});
}

TEST(config_errors, unknown_key_without_a_suggestion) {
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nzebra = 1\n"), lines{"t.toml:5:1: error: mqtt.zebra: unknown key 'zebra'"});
}

TEST(config_errors, wrong_type) {
  EXPECT_EQ(errors_of(agent_lines + "heartbeat_interval = 5\n"),
            lines{"t.toml:4:22: error: agent.heartbeat_interval: expected a duration string like \"5s\", got integer"});
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nqos = \"1\"\ntls_verify = \"yes\"\n"),
            (lines{"t.toml:5:7: error: mqtt.qos: expected integer, got string",
                   "t.toml:6:14: error: mqtt.tls_verify: expected true or false, got string"}));
  EXPECT_EQ(errors_of(agent_lines + "[spool]\nmax_bytes = 1048576\n"),
            lines{"t.toml:5:13: error: spool.max_bytes: expected a size string like \"64MiB\", got integer"});
  EXPECT_EQ(errors_of(agent_lines + "[source.csv]\nname = \"c\"\n"),
            lines{"t.toml:4:1: error: source.csv: expected an array of tables ([[source.csv]]), got table"});
}

TEST(config_errors, out_of_range) {
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nqos = 3\nkeepalive = \"2h\"\n"),
            (lines{"t.toml:5:7: error: mqtt.qos: 3 is out of range 0..2",
                   "t.toml:6:13: error: mqtt.keepalive: '2h' is out of range 1s..1h"}));
  EXPECT_EQ(errors_of(agent_lines + "[spool]\nmax_bytes = \"10KiB\"\nbackfill_share = 0.01\n"),
            (lines{"t.toml:5:13: error: spool.max_bytes: '10KiB' is less than the minimum 64KiB",
                   "t.toml:6:18: error: spool.backfill_share: 0.01 is out of range 0.05..1"}));
}

TEST(config_errors, bad_enum) {
  EXPECT_EQ(errors_of(agent_lines + "[spool]\nsync = \"sometimes\"\n"),
            lines{"t.toml:5:8: error: spool.sync: 'sometimes' is not one of always, batch, never"});
  EXPECT_EQ(errors_of(agent_lines + "log_level = \"warning\"\n"),
            lines{"t.toml:4:13: error: agent.log_level: 'warning' is not one of debug, info, warn, error; did you mean 'warn'?"});
}

TEST(config_errors, missing_required_key) {
  EXPECT_EQ(errors_of("# agent\n\n[agent]\nsite = \"plant-1\"\n"),
            lines{"t.toml:3:1: error: agent: missing required key 'id'"});
  EXPECT_EQ(errors_of("[mqtt]\nqos = 1\n"),
            (lines{"t.toml:1:1: error: agent: missing required key 'id'",
                   "t.toml:1:1: error: agent: missing required key 'site'"}));
  EXPECT_EQ(errors_of(agent_lines + "[[source.csv]]\nname = \"c\"\n"),
            lines{"t.toml:4:1: error: source.csv[0]: missing required key 'directory'"});
}

TEST(config_errors, duplicate_source_name_across_kinds) {
  EXPECT_EQ(errors_of(agent_lines +
                      "[[source.modbus]]\nname = \"plc-1\"\naddress = \"tcp://plc\"\n"
                      "[[source.modbus.stock]]\nmaterial = \"m\"\nquantity = { area = \"holding\", address = 0 }\n"
                      "[[source.simulator]]\nname = \"plc-1\"\n"),
            lines{"t.toml:11:8: error: source.simulator[0].name: duplicate source name 'plc-1' (first defined at t.toml:5:8)"});
}

TEST(config_errors, sparkplug_ids_are_topic_levels) {
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nformat = \"sparkplg\"\n[sparkplug]\ngroup_id = \"a/b\"\n"
                                    "edge_node_id = \"n+1\"\nprimary_host_id = \"#\"\n"),
            (lines{"t.toml:5:10: error: mqtt.format: 'sparkplg' is not one of plant, sparkplug; did you mean 'sparkplug'?",
                   "t.toml:7:12: error: sparkplug.group_id: 'a/b' must not contain '/', '+' or '#' (it is a Sparkplug topic level)",
                   "t.toml:8:16: error: sparkplug.edge_node_id: 'n+1' must not contain '/', '+' or '#' (it is a Sparkplug topic level)",
                   "t.toml:9:19: error: sparkplug.primary_host_id: '#' must not contain '/', '+' or '#' (it is a Sparkplug topic level)"}));
}

TEST(config_errors, duplicate_material) {
  EXPECT_EQ(errors_of(agent_lines + "[[material]]\nid = \"oil\"\nlead_time = \"1d\"\n"
                                    "[[material]]\nid = \"oil\"\nlead_time = \"2d\"\n"),
            lines{"t.toml:8:6: error: material[1].id: duplicate material 'oil' (first defined at t.toml:5:6)"});
}

TEST(config_errors, unparseable_duration_and_size) {
  EXPECT_EQ(errors_of(agent_lines + "heartbeat_interval = \"5 sec\"\n[spool]\nmax_bytes = \"64mb\"\n"),
            (lines{"t.toml:4:22: error: agent.heartbeat_interval: '5 sec' is not a duration: spaces are not allowed; "
                   "write e.g. \"5s\" or \"1h30m\"",
                   "t.toml:6:13: error: spool.max_bytes: '64mb' is not a size: unknown unit 'mb'; use B, KiB, MiB, "
                   "GiB, TiB, KB, MB, GB or TB"}));
}

TEST(config_errors, names_must_be_topic_levels) {
  EXPECT_EQ(errors_of("[agent]\nid = \"a/b\"\nsite = \"\"\n[[material]]\nid = \"m\"\nlead_time = \"1h\"\nlines = [\"ok\", \"l#1\"]\n"),
            (lines{"t.toml:2:6: error: agent.id: 'a/b' may only contain letters, digits, '.', '_' and '-'",
                   "t.toml:3:8: error: agent.site: must not be empty",
                   "t.toml:7:16: error: material[0].lines[1]: 'l#1' may only contain letters, digits, '.', '_' and '-'"}));
}

TEST(config_errors, urls_addresses_and_prefixes) {
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nurl = \"mqtt://broker\"\ntopic_prefix = \"/plant\"\n"
                                    "[health]\nlisten = \"9464\"\n"),
            (lines{"t.toml:5:7: error: mqtt.url: url must start with tcp:// or ssl://",
                   "t.toml:6:16: error: mqtt.topic_prefix: topic_prefix must not start or end with '/'",
                   "t.toml:8:10: error: health.listen: listen must be \"host:port\", e.g. \"127.0.0.1:9464\""}));
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nurl = \"tcp://broker:99999\"\n[health]\nlisten = \"0.0.0.0:http\"\n"),
            (lines{"t.toml:5:7: error: mqtt.url: url port '99999' is not a number in 1..65535",
                   "t.toml:7:10: error: health.listen: listen port 'http' is not a number in 1..65535"}));
}

TEST(config_errors, cross_key_rules) {
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nreconnect_min_delay = \"10s\"\nreconnect_max_delay = \"5s\"\n"
                                    "[spool]\nmax_bytes = \"1MiB\"\n"
                                    "[[source.csv]]\nname = \"c\"\ndirectory = \"in\"\ndelimiter = \";;\"\n"),
            (lines{"t.toml:6:23: error: mqtt.reconnect_max_delay: reconnect_max_delay (5s) must not be less than "
                   "reconnect_min_delay (10s)",
                   "t.toml:8:13: error: spool.max_bytes: segment_bytes (16MiB) must not be larger than max_bytes (1MiB)",
                   "t.toml:12:13: error: source.csv[0].delimiter: delimiter must be exactly one character, got ';;'"}));
}

TEST(config_errors, unreadable_tls_file) {
  temp_dir dir;
  const std::string ca = dir.file("ca.pem");
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nurl = \"ssl://broker\"\nca_file = \"ca.pem\"\n", dir.path()),
            lines{"t.toml:6:11: error: mqtt.ca_file: cannot read '" + ca + "': No such file or directory"});
}

// A FIFO or a device named by mistake is refused, never opened for reading without end.
TEST(config_errors, a_tls_file_that_is_not_a_regular_file) {
  temp_dir dir;
  const std::string fifo = dir.file("ca.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(errors_of(agent_lines + "[mqtt]\nurl = \"ssl://broker\"\nca_file = \"/dev/zero\"\ncert_file = \"ca.fifo\"\n"
                                    "key_file = \"ca.fifo\"\n",
                      dir.path()),
            (lines{"t.toml:6:11: error: mqtt.ca_file: '/dev/zero' is not a regular file",
                   "t.toml:7:13: error: mqtt.cert_file: '" + fifo + "' is not a regular file",
                   "t.toml:8:12: error: mqtt.key_file: '" + fifo + "' is not a regular file"}));
}

TEST(config_errors, modbus_source_rules) {
  EXPECT_EQ(errors_of(agent_lines +
                      "[[source.modbus]]\nname = \"plc\"\naddress = \"tcp://plc\"\nbaud = 19200\n"
                      "interval = \"100ms\"\ntimeout = \"100ms\"\n"
                      "[[source.modbus]]\nname = \"rtu\"\naddress = \"rtu:///dev/ttyS0\"\nunit_id = 250\n"
                      "[[source.modbus.line]]\nid = \"l1\"\n"),
            (lines{"t.toml:4:1: error: source.modbus[0]: needs at least one [[source.modbus.line]] or [[source.modbus.stock]]",
                   "t.toml:7:1: error: source.modbus[0].baud: only applies to rtu:// addresses",
                   "t.toml:9:11: error: source.modbus[0].timeout: timeout (100ms) must be less than interval (100ms)",
                   "t.toml:13:11: error: source.modbus[1].unit_id: 250 is out of range 0..247 for rtu:// addresses",
                   "t.toml:14:1: error: source.modbus[1].line[0]: needs at least one of state, good_count, reject_count"}));
}

TEST(config_errors, modbus_point_rules) {
  const std::string source = agent_lines + "[[source.modbus]]\nname = \"plc\"\naddress = \"tcp://plc\"\n"
                                           "[[source.modbus.line]]\nid = \"l1\"\n";  // lines 4-8
  EXPECT_EQ(errors_of(source +
                      "state = { area = \"coil\", address = 1, type = \"uint16\" }\n"
                      "good_count = { area = \"holding\", address = 65535, type = \"uint32\" }\n"
                      "reject_count = { area = \"holding\", address = 1, order = \"CDAB\", bit = 3, type = \"int32\" }\n"),
            (lines{"t.toml:9:46: error: source.modbus[0].line[0].state.type: type 'uint16' does not fit area 'coil'; "
                   "coil and discrete points are bool",
                   "t.toml:10:44: error: source.modbus[0].line[0].good_count.address: address 65535 with type uint32 "
                   "(2 registers) runs past 65535",
                   "t.toml:11:65: error: source.modbus[0].line[0].reject_count.bit: bit only applies to input and "
                   "holding registers of type bool, int16 or uint16"}));
  EXPECT_EQ(errors_of(source +
                      "state = { area = \"holding\", address = 1, order = \"CDAB\", map = { x = \"idle\", 2 = \"runing\" } }\n"
                      "good_count = { area = \"holding\", address = 2, map = { 0 = \"idle\" } }\n"
                      "reject_count = { area = \"register\", adress = 3 }\n"),
            (lines{"t.toml:9:42: error: source.modbus[0].line[0].state.order: order only applies to 32- and 64-bit types",
                   "t.toml:9:66: error: source.modbus[0].line[0].state.map: map key 'x' is not an integer",
                   "t.toml:9:82: error: source.modbus[0].line[0].state.map.2: 'runing' is not one of running, idle, "
                   "starved, blocked, fault, maintenance, unknown; did you mean 'running'?",
                   "t.toml:10:47: error: source.modbus[0].line[0].good_count.map: map only applies to 'state' points",
                   "t.toml:11:16: error: source.modbus[0].line[0].reject_count: missing required key 'address'",
                   "t.toml:11:25: error: source.modbus[0].line[0].reject_count.area: 'register' is not one of coil, "
                   "discrete, input, holding",
                   "t.toml:11:37: error: source.modbus[0].line[0].reject_count.adress: unknown key 'adress'; did you "
                   "mean 'address'?"}));
}

TEST(config_errors, report_by_exception_rules) {
  const std::string source = agent_lines + "[[source.modbus]]\nname = \"plc\"\naddress = \"tcp://plc\"\n"
                                           "deadband = -1\nmax_interval = \"0s\"\n"
                                           "[[source.modbus.line]]\nid = \"l1\"\n";  // lines 4-10
  EXPECT_EQ(errors_of(source +
                      "state = { area = \"holding\", address = 1, deadband = 1, deadband_percent = 5 }\n"
                      "good_count = { area = \"holding\", address = 2, deadband_percent = -3, max_interval = 60 }\n"),
            (lines{"t.toml:7:12: error: source.modbus[0].deadband: -1 is less than the minimum 0",
                   "t.toml:8:16: error: source.modbus[0].max_interval: '0s' is out of range 1ms..30d",
                   "t.toml:11:42: error: source.modbus[0].line[0].state.deadband: only applies to numeric points; a "
                   "state is published whenever it changes (max_interval applies)",
                   "t.toml:11:56: error: source.modbus[0].line[0].state.deadband_percent: only applies to numeric "
                   "points; a state is published whenever it changes (max_interval applies)",
                   "t.toml:12:66: error: source.modbus[0].line[0].good_count.deadband_percent: -3 is less than the "
                   "minimum 0",
                   "t.toml:12:85: error: source.modbus[0].line[0].good_count.max_interval: expected a duration "
                   "string like \"5s\", got integer"}));
}

TEST(config_errors, all_errors_are_reported_in_file_order) {
  // toml++ iterates keys alphabetically ([agent] < [mqtt] < [spool]); the report must follow the file.
  EXPECT_EQ(errors_of("[spool]\nsync = \"no\"\n"
                      "[mqtt]\nqos = 9\nurl = \"broker\"\n"
                      "[agent]\nsite = \"plant-1\"\nid = \"x y\"\nbogus = true\n"),
            (lines{"t.toml:2:8: error: spool.sync: 'no' is not one of always, batch, never",
                   "t.toml:4:7: error: mqtt.qos: 9 is out of range 0..2",
                   "t.toml:5:7: error: mqtt.url: url must start with tcp:// or ssl://",
                   "t.toml:8:6: error: agent.id: 'x y' may only contain letters, digits, '.', '_' and '-'",
                   "t.toml:9:1: error: agent.bogus: unknown key 'bogus'"}));
}

TEST(config_errors, a_flood_of_errors_is_cut_with_a_count) {
  std::string text = agent_lines + "[mqtt]\n";
  for (int i = 0; i < 130; ++i) text += "unknown_" + std::to_string(i) + " = 1\n";
  const lines out = errors_of(text);
  ASSERT_EQ(out.size(), diagnostic_sink::max_reported + 1);
  EXPECT_EQ(out.front(), "t.toml:5:1: error: mqtt.unknown_0: unknown key 'unknown_0'");
  EXPECT_EQ(out.back(), "t.toml: error: 30 more errors not shown");
}

TEST(config_errors, ignored_keys_are_warnings) {
  temp_dir dir;
  dir.write("ca.pem", "ca");
  const load_result r = load_config_text(agent_lines + "[mqtt]\nca_file = \"ca.pem\"\n"
                                                       "[[source.csv]]\nname = \"c\"\ndirectory = \"in\"\nmove_to = \"old\"\n",
                                         "t.toml", {}, dir.path());
  ASSERT_TRUE(r.config);
  lines out;
  for (const diagnostic& d : r.warnings) out.push_back(d.to_string());
  EXPECT_EQ(out, (lines{"t.toml:5:11: warning: mqtt.ca_file: ignored: the url is tcp://; use ssl:// for TLS",
                        "t.toml:9:1: warning: source.csv[0].move_to: ignored unless after = \"move\""}));
}

}  // namespace
}  // namespace plant::config

namespace plant::config {
namespace {

TEST(config_errors, a_safety_stock_is_given_or_computed_from_the_service_level_not_both) {
  const std::string material = "[[material]]\nid = \"resin\"\nlead_time = \"24h\"\n";
  const load_result both =
      load_config_text(agent_lines + material + "safety_stock = 500.0\nservice_level = 0.95\n", "plant.toml");
  ASSERT_EQ(both.errors.size(), 1u);
  EXPECT_EQ(both.errors[0].to_string(),
            "plant.toml:8:1: error: material[0].service_level: set either safety_stock or service_level (which "
            "computes the safety stock), not both");
  const load_result useless = load_config_text(agent_lines + material + "lead_time_sd = \"4h\"\n", "plant.toml");
  EXPECT_TRUE(useless.errors.empty());
  ASSERT_FALSE(useless.warnings.empty());
  EXPECT_NE(useless.warnings.back().to_string().find("material[0].lead_time_sd: has no effect without service_level"),
            std::string::npos);
  EXPECT_FALSE(load_config_text(agent_lines + material + "service_level = 1.0\n", "plant.toml").errors.empty());
  const load_result ok =
      load_config_text(agent_lines + material + "service_level = 0.98\nlead_time_sd = \"6h\"\n[shortage]\nlate_grace = \"2h\"\n",
                       "plant.toml");
  ASSERT_TRUE(ok.config) << (ok.errors.empty() ? "" : ok.errors[0].to_string());
  EXPECT_EQ(ok.config->materials[0].service_level, std::optional<double>(0.98));
  EXPECT_EQ(ok.config->materials[0].lead_time_sd, std::chrono::hours(6));
  EXPECT_EQ(ok.config->shortage.late_grace, std::chrono::hours(2));
}

}  // namespace
}  // namespace plant::config
