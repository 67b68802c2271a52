// plant-agent as a Sparkplug B edge node, end to end: the real agent, a real
// Mosquitto, and an independent host (Eclipse Tahu's JavaScript codec and
// MQTT.js, tests/sparkplug/sparkplug_peer.mjs) that decodes every payload.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cmath>
#include <map>
#include <set>

#include "common/wire/json_reader.hpp"
#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/modbus_test_server.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/shortage_scenario.hpp"
#include "tests/support/sparkplug_peer.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string sparkplug_mqtt = "format = \"sparkplug\"\npublish_interval = \"200ms\"\nkeepalive = \"2s\"\n";

const std::string simulator_section =
    "[[source.simulator]]\nname = \"sim\"\nseed = 7\nlines = 2\nmaterials = 3\ninterval = \"1s\"\nspeed = 10.0\n"
    "[[material]]\nid = \"resin-pellets\"\nunit = \"kg\"\nlead_time = \"2h\"\nlines = [\"line-1\"]\n";

std::string type_of(const wire::json_value& metric) { return text_of(metric, "type"); }

bool has_alias(const wire::json_value& metric) {
  const wire::json_value* alias = metric.find("alias");
  return alias != nullptr && alias->is_number();
}

// The Quality or engUnit property of a metric as Tahu decoded it ({"value":..,"type":..}).
const wire::json_value* property(const wire::json_value& metric, const std::string& key) {
  const wire::json_value* properties = metric.find("properties");
  return properties && properties->is_object() ? properties->find(key) : nullptr;
}

long long bdseq_of(const peer_message& m) {
  const wire::json_value* bdseq = m.metric("bdSeq");
  return bdseq ? static_cast<long long>(number_of(*bdseq)) : -1;
}

// True once a message of `type` came after the last NBIRTH (the session is carrying data).
bool after_last_birth(const std::vector<peer_message>& messages, const std::string& type) {
  bool seen = false;
  for (const auto& m : messages) {
    if (m.type == "NBIRTH") seen = false;
    if (m.type == type) seen = true;
  }
  return seen;
}

std::string listing(const std::vector<peer_message>& messages) {
  std::string out;
  for (const auto& m : messages) out += m.type + (m.device.empty() ? "" : "/" + m.device) + " seq " + std::to_string(m.seq()) + "\n";
  return out;
}

TEST(sparkplug, every_payload_decodes_with_tahu_with_the_exact_metric_names_types_units_and_session_rules) {
  temp_dir dir("sparkplug-e2e");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  sparkplug_listener host(dir);
  ASSERT_TRUE(host.start(broker.url()));
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--sparkplug", "--json", "--audit", "--duration", "120s", "--client-id", "watch-1"}));
  PLANT_ASSERT_EVENTUALLY(broker.has_subscription("watch-1", "spBv1.0/#"), 10s);
  agent_process agent(dir, "agent",
                      agent_config_text("gw-1", "site-a", dir.file("state"), broker.url(), sparkplug_mqtt, simulator_section));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(host.of_type("DDATA").size() >= 15, 30s) << agent.log() << listing(host.messages());
  ASSERT_TRUE(agent.process().signal(SIGTERM));
  ASSERT_TRUE(agent.process().wait(15s).has_value());
  PLANT_ASSERT_EVENTUALLY(!host.of_type("NDEATH").empty(), 10s) << listing(host.messages());

  const auto messages = host.messages();
  for (const auto& m : messages) {
    EXPECT_EQ(m.json.find("error"), nullptr) << "Tahu could not decode " << m.topic << ": " << text_of(m.json, "error");
    if (m.type != "STATE") {
      EXPECT_EQ(text_of(m.json, "group"), "site-a");
      EXPECT_EQ(text_of(m.json, "node"), "gw-1");
    }
  }
  const auto births = host.of_type("NBIRTH");
  ASSERT_EQ(births.size(), 1u) << listing(messages);
  const peer_message& nbirth = births.front();
  EXPECT_EQ(nbirth.seq(), 0);
  const std::map<std::string, std::string> node_metrics{
      {"bdSeq", "UInt64"}, {"Node Control/Rebirth", "Boolean"}, {"Properties/Version", "String"},
      {"agent/backlog_messages", "UInt64"}, {"agent/backlog_oldest_age_ms", "UInt64"}, {"agent/dropped", "UInt64"},
      {"agent/corrupted", "UInt64"}, {"shortage/resin-pellets/status", "String"},
      {"shortage/resin-pellets/projected_stockout", "DateTime"}, {"shortage/resin-pellets/rate", "Double"}};
  for (const auto& [name, type] : node_metrics) {
    const wire::json_value* metric = nbirth.metric(name);
    ASSERT_NE(metric, nullptr) << name;
    EXPECT_EQ(type_of(*metric), type) << name;
  }
  EXPECT_FALSE(has_alias(*nbirth.metric("Node Control/Rebirth"))) << "the rebirth metric must have no alias";
  EXPECT_EQ(nbirth.metric("Node Control/Rebirth")->find("value")->as_bool(), false);

  const auto device_births = host.of_type("DBIRTH");
  ASSERT_EQ(device_births.size(), 1u) << listing(messages);
  const peer_message& dbirth = device_births.front();
  EXPECT_EQ(dbirth.device, "sim");
  EXPECT_EQ(dbirth.topic, "spBv1.0/site-a/DBIRTH/gw-1/sim");
  for (const char* line : {"line-1", "line-2"}) {
    const std::string base = std::string("line/") + line + "/";
    const std::map<std::string, std::string> fields{
        {"state", "String"}, {"good_count", "UInt64"}, {"reject_count", "UInt64"}, {"good_rate", "Double"}};
    for (const auto& [field, type] : fields) {
      const wire::json_value* metric = dbirth.metric(base + field);
      ASSERT_NE(metric, nullptr) << base + field;
      EXPECT_EQ(type_of(*metric), type) << base + field;
      const wire::json_value* q = property(*metric, "Quality");
      ASSERT_NE(q, nullptr) << base + field;
      EXPECT_EQ(text_of(*q, "type"), "Int32");
      EXPECT_EQ(number_of(*q), 192.0);
    }
    static const std::set<std::string> states{"running", "idle", "starved", "blocked", "fault", "maintenance", "unknown"};
    EXPECT_TRUE(states.count(text_of(*dbirth.metric(base + "state"), "value"))) << base;
  }
  int stocks = 0;
  for (const auto& metric : dbirth.metrics()) {
    const std::string name = text_of(metric, "name");
    if (name.rfind("stock/", 0) != 0) continue;
    ++stocks;
    EXPECT_EQ(name.substr(name.size() - 9), "/quantity") << name;
    EXPECT_EQ(type_of(metric), "Double") << name;
    const wire::json_value* unit = property(metric, "engUnit");
    ASSERT_NE(unit, nullptr) << name;
    EXPECT_EQ(text_of(*unit, "type"), "String");
    EXPECT_FALSE(text_of(*unit, "value").empty()) << name;
  }
  EXPECT_EQ(stocks, 3);

  // Aliases: unique across the node, announced in births, used alone in data.
  std::set<long long> aliases;
  std::size_t announced = 0;
  for (const peer_message* birth : {&nbirth, &dbirth})
    for (const auto& metric : birth->metrics())
      if (has_alias(metric)) ++announced, aliases.insert(static_cast<long long>(number_of(metric, "alias")));
  EXPECT_EQ(aliases.size(), announced);
  for (const auto& data : host.of_type("DDATA")) {
    EXPECT_EQ(data.device, "sim");
    ASSERT_FALSE(data.metrics().empty()) << "report by exception sends no empty DDATA";
    for (const auto& metric : data.metrics()) {
      EXPECT_EQ(metric.find("name")->type(), wire::json_value::kind::null) << "data carries the alias alone";
      EXPECT_TRUE(aliases.count(static_cast<long long>(number_of(metric, "alias"))));
      EXPECT_NE(metric.find("value")->type(), wire::json_value::kind::null);
      EXPECT_FALSE(metric.find("isHistorical")->as_bool());
      EXPECT_GT(number_of(metric, "timestamp"), 0.0) << "each metric carries its sample's time";
    }
  }

  // seq 0 in the NBIRTH, then + 1 per message; the NDEATH has none and the birth's bdSeq.
  long long previous = -1;
  for (const auto& m : messages) {
    if (m.type == "STATE" || m.type == "NDEATH" || m.type == "NCMD") continue;
    if (previous >= 0) {
      EXPECT_EQ(m.seq(), (previous + 1) % 256) << m.topic;
    }
    previous = m.seq();
  }
  const peer_message ndeath = host.of_type("NDEATH").front();
  EXPECT_EQ(ndeath.seq(), -1);
  EXPECT_EQ(bdseq_of(ndeath), bdseq_of(nbirth));

  // plant-watch read the same stream: decoded by name, and an audit without gaps.
  ASSERT_TRUE(watch.process().signal(SIGINT));
  ASSERT_TRUE(watch.process().wait(10s).has_value());
  std::size_t ddata_lines = 0;
  for (const auto& line : watch.json()) {
    if (line.rfind("{\"audit\"", 0) == 0) continue;
    EXPECT_EQ(json_string(line, "kind"), "sparkplug") << line;
    EXPECT_EQ(json_string(line, "group_id"), "site-a") << line;
    EXPECT_EQ(json_string(line, "edge_node_id"), "gw-1") << line;
    if (json_string(line, "message_type") == "DDATA") {
      ++ddata_lines;
      EXPECT_EQ(json_string(line, "device_id"), "sim") << line;
      EXPECT_EQ(json_integer(line, "bdSeq"), bdseq_of(nbirth)) << line;
      EXPECT_NE(line.find("\"name\":\"stock/"), std::string::npos) << line;
      EXPECT_EQ(line.find("\"name\":null"), std::string::npos) << "every alias resolved: " << line;
    }
  }
  EXPECT_EQ(ddata_lines, host.of_type("DDATA").size());
  const std::string audit = watch.audit_line("gw-1");
  ASSERT_FALSE(audit.empty()) << watch.output() << watch.errors();
  EXPECT_EQ(json_string(audit, "kind"), "sparkplug") << audit;
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "repeats"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "unknown_aliases"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "births"), 1) << audit;
  EXPECT_EQ(json_integer(audit, "deaths"), 1) << audit;
}

TEST(sparkplug, bdseq_survives_kill9_the_will_ndeath_matches_the_birth_and_the_next_session_has_the_next_bdseq) {
  temp_dir dir("sparkplug-kill9");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  sparkplug_listener host(dir);
  ASSERT_TRUE(host.start(broker.url()));
  const std::string config = agent_config_text("gw-1", "site-a", dir.file("state"), broker.url(), sparkplug_mqtt,
                                               simulator_section);
  agent_process first(dir, "first", config);
  ASSERT_TRUE(first.start());
  PLANT_ASSERT_EVENTUALLY(host.of_type("DDATA").size() >= 2, 20s) << first.log();
  first.process().kill9();
  // The broker publishes the Will once the keepalive (2 s) has run out.
  PLANT_ASSERT_EVENTUALLY(!host.of_type("NDEATH").empty(), 15s) << listing(host.messages());
  const long long first_bdseq = bdseq_of(host.of_type("NBIRTH").front());
  EXPECT_EQ(bdseq_of(host.of_type("NDEATH").front()), first_bdseq) << "the Will carries the session's bdSeq";

  agent_process second(dir, "second", config);
  ASSERT_TRUE(second.start());
  PLANT_ASSERT_EVENTUALLY(host.of_type("NBIRTH").size() >= 2, 20s) << second.log();
  EXPECT_EQ(bdseq_of(host.of_type("NBIRTH")[1]), (first_bdseq + 1) % 256);
  EXPECT_EQ(host.of_type("NBIRTH")[1].seq(), 0);
  // What the first run sealed and did not see acknowledged comes again, as history.
  PLANT_ASSERT_EVENTUALLY(host.of_type("DDATA").size() >= 4, 20s) << second.log();
  ASSERT_TRUE(second.process().signal(SIGTERM));
  ASSERT_TRUE(second.process().wait(15s).has_value());
  PLANT_ASSERT_EVENTUALLY(host.of_type("NDEATH").size() >= 2, 10s) << listing(host.messages());
  EXPECT_EQ(bdseq_of(host.of_type("NDEATH")[1]), (first_bdseq + 1) % 256);
}

// Stock readings by sample time, live and held (over all sources and materials).
struct reading_times {
  std::set<long long> live, held;
};

reading_times times_of(const std::vector<peer_message>& messages) {
  reading_times t;
  for (const auto& m : messages) {
    if (m.type != "DDATA") continue;
    for (const auto& metric : m.metrics())
      (metric.find("isHistorical")->as_bool() ? t.held : t.live).insert(static_cast<long long>(number_of(metric, "timestamp")));
  }
  return t;
}

// Sample times step by the simulator's interval (1 s of plant time): none may be missing.
void expect_no_missing_sample_time(const reading_times& t, long long step) {
  std::set<long long> all = t.live;
  all.insert(t.held.begin(), t.held.end());
  long long previous = -1;
  for (long long at : all) {
    if (previous >= 0) {
      EXPECT_LE(at - previous, step) << "no sample time is missing between " << previous << " and " << at;
    }
    previous = at;
  }
}

TEST(sparkplug, a_broker_restart_gives_a_new_session_with_the_next_bdseq_and_loses_no_sample) {
  temp_dir dir("sparkplug-restart");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  sparkplug_listener host(dir);
  ASSERT_TRUE(host.start(broker.url(), "sparkplug-host"));
  agent_process agent(dir, "agent",
                      agent_config_text("gw-1", "site-a", dir.file("state"), broker.url(), sparkplug_mqtt,
                                        simulator_section));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(host.of_type("DDATA").size() >= 5, 20s) << agent.log();
  for (int restart = 0; restart < 3; ++restart) {
    ASSERT_TRUE(broker.restart());
    PLANT_ASSERT_EVENTUALLY(host.of_type("NBIRTH").size() >= static_cast<std::size_t>(restart) + 2, 20s)
        << agent.log() << listing(host.messages());
    // The next restart once this session carries data.
    PLANT_ASSERT_EVENTUALLY(after_last_birth(host.messages(), "DDATA"), 20s) << listing(host.messages());
  }
  ASSERT_TRUE(agent.process().signal(SIGTERM));
  ASSERT_TRUE(agent.process().wait(15s).has_value());
  PLANT_ASSERT_EVENTUALLY(!host.of_type("NDEATH").empty(), 10s) << listing(host.messages());
  const auto births = host.of_type("NBIRTH");
  for (std::size_t i = 1; i < births.size(); ++i) {
    EXPECT_EQ(bdseq_of(births[i]), (bdseq_of(births[i - 1]) + 1) % 256) << "one bdSeq per session";
    EXPECT_EQ(births[i].seq(), 0);
  }
  expect_no_missing_sample_time(times_of(host.messages()), 1000);
}

TEST(sparkplug, a_rebirth_command_gives_a_fresh_nbirth_and_dbirth_with_the_same_bdseq_and_no_ndeath) {
  temp_dir dir("sparkplug-rebirth");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  sparkplug_listener host(dir);
  ASSERT_TRUE(host.start(broker.url()));
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(dir, "agent",
                      agent_config_text("gw-1", "site-a", dir.file("state"), broker.url(), sparkplug_mqtt,
                                        "[health]\nlisten = \"127.0.0.1:" + std::to_string(health_port) + "\"\n" +
                                            simulator_section));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(host.of_type("DDATA").size() >= 2, 20s) << agent.log();
  ASSERT_TRUE(request_rebirth(broker.url(), "site-a", "gw-1"));
  PLANT_ASSERT_EVENTUALLY(host.of_type("DBIRTH").size() >= 2, 10s) << agent.log() << listing(host.messages());
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_sparkplug_rebirth_requests_total"), 1.0);
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_sparkplug_births_total"), 2.0);
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_sparkplug_born"), 1.0);
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_sparkplug_bdseq"), 0.0);
  const auto messages = host.messages();
  std::size_t rebirth = 0;
  for (std::size_t i = 1; i < messages.size(); ++i)
    if (messages[i].type == "NBIRTH") rebirth = i;
  ASSERT_GT(rebirth, 0u) << listing(messages);
  EXPECT_EQ(messages[rebirth].seq(), 0);
  EXPECT_EQ(bdseq_of(messages[rebirth]), bdseq_of(host.of_type("NBIRTH").front()));
  EXPECT_EQ(messages[rebirth + 1].type, "DBIRTH");
  EXPECT_EQ(messages[rebirth + 1].seq(), 1);
  EXPECT_TRUE(host.of_type("NDEATH").empty()) << listing(messages);
  EXPECT_NE(agent.log().find("rebirth requested"), std::string::npos);
}

std::string modbus_section(const std::string& address) {
  return "[[source.modbus]]\nname = \"plc-1\"\naddress = \"" + address +
         "\"\nunit_id = 1\ninterval = \"200ms\"\ntimeout = \"100ms\"\nretry_min_delay = \"100ms\"\n"
         "retry_max_delay = \"300ms\"\n"
         "[[source.modbus.line]]\nid = \"line-1\"\n"
         "state = { area = \"holding\", address = 100, type = \"uint16\", map = { 0 = \"idle\", 1 = \"running\" } }\n"
         "good_count = { area = \"holding\", address = 102, type = \"uint32\" }\n"
         "[[source.modbus.stock]]\nmaterial = \"silo-1\"\nunit = \"kg\"\n"
         "quantity = { area = \"holding\", address = 200, type = \"float32\" }\n";
}

TEST(sparkplug, a_modbus_device_never_answering_is_born_null_and_bad_then_dies_with_ddeath_and_is_born_again) {
  temp_dir dir("sparkplug-modbus");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  sparkplug_listener host(dir);
  ASSERT_TRUE(host.start(broker.url()));
  modbus_test_server plc;
  ASSERT_TRUE(plc.start());
  const std::uint16_t port = plc.port();
  plc.stop();  // configured but not answering yet
  plc.set_holding(100, 1);
  plc.set_uint32(102, 500, sources::word_order::abcd);
  plc.set_float32(200, 1234.5f, sources::word_order::abcd);
  agent_process agent(dir, "agent",
                      agent_config_text("gw-1", "site-a", dir.file("state"), broker.url(), sparkplug_mqtt,
                                        modbus_section("tcp://127.0.0.1:" + std::to_string(port))));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(!host.of_type("DBIRTH").empty(), 20s) << agent.log() << listing(host.messages());
  {
    const peer_message birth = host.of_type("DBIRTH").front();
    EXPECT_EQ(birth.device, "plc-1");
    for (const char* name : {"line/line-1/state", "line/line-1/good_count", "stock/silo-1/quantity"}) {
      const wire::json_value* metric = birth.metric(name);
      ASSERT_NE(metric, nullptr) << name;
      EXPECT_TRUE(metric->find("isNull")->as_bool()) << name;
      ASSERT_NE(property(*metric, "Quality"), nullptr) << name;
      EXPECT_EQ(number_of(*property(*metric, "Quality")), 0.0) << name << ": quality bad";
    }
  }
  ASSERT_TRUE(plc.start(port));
  PLANT_ASSERT_EVENTUALLY(
      [&] {
        for (const auto& data : host.of_type("DDATA"))
          for (const auto& metric : data.metrics())
            if (number_of(metric) == 1234.5) return true;
        return false;
      }(),
      20s)
      << agent.log() << listing(host.messages());
  plc.stop();
  PLANT_ASSERT_EVENTUALLY(!host.of_type("DDEATH").empty(), 20s) << agent.log() << listing(host.messages());
  EXPECT_EQ(host.of_type("DDEATH").front().device, "plc-1");
  const std::size_t births_before = host.of_type("DBIRTH").size();
  ASSERT_TRUE(plc.start(port));
  PLANT_ASSERT_EVENTUALLY(host.of_type("DBIRTH").size() > births_before, 20s) << agent.log() << listing(host.messages());
  const peer_message again = host.of_type("DBIRTH").back();
  EXPECT_EQ(number_of(*again.metric("stock/silo-1/quantity")), 1234.5);
  EXPECT_EQ(number_of(*property(*again.metric("stock/silo-1/quantity"), "Quality")), 192.0);
  // No data for a dead device: nothing from plc-1 between its DDEATH and its new DBIRTH.
  const auto messages = host.messages();
  bool dead = false;
  for (const auto& m : messages) {
    if (m.type == "DDEATH") dead = true;
    if (m.type == "DBIRTH") dead = false;
    if (dead) {
      EXPECT_NE(m.type, "DDATA") << listing(messages);
    }
  }
}

TEST(sparkplug, with_the_primary_host_offline_for_20s_nothing_is_published_and_every_sample_arrives_later_as_history) {
  temp_dir dir("sparkplug-host");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  sparkplug_listener host(dir);
  ASSERT_TRUE(host.start(broker.url()));
  ASSERT_TRUE(publish_host_state(broker.url(), "scada", true));
  agent_process agent(dir, "agent",
                      agent_config_text("gw-1", "site-a", dir.file("state"), broker.url(), sparkplug_mqtt,
                                        "[sparkplug]\nprimary_host_id = \"scada\"\n" + simulator_section));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(host.of_type("DDATA").size() >= 3, 20s) << agent.log();
  ASSERT_TRUE(publish_host_state(broker.url(), "scada", false));
  PLANT_ASSERT_EVENTUALLY(!host.of_type("NDEATH").empty(), 10s) << agent.log();
  std::this_thread::sleep_for(20s);  // the outage being tested, not a wait for a condition
  ASSERT_TRUE(publish_host_state(broker.url(), "scada", true));
  PLANT_ASSERT_EVENTUALLY(host.of_type("NBIRTH").size() >= 2, 15s) << agent.log();
  // Everything held is sent, then live data goes on: wait for live DDATA after the history.
  PLANT_ASSERT_EVENTUALLY(
      [&] {
        bool history = false;
        for (const auto& data : host.of_type("DDATA")) {
          const bool held = !data.metrics().empty() && data.metrics().front().find("isHistorical")->as_bool();
          if (held) history = true;
          if (history && !held) return true;
        }
        return false;
      }(),
      30s)
      << agent.log();
  ASSERT_TRUE(agent.process().signal(SIGTERM));
  ASSERT_TRUE(agent.process().wait(15s).has_value());

  // What arrived in which phase: nothing but the NDEATH while the host was offline.
  const auto messages = host.messages();
  enum phase { before, offline, after } now = before;
  std::size_t births_after = 0;
  for (const auto& m : messages) {
    if (m.type == "STATE") {
      const std::string state = text_of(m.json, "state");
      if (state.find("\"online\":false") != std::string::npos) now = offline;
      if (state.find("\"online\":true") != std::string::npos && now == offline) now = after;
      continue;
    }
    if (now == offline) {
      EXPECT_TRUE(m.type == "NDEATH") << "published while the host was offline: " << m.topic;
    }
    if (now == after && m.type == "NBIRTH") ++births_after;
    if (m.type != "DDATA") continue;
    bool any_held = false;
    for (const auto& metric : m.metrics()) any_held = any_held || metric.find("isHistorical")->as_bool();
    if (any_held) {
      EXPECT_EQ(births_after, 1u) << "history goes out after the new birth";
    }
  }
  const reading_times times = times_of(messages);
  ASSERT_FALSE(times.held.empty()) << listing(messages);
  // About 20 s at 10 samples a second were held (plant time: 1 s per sample).
  EXPECT_GE(times.held.size(), 150u);
  expect_no_missing_sample_time(times, 1000);
}

TEST(sparkplug, plant_watch_shows_the_shortages_of_a_sparkplug_edge_node) {
  temp_dir dir("sparkplug-shortage");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  const std::string drop = dir.file("drop");
  ASSERT_EQ(::mkdir(drop.c_str(), 0755), 0);
  agent_process agent(dir, "agent",
                      agent_config_text("north-gw", "north", dir.file("state"), broker.url(), sparkplug_mqtt,
                                        csv_section(drop) + material_section));
  sparkplug_listener host(dir);
  ASSERT_TRUE(host.start(broker.url()));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("born as", 10s));
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(),
                          {"--sparkplug", "--shortages", "--json", "--duration", "120s", "--client-id", "watch-1"}));
  PLANT_ASSERT_EVENTUALLY(broker.has_subscription("watch-1", "spBv1.0/#"), 10s);
  std::string csv = consuming_history();
  csv = csv.substr(0, csv.find(std::to_string((history_start + 91 * hour) / 1000)));
  drop_file(dir, drop, "north.csv", csv.substr(0, csv.rfind('\n') + 1));
  ASSERT_TRUE(agent.wait_for_log("resin: low -> critical", 15s));
  // The alert and the status reach the host as node metrics; plant-watch started after the
  // birth, so it asks for a rebirth first (it has no aliases for this node).
  PLANT_ASSERT_EVENTUALLY(watch.errors().find("asked spBv1.0/north/NCMD/north-gw for a rebirth") != std::string::npos,
                          15s)
      << watch.errors();
  // The rebirth's NBIRTH, then a message after it: the broker delivers to plant-watch in that order too.
  PLANT_ASSERT_EVENTUALLY(host.of_type("NBIRTH").size() >= 2 && after_last_birth(host.messages(), "DDATA"), 15s)
      << listing(host.messages()) << agent.log();
  ASSERT_TRUE(watch.process().signal(SIGINT));
  ASSERT_TRUE(watch.process().wait(10s).has_value());
  std::string line;
  for (const auto& l : watch.json())
    if (l.rfind("{\"shortage\":", 0) == 0) line = l;
  ASSERT_FALSE(line.empty()) << watch.output() << watch.errors() << agent.log();
  EXPECT_EQ(json_string(line, "site"), "north") << line;
  EXPECT_EQ(json_string(line, "agent"), "north-gw") << line;
  EXPECT_EQ(json_string(line, "material"), "resin") << line;
  EXPECT_EQ(json_string(line, "status"), "critical") << line;
}

}  // namespace
}  // namespace plant::test
