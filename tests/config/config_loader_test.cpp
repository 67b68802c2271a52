#include "agent/config/config_loader.hpp"
#include "agent/sources/csv/csv_settings.hpp"
#include "agent/sources/modbus/modbus_settings.hpp"
#include "agent/sources/simulator/simulator_settings.hpp"
#include "common/config/loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace plant::config {
namespace {

std::vector<sources::simulator_settings> simulators(const agent_config& c) {
  return c.sources_of<sources::simulator_settings>();
}
std::vector<sources::csv_settings> csvs(const agent_config& c) { return c.sources_of<sources::csv_settings>(); }
std::vector<sources::modbus_settings> modbus(const agent_config& c) { return c.sources_of<sources::modbus_settings>(); }

using plant::test::temp_dir;

const std::string agent_lines = "[agent]\nid = \"gw-1\"\nsite = \"plant-1\"\n";

std::vector<std::string> texts(const std::vector<diagnostic>& list) {
  std::vector<std::string> out;
  for (const diagnostic& d : list) out.push_back(d.to_string());
  return out;
}

// Loads text that must be valid and returns the config.
agent_config load_ok(const std::string& text, const std::string& base_dir = "/etc/plant") {
  const load_result r = load_config_text(text, "t.toml", {}, base_dir);
  EXPECT_EQ(texts(r.errors), std::vector<std::string>{});
  return r.config.value_or(agent_config{});
}

TEST(config_loader, fills_the_agent_section) {
  const agent_config c = load_ok(
      "[agent]\n"
      "id = \"gw-7\"\n"
      "site = \"bremen.north_2\"\n"
      "state_dir = \"/data/agent\"\n"
      "log_level = \"debug\"\n"
      "heartbeat_interval = \"1m30s\"\n");
  EXPECT_EQ(c.agent.id, "gw-7");
  EXPECT_EQ(c.agent.site, "bremen.north_2");
  EXPECT_EQ(c.agent.state_dir, "/data/agent");
  EXPECT_EQ(c.agent.level, log_level::debug);
  EXPECT_EQ(c.agent.heartbeat_interval, millis{90000});
}

TEST(config_loader, fills_the_mqtt_section) {
  temp_dir dir;
  dir.write("pw", "secret\n");
  dir.write("tls/ca.pem", "ca");
  dir.write("tls/client.pem", "cert");
  dir.write("tls/client.key", "key");
  const std::string text = agent_lines +
                           "[mqtt]\n"
                           "url = \"ssl://broker.plant.local\"\n"
                           "client_id = \"agent-7\"\n"
                           "qos = 2\n"
                           "username = \"agent\"\n"
                           "password_file = \"pw\"\n"
                           "ca_file = \"tls/ca.pem\"\n"
                           "cert_file = \"tls/client.pem\"\n"
                           "key_file = \"tls/client.key\"\n"
                           "tls_verify = false\n"
                           "keepalive = \"45s\"\n"
                           "topic_prefix = \"acme/plant/v1\"\n"
                           "publish_interval = \"250ms\"\n"
                           "max_batch = 500\n"
                           "max_inflight = 32\n"
                           "connect_timeout = \"20s\"\n"
                           "reconnect_min_delay = \"500ms\"\n"
                           "reconnect_max_delay = \"2m\"\n"
                           "queue_max_messages = 2000\n"
                           "shutdown_timeout = \"0s\"\n";
  const agent_config c = load_ok(text, dir.path());
  const std::string d = dir.path();
  EXPECT_EQ(c.mqtt.url, "ssl://broker.plant.local:8883");  // the default port is spelled out
  EXPECT_EQ(c.mqtt.client_id, "agent-7");
  EXPECT_EQ(c.mqtt.qos, 2);
  EXPECT_EQ(c.mqtt.username, "agent");
  EXPECT_EQ(c.mqtt.password_file, d + "/pw");
  EXPECT_EQ(c.mqtt.ca_file, d + "/tls/ca.pem");
  EXPECT_EQ(c.mqtt.cert_file, d + "/tls/client.pem");
  EXPECT_EQ(c.mqtt.key_file, d + "/tls/client.key");
  EXPECT_FALSE(c.mqtt.tls_verify);
  EXPECT_EQ(c.mqtt.keepalive, millis{45000});
  EXPECT_EQ(c.mqtt.topic_prefix, "acme/plant/v1");
  EXPECT_EQ(c.mqtt.publish_interval, millis{250});
  EXPECT_EQ(c.mqtt.max_batch, 500u);
  EXPECT_EQ(c.mqtt.max_inflight, 32u);
  EXPECT_EQ(c.mqtt.connect_timeout, millis{20000});
  EXPECT_EQ(c.mqtt.reconnect_min_delay, millis{500});
  EXPECT_EQ(c.mqtt.reconnect_max_delay, millis{120000});
  EXPECT_EQ(c.mqtt.queue_max_messages, 2000u);
  EXPECT_EQ(c.mqtt.shutdown_timeout, millis{0});
}

TEST(config_loader, fills_the_spool_health_and_shortage_sections) {
  const agent_config c = load_ok(agent_lines +
                                 "[spool]\nenabled = false\nsync = \"always\"\nsync_interval = \"10ms\"\n"
                                 "max_bytes = \"1GB\"\nmax_age = \"2d\"\nsegment_bytes = \"4MiB\"\nbackfill_share = 0.25\n"
                                 "[health]\nlisten = \"127.0.0.1:9464\"\nmax_backlog_age = \"10m\"\n"
                                 "[shortage]\nenabled = false\nmargin = \"4h\"\nrate_half_life = \"30m\"\n"
                                 "surplus_margin = 1\n");
  EXPECT_FALSE(c.spool.enabled);
  EXPECT_EQ(c.spool.sync, sync_mode::always);
  EXPECT_EQ(c.spool.sync_interval, millis{10});
  EXPECT_EQ(c.spool.max_bytes, 1000000000u);
  EXPECT_EQ(c.spool.max_age, millis{2 * 86400000});
  EXPECT_EQ(c.spool.segment_bytes, 4u << 20);
  EXPECT_DOUBLE_EQ(c.spool.backfill_share, 0.25);
  EXPECT_EQ(c.health.listen, "127.0.0.1:9464");
  EXPECT_EQ(c.health.max_backlog_age, millis{600000});
  EXPECT_FALSE(c.shortage.enabled);
  EXPECT_EQ(c.shortage.margin, millis{4 * 3600000});
  EXPECT_EQ(c.shortage.rate_half_life, millis{1800000});
  EXPECT_DOUBLE_EQ(c.shortage.surplus_margin, 1.0);  // an integer is a fine number
}

TEST(config_loader, fills_simulator_sources) {
  const agent_config c = load_ok(agent_lines +
                                 "[[source.simulator]]\nname = \"sim-1\"\nseed = 42\nlines = 5\nmaterials = 0\n"
                                 "sample_interval = \"100ms\"\nspeed = 0\n"
                                 "[[source.simulator]]\nname = \"sim-2\"\n");
  ASSERT_EQ(simulators(c).size(), 2u);
  EXPECT_EQ(simulators(c)[0].common.name, "sim-1");
  EXPECT_EQ(simulators(c)[0].seed, 42u);
  EXPECT_EQ(simulators(c)[0].lines, 5);
  EXPECT_EQ(simulators(c)[0].materials, 0);
  EXPECT_EQ(simulators(c)[0].common.interval, millis{100});
  EXPECT_DOUBLE_EQ(simulators(c)[0].speed, 0.0);
  EXPECT_EQ(simulators(c)[1].common.name, "sim-2");
  EXPECT_EQ(simulators(c)[1].lines, sources::simulator_settings{}.lines);
}

TEST(config_loader, fills_csv_sources) {
  const agent_config c = load_ok(agent_lines +
                                 "[[source.csv]]\nname = \"erp\"\ndirectory = \"/srv/inbox\"\npattern = \"stock-*.txt\"\n"
                                 "material_column = \"item\"\nquantity_column = \"qty\"\ntimestamp_column = \"ts\"\n"
                                 "location_column = \"bin\"\nunit_column = \"uom\"\ndelimiter = \"\\t\"\n"
                                 "after = \"delete\"\npoll_interval = \"5s\"\nsettle_time = \"0s\"\n"
                                 "max_file_bytes = \"1MiB\"\n");
  ASSERT_EQ(csvs(c).size(), 1u);
  const sources::csv_settings s = csvs(c)[0];
  EXPECT_EQ(s.common.name, "erp");
  EXPECT_EQ(s.directory, "/srv/inbox");
  EXPECT_EQ(s.pattern, "stock-*.txt");
  EXPECT_EQ(s.material_column, "item");
  EXPECT_EQ(s.quantity_column, "qty");
  EXPECT_EQ(s.timestamp_column, "ts");
  EXPECT_EQ(s.location_column, "bin");
  EXPECT_EQ(s.unit_column, "uom");
  EXPECT_EQ(s.delimiter, '\t');
  EXPECT_EQ(s.after, sources::csv_after::remove);
  EXPECT_EQ(s.move_to, "");
  EXPECT_EQ(s.common.interval, millis{5000});
  EXPECT_EQ(s.settle_time, millis{0});
  EXPECT_EQ(s.max_file_bytes, 1u << 20);
}

TEST(config_loader, fills_modbus_sources_with_lines_stocks_and_points) {
  const agent_config c = load_ok(
      agent_lines +
      "[[source.modbus]]\nname = \"plc-1\"\naddress = \"tcp://10.0.0.5\"\nunit_id = 255\ninterval = \"200ms\"\n"
      "timeout = \"100ms\"\nmax_gap = 0\nreconnect_min_delay = \"2s\"\nreconnect_max_delay = \"1m\"\n"
      "[[source.modbus.line]]\nid = \"press-1\"\n"
      "state = { area = \"holding\", address = 10, map = { 0 = \"idle\", 1 = \"running\", 9 = \"fault\" } }\n"
      "good_count = { area = \"input\", address = 20, type = \"uint32\", order = \"CDAB\" }\n"
      "reject_count = { area = \"holding\", address = 22, bit = 3, scale = 2.5, offset = -1 }\n"
      "[[source.modbus.stock]]\nmaterial = \"oil\"\nunit = \"l\"\nlocation = \"tank-2\"\n"
      "quantity = { area = \"coil\", address = 7 }\n"
      "[[source.modbus]]\nname = \"scale-1\"\naddress = \"rtu:///dev/ttyUSB0\"\nunit_id = 247\nbaud = 19200\n"
      "parity = \"odd\"\ndata_bits = 7\nstop_bits = 2\n"
      "[[source.modbus.stock]]\nmaterial = \"flour\"\nquantity = { area = \"holding\", address = 65532, type = \"float64\" }\n");
  ASSERT_EQ(modbus(c).size(), 2u);
  const sources::modbus_settings plc = modbus(c)[0];
  EXPECT_EQ(plc.common.name, "plc-1");
  EXPECT_EQ(plc.address, "tcp://10.0.0.5:502");
  EXPECT_EQ(plc.unit_id, 255);
  EXPECT_EQ(plc.common.interval, millis{200});
  EXPECT_EQ(plc.timeout, millis{100});
  EXPECT_EQ(plc.max_gap, 0);
  EXPECT_EQ(plc.common.retry_min_delay, millis{2000});
  EXPECT_EQ(plc.common.retry_max_delay, millis{60000});
  EXPECT_EQ(plc.baud, 9600);
  EXPECT_EQ(plc.parity, 'N');
  ASSERT_EQ(plc.lines.size(), 1u);
  const sources::modbus_line& line = plc.lines[0];
  EXPECT_EQ(line.id, "press-1");
  ASSERT_TRUE(line.state && line.good_count && line.reject_count);
  EXPECT_EQ(line.state->area, sources::modbus_area::holding);
  EXPECT_EQ(line.state->address, 10);
  EXPECT_EQ(line.state->type, sources::modbus_type::uint16);  // default for registers
  EXPECT_EQ(line.state->map, (std::map<std::int64_t, std::string>{{0, "idle"}, {1, "running"}, {9, "fault"}}));
  EXPECT_EQ(line.state->key_path, "source.modbus[0].line[0].state");
  EXPECT_EQ(line.good_count->area, sources::modbus_area::input);
  EXPECT_EQ(line.good_count->type, sources::modbus_type::uint32);
  EXPECT_EQ(line.good_count->order, sources::word_order::cdab);
  EXPECT_EQ(line.reject_count->bit, 3);
  EXPECT_DOUBLE_EQ(line.reject_count->scale, 2.5);
  EXPECT_DOUBLE_EQ(line.reject_count->offset, -1.0);
  EXPECT_FALSE(line.good_count->bit.has_value());
  ASSERT_EQ(plc.stocks.size(), 1u);
  EXPECT_EQ(plc.stocks[0].material, "oil");
  EXPECT_EQ(plc.stocks[0].unit, "l");
  EXPECT_EQ(plc.stocks[0].location, "tank-2");
  EXPECT_EQ(plc.stocks[0].quantity.area, sources::modbus_area::coil);
  EXPECT_EQ(plc.stocks[0].quantity.type, sources::modbus_type::boolean);  // default for coils
  EXPECT_EQ(plc.stocks[0].quantity.key_path, "source.modbus[0].stock[0].quantity");

  const sources::modbus_settings scale = modbus(c)[1];
  EXPECT_EQ(scale.address, "rtu:///dev/ttyUSB0");
  EXPECT_EQ(scale.unit_id, 247);
  EXPECT_EQ(scale.baud, 19200);
  EXPECT_EQ(scale.parity, 'O');
  EXPECT_EQ(scale.data_bits, 7);
  EXPECT_EQ(scale.stop_bits, 2);
  EXPECT_TRUE(scale.lines.empty());
  EXPECT_EQ(scale.stocks[0].quantity.type, sources::modbus_type::float64);
}

TEST(config_loader, reads_report_by_exception_keys_on_sources_and_on_modbus_points) {
  using namespace std::chrono_literals;
  const load_result r = load_config_text(
      agent_lines +
          "[[source.modbus]]\nname = \"plc-1\"\naddress = \"tcp://10.0.0.5\"\ndeadband = 2.0\nmax_interval = \"5m\"\n"
          "[[source.modbus.line]]\nid = \"press-1\"\n"
          "state = { area = \"holding\", address = 10, max_interval = \"30s\" }\n"
          "good_count = { area = \"input\", address = 20, type = \"uint32\", deadband = 100 }\n"
          "[[source.modbus.stock]]\nmaterial = \"oil\"\n"
          "quantity = { area = \"holding\", address = 10, type = \"float32\", deadband = 0.5, max_interval = \"60s\" }\n"
          "[[source.simulator]]\nname = \"sim\"\ndeadband_percent = 1.5\n"
          "[[source.csv]]\nname = \"wms\"\ndirectory = \"/srv/in\"\nmax_interval = \"1h\"\n"
          "[[source.csv]]\nname = \"orders\"\nkind = \"receipts\"\ndirectory = \"/srv/po\"\ndeadband = 1\n",
      "t.toml");
  ASSERT_EQ(texts(r.errors), std::vector<std::string>{});
  ASSERT_TRUE(r.config);
  const agent_config& c = *r.config;
  const sources::modbus_settings plc = modbus(c).at(0);
  EXPECT_EQ(plc.common.report.deadband, 2.0);
  EXPECT_FALSE(plc.common.report.deadband_percent);
  EXPECT_EQ(plc.common.report.max_interval, 5min);
  EXPECT_EQ(plc.lines.at(0).state->report.max_interval, 30s);
  EXPECT_FALSE(plc.lines.at(0).state->report.deadband);
  EXPECT_EQ(plc.lines.at(0).good_count->report.deadband, 100.0);
  EXPECT_EQ(plc.stocks.at(0).quantity.report.deadband, 0.5);
  EXPECT_EQ(plc.stocks.at(0).quantity.report.max_interval, 60s);
  EXPECT_EQ(simulators(c).at(0).common.report.deadband_percent, 1.5);
  EXPECT_EQ(csvs(c).at(0).common.report.max_interval, 1h);
  EXPECT_FALSE(csvs(c).at(0).common.report.deadband);
  // Receipts are never published, so there is nothing to hold back: said, not fatal.
  EXPECT_EQ(texts(r.warnings),
            std::vector<std::string>{"t.toml:27:1: warning: source.csv[1].deadband: ignored for kind = 'receipts'"});
}

TEST(config_loader, fills_materials) {
  const agent_config c = load_ok(agent_lines +
                                 "[[material]]\nid = \"steel\"\nunit = \"kg\"\nsafety_stock = 100\nreorder_point = 400.5\n"
                                 "lead_time = \"2d\"\nlines = [\"press-1\", \"press-2\"]\nmargin = \"4h\"\n"
                                 "critical_horizon = \"12h\"\n"
                                 "[[material]]\nid = \"oil\"\nlead_time = \"1h\"\n");
  ASSERT_EQ(c.materials.size(), 2u);
  const material_config& m = c.materials[0];
  EXPECT_EQ(m.id, "steel");
  EXPECT_EQ(m.unit, "kg");
  EXPECT_DOUBLE_EQ(m.safety_stock, 100.0);
  EXPECT_EQ(m.reorder_point, 400.5);
  EXPECT_EQ(m.lead_time, millis{2 * 86400000});
  EXPECT_EQ(m.lines, (std::vector<std::string>{"press-1", "press-2"}));
  EXPECT_EQ(m.margin, millis{4 * 3600000});
  EXPECT_EQ(m.critical_horizon, millis{12 * 3600000});
  EXPECT_FALSE(c.materials[1].reorder_point.has_value());
  EXPECT_FALSE(c.materials[1].margin.has_value());
  EXPECT_FALSE(c.materials[1].critical_horizon.has_value());
  EXPECT_TRUE(c.materials[1].lines.empty());
}

// The schema's defaults and agent_config.hpp's must agree: modules may default-construct.
TEST(config_loader, schema_defaults_match_the_typed_defaults) {
  const agent_config c = load_ok(agent_lines +
                                 "[[source.simulator]]\nname = \"s\"\n"
                                 "[[source.csv]]\nname = \"c\"\ndirectory = \"/in\"\n"
                                 "[[source.modbus]]\nname = \"m\"\naddress = \"tcp://plc:502\"\n"
                                 "[[source.modbus.stock]]\nmaterial = \"x\"\nquantity = { area = \"holding\", address = 1 }\n"
                                 "[[material]]\nid = \"x\"\nlead_time = \"1d\"\n");
  const agent_config d;
  EXPECT_EQ(c.agent.state_dir, d.agent.state_dir);
  EXPECT_EQ(c.agent.level, d.agent.level);
  EXPECT_EQ(c.agent.heartbeat_interval, d.agent.heartbeat_interval);
  EXPECT_EQ(c.mqtt.url, d.mqtt.url);
  EXPECT_EQ(c.mqtt.client_id, d.mqtt.client_id);
  EXPECT_EQ(c.mqtt.qos, d.mqtt.qos);
  EXPECT_EQ(c.mqtt.username, d.mqtt.username);
  EXPECT_EQ(c.mqtt.password_file, d.mqtt.password_file);
  EXPECT_EQ(c.mqtt.ca_file, d.mqtt.ca_file);
  EXPECT_EQ(c.mqtt.cert_file, d.mqtt.cert_file);
  EXPECT_EQ(c.mqtt.key_file, d.mqtt.key_file);
  EXPECT_EQ(c.mqtt.tls_verify, d.mqtt.tls_verify);
  EXPECT_EQ(c.mqtt.keepalive, d.mqtt.keepalive);
  EXPECT_EQ(c.mqtt.topic_prefix, d.mqtt.topic_prefix);
  EXPECT_EQ(c.mqtt.publish_interval, d.mqtt.publish_interval);
  EXPECT_EQ(c.mqtt.max_batch, d.mqtt.max_batch);
  EXPECT_EQ(c.mqtt.max_inflight, d.mqtt.max_inflight);
  EXPECT_EQ(c.mqtt.connect_timeout, d.mqtt.connect_timeout);
  EXPECT_EQ(c.mqtt.reconnect_min_delay, d.mqtt.reconnect_min_delay);
  EXPECT_EQ(c.mqtt.reconnect_max_delay, d.mqtt.reconnect_max_delay);
  EXPECT_EQ(c.mqtt.queue_max_messages, d.mqtt.queue_max_messages);
  EXPECT_EQ(c.mqtt.shutdown_timeout, d.mqtt.shutdown_timeout);
  EXPECT_EQ(c.spool.enabled, d.spool.enabled);
  EXPECT_EQ(c.spool.sync, d.spool.sync);
  EXPECT_EQ(c.spool.sync_interval, d.spool.sync_interval);
  EXPECT_EQ(c.spool.max_bytes, d.spool.max_bytes);
  EXPECT_EQ(c.spool.max_age, d.spool.max_age);
  EXPECT_EQ(c.spool.segment_bytes, d.spool.segment_bytes);
  EXPECT_EQ(c.spool.backfill_share, d.spool.backfill_share);
  EXPECT_EQ(c.health.listen, d.health.listen);
  EXPECT_EQ(c.health.max_backlog_age, d.health.max_backlog_age);
  EXPECT_EQ(c.shortage.enabled, d.shortage.enabled);
  EXPECT_EQ(c.shortage.margin, d.shortage.margin);
  EXPECT_EQ(c.shortage.rate_half_life, d.shortage.rate_half_life);
  EXPECT_EQ(c.shortage.surplus_margin, d.shortage.surplus_margin);

  const sources::simulator_settings sd;
  EXPECT_EQ(simulators(c).at(0).seed, sd.seed);
  EXPECT_EQ(simulators(c).at(0).lines, sd.lines);
  EXPECT_EQ(simulators(c).at(0).materials, sd.materials);
  EXPECT_EQ(simulators(c).at(0).common.interval, sd.common.interval);
  EXPECT_EQ(simulators(c).at(0).speed, sd.speed);

  const sources::csv_settings cd;
  const sources::csv_settings cs = csvs(c).at(0);
  EXPECT_EQ(cs.pattern, cd.pattern);
  EXPECT_EQ(cs.material_column, cd.material_column);
  EXPECT_EQ(cs.quantity_column, cd.quantity_column);
  EXPECT_EQ(cs.timestamp_column, cd.timestamp_column);
  EXPECT_EQ(cs.location_column, cd.location_column);
  EXPECT_EQ(cs.unit_column, cd.unit_column);
  EXPECT_EQ(cs.delimiter, cd.delimiter);
  EXPECT_EQ(cs.after, cd.after);
  EXPECT_EQ(cs.move_to, cd.move_to);
  EXPECT_EQ(cs.common.interval, cd.common.interval);
  EXPECT_EQ(cs.settle_time, cd.settle_time);
  EXPECT_EQ(cs.max_file_bytes, cd.max_file_bytes);

  const sources::modbus_settings md;
  const sources::modbus_settings ms = modbus(c).at(0);
  EXPECT_EQ(ms.unit_id, md.unit_id);
  EXPECT_EQ(ms.common.interval, md.common.interval);
  EXPECT_EQ(ms.timeout, md.timeout);
  EXPECT_EQ(ms.baud, md.baud);
  EXPECT_EQ(ms.parity, md.parity);
  EXPECT_EQ(ms.data_bits, md.data_bits);
  EXPECT_EQ(ms.stop_bits, md.stop_bits);
  EXPECT_EQ(ms.max_gap, md.max_gap);
  EXPECT_EQ(ms.common.retry_min_delay, md.common.retry_min_delay);
  EXPECT_EQ(ms.common.retry_max_delay, md.common.retry_max_delay);
  const sources::modbus_point pd;
  const sources::modbus_point& p = ms.stocks.at(0).quantity;
  EXPECT_EQ(p.type, pd.type);
  EXPECT_EQ(p.order, pd.order);
  EXPECT_EQ(p.bit, pd.bit);
  EXPECT_EQ(p.scale, pd.scale);
  EXPECT_EQ(p.offset, pd.offset);

  const material_config& m = c.materials.at(0);
  EXPECT_EQ(m.unit, material_config{}.unit);
  EXPECT_EQ(m.safety_stock, material_config{}.safety_stock);
}

TEST(config_loader, resolves_relative_paths_against_the_base_dir) {
  const agent_config c = load_ok(
      "[agent]\nid = \"gw-1\"\nsite = \"plant-1\"\nstate_dir = \"state/\"\n"
      "[[source.csv]]\nname = \"erp\"\ndirectory = \"../drop/./in\"\nafter = \"move\"\n"
      "[[source.csv]]\nname = \"mes\"\ndirectory = \"/abs/in\"\nafter = \"move\"\nmove_to = \"archive\"\n",
      "/etc/plant");
  EXPECT_EQ(c.agent.state_dir, "/etc/plant/state");
  EXPECT_EQ(csvs(c).at(0).directory, "/etc/drop/in");
  EXPECT_EQ(csvs(c).at(0).move_to, "/etc/drop/in/done");  // default when after = "move"
  EXPECT_EQ(csvs(c).at(1).directory, "/abs/in");
  EXPECT_EQ(csvs(c).at(1).move_to, "/etc/plant/archive");
}

TEST(config_loader, load_config_file_resolves_against_the_file_directory) {
  temp_dir dir;
  dir.write("conf/secret", "pw");
  const std::string path = dir.write("conf/agent.toml", agent_lines + "[mqtt]\npassword_file = \"secret\"\n");
  const load_result r = load_config_file(path);
  ASSERT_EQ(texts(r.errors), std::vector<std::string>{});
  EXPECT_EQ(r.config->mqtt.password_file, dir.file("conf/secret"));
  EXPECT_EQ(r.config->source_path, path);
}

TEST(config_loader, load_config_file_reports_an_unreadable_file) {
  temp_dir dir;
  const std::string path = dir.file("missing.toml");
  const load_result r = load_config_file(path);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(texts(r.errors), std::vector<std::string>{path + ": error: cannot read '" + path +
                                                      "': No such file or directory"});
}

TEST(config_loader, warns_when_no_source_is_configured) {
  const load_result r = load_config_text(agent_lines, "t.toml");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(texts(r.warnings),
            std::vector<std::string>{"t.toml:1:1: warning: no sources configured; the agent will only publish its status"});
  const load_result with_source = load_config_text(agent_lines + "[[source.simulator]]\nname = \"s\"\n", "t.toml");
  EXPECT_EQ(texts(with_source.warnings), std::vector<std::string>{});
}

TEST(config_loader, reads_the_mqtt_protocol_and_warns_about_qos_2_over_3_1_1_past_a_brokers_quota) {
  const std::string source = "[[source.simulator]]\nname = \"s\"\n";
  EXPECT_EQ(load_ok(agent_lines + source).mqtt.protocol, mqtt_protocol::automatic);
  EXPECT_EQ(load_ok(agent_lines + "[mqtt]\nprotocol = \"5\"\n" + source).mqtt.protocol, mqtt_protocol::v5);
  const load_result risky =
      load_config_text(agent_lines + "[mqtt]\nprotocol = \"3.1.1\"\nqos = 2\nmax_inflight = 64\n" + source, "t.toml");
  ASSERT_TRUE(risky.config);
  EXPECT_EQ(risky.config->mqtt.protocol, mqtt_protocol::v3_1_1);
  ASSERT_EQ(texts(risky.warnings).size(), 1u);
  EXPECT_EQ(texts(risky.warnings)[0].rfind("t.toml:7:16: warning: mqtt.max_inflight: 64 with qos = 2 over MQTT 3.1.1", 0),
            0u)
      << texts(risky.warnings)[0];
  // The same under MQTT 5, or within the quota: nothing to warn about.
  for (const std::string mqtt : {"[mqtt]\nqos = 2\nmax_inflight = 64\n", "[mqtt]\nprotocol = \"3.1.1\"\nqos = 2\nmax_inflight = 20\n"}) {
    const load_result fine = load_config_text(agent_lines + mqtt + source, "t.toml");
    EXPECT_EQ(texts(fine.warnings), std::vector<std::string>{}) << mqtt;
  }
}

TEST(config_hash, is_sixteen_hex_digits_and_stable) {
  const agent_config a = load_ok(agent_lines);
  const agent_config b = load_ok(agent_lines);
  EXPECT_EQ(a.hash.size(), 16u);
  EXPECT_EQ(a.hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a.hash, b.hash);
}

TEST(config_hash, ignores_comments_order_and_spelling) {
  const agent_config plain = load_ok(agent_lines);
  // Comments, key order, written-out defaults and other spellings of the same value do not matter.
  const agent_config spelled = load_ok(
      "# a comment\n[mqtt]\nkeepalive = \"30000ms\"\nurl = \"tcp://localhost\"\nqos = 1\n"
      "[agent]\nsite = \"plant-1\"\nid = \"gw-1\"\nheartbeat_interval = \"30s\"\n"
      "[spool]\nmax_bytes = \"262144KiB\"\nbackfill_share = 0.50\n");
  EXPECT_EQ(plain.hash, spelled.hash);
}

TEST(config_hash, is_fnv1a_of_the_sorted_effective_lines_each_ended_by_a_newline) {
  // The hash is fed line by line; it must stay the hash of the joined text, as before.
  const load_result loaded = load_config_text(agent_lines + "[[source.simulator]]\nname = \"s\"\n", "t.toml");
  ASSERT_TRUE(loaded.config && loaded.tree);
  std::string joined;
  for (const std::string& line : effective_lines(*loaded.tree)) joined += line + "\n";
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : joined) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  EXPECT_EQ(loaded.config->hash, hex);
}

TEST(config_tree, every_position_shares_one_copy_of_the_file_name) {
  // Two positions per key, defaulted keys included: a copy of the name in each
  // was a megabyte of heap at 1,000 Modbus points.
  const load_result loaded = load_config_text(agent_lines + "[[source.simulator]]\nname = \"s\"\n", "a-long-file-name-past-sso.toml");
  ASSERT_TRUE(loaded.tree);
  const table_value& agent = loaded.tree->get("agent").tables.at(0);
  const table_value& simulator = loaded.tree->get("source").tables.at(0).get("simulator").tables.at(0);
  const std::string* name = &agent.get("id").at.file.str();
  EXPECT_EQ(*name, "a-long-file-name-past-sso.toml");
  for (const position* at : {&agent.get("id").key_at, &agent.get("site").at, &agent.get("heartbeat_interval").at,
                             &simulator.get("name").at, &simulator.get("speed").at, &simulator.at})
    EXPECT_EQ(&at->file.str(), name) << to_string(*at);
}

TEST(config_hash, changes_when_any_value_changes) {
  const std::string base = load_ok(agent_lines).hash;
  std::vector<std::string> seen{base};
  for (const char* extra : {"[mqtt]\nqos = 0\n", "[spool]\nbackfill_share = 0.6\n", "[health]\nmax_backlog_age = \"6m\"\n",
                            "[shortage]\nenabled = false\n", "[[source.simulator]]\nname = \"s\"\n",
                            "[[source.simulator]]\nname = \"s\"\nspeed = 2\n", "[[material]]\nid = \"m\"\nlead_time = \"1h\"\n"}) {
    const std::string hash = load_ok(agent_lines + extra).hash;
    EXPECT_EQ(std::find(seen.begin(), seen.end(), hash), seen.end()) << extra;
    seen.push_back(hash);
  }
  // Relative paths are part of the effective config once resolved.
  const std::string relative = "[agent]\nid = \"gw-1\"\nsite = \"plant-1\"\nstate_dir = \"s\"\n";
  EXPECT_NE(load_ok(relative, "/a").hash, load_ok(relative, "/b").hash);
}

}  // namespace
}  // namespace plant::config
