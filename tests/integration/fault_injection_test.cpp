// The network and the broker fail at the worst moments, on purpose: a relay cuts
// the agent's connection at an exact MQTT packet in either direction (before it,
// halfway through it, or by going silent), and a real broker restarts at seeded
// random moments during a drain. Through all of it the agent's event loop must
// keep answering /healthz within 1 s, SIGTERM must stop it within
// shutdown_timeout, and a persistent audit must end with 0 gaps.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mqtt_fault_relay.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto liveness_deadline = 1000ms;
constexpr auto shutdown_timeout = 2000ms;
// SIGTERM to exit: shutdown_timeout for acknowledgements, plus the offline
// status and the final spool sync on a loaded 2-core machine.
constexpr auto stop_allowance = shutdown_timeout + 1500ms;

/// The agent config every case uses: busy enough that a backlog builds in a
/// second or two, with the health endpoint on and quick reconnects.
std::string fault_config(const std::string& id, const std::string& state_dir, const std::string& url,
                         std::uint16_t health_port, const std::string& mqtt_extra, const std::string& source,
                         const std::string& heartbeat = "1s") {
  return "[agent]\nid = \"" + id + "\"\nsite = \"faults\"\nstate_dir = \"" + state_dir +
         "\"\nheartbeat_interval = \"" + heartbeat + "\"\n\n[mqtt]\nurl = \"" + url +
         "\"\npublish_interval = \"100ms\"\nreconnect_min_delay = \"100ms\"\nreconnect_max_delay = \"500ms\"\n"
         "shutdown_timeout = \"2s\"\nconnect_timeout = \"2s\"\n" +
         mqtt_extra + "\n[health]\nlisten = \"127.0.0.1:" + std::to_string(health_port) + "\"\n\n" + source;
}

const std::string busy_simulator =
    "[[source.simulator]]\nname = \"sim\"\nseed = 11\nlines = 5\nmaterials = 30\ninterval = \"1s\"\n"
    "speed = 10.0\n";

const std::string idle_simulator =
    "[[source.simulator]]\nname = \"sim\"\nseed = 5\nlines = 1\nmaterials = 2\ninterval = \"2s\"\n"
    "speed = 1.0\n";

/// Sends SIGTERM and returns how long the agent took to exit (or fails the test).
std::chrono::milliseconds stop_and_time(agent_process& agent) {
  const auto asked = steady::now();
  auto stopped = agent.process().terminate_and_wait(stop_allowance + 10s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - asked);
  EXPECT_TRUE(stopped.success()) << stopped.describe() << "\n" << agent.log();
  return took;
}

bool broker_connected(std::uint16_t health_port) {
  return scrape_metric(health_port, "plant_agent_broker_connected").value_or(0) == 1;
}

struct cut_case {
  std::string name;
  cut_rule rule;
  /// Build a backlog (the relay closed) before the rule is armed, so the cut lands during a drain.
  bool during_drain = true;
  /// Extra [mqtt] keys for this case.
  std::string mqtt_extra;
  /// The source block; pings need an idle link, the rest a busy one.
  std::string source = busy_simulator;
  /// Status every second, except where pings need silence (a reconnect still publishes one).
  std::string heartbeat = "1s";
};

std::ostream& operator<<(std::ostream& out, const cut_case& c) { return out << c.name << ": " << describe(c.rule); }

cut_rule at(relay_direction direction, mqtt_packet type, unsigned nth, cut_point where,
            const std::string& topic_contains = "") {
  cut_rule rule;
  rule.direction = direction;
  rule.type = type;
  rule.nth = nth;
  rule.where = where;
  rule.topic_contains = topic_contains;
  return rule;
}

/// A cut that lands while the agent drains a backlog (`during_drain`) or right from its first connection.
cut_case busy(const std::string& name, cut_rule rule, bool during_drain, const std::string& mqtt_extra = "") {
  cut_case c;
  c.name = name;
  c.rule = std::move(rule);
  c.during_drain = during_drain;
  c.mqtt_extra = mqtt_extra;
  return c;
}

/// A cut of a keepalive packet: a 1 s keepalive and a link that is otherwise quiet.
cut_case idle(const std::string& name, cut_rule rule) {
  cut_case c = busy(name, std::move(rule), false, "keepalive = \"1s\"\n");
  c.source = idle_simulator;
  c.heartbeat = "3s";
  return c;
}

std::vector<cut_case> cut_cases() {
  using d = relay_direction;
  using p = mqtt_packet;
  const bool drain = true, first_connection = false;
  const std::string qos2 = "qos = 2\n";
  const std::string short_keepalive = "keepalive = \"2s\"\n";
  return {
      busy("connect_before", at(d::client_to_broker, p::connect, 1, cut_point::before_packet), first_connection),
      busy("connect_halfway", at(d::client_to_broker, p::connect, 1, cut_point::mid_packet), first_connection),
      busy("connack_before", at(d::broker_to_client, p::connack, 1, cut_point::before_packet), first_connection),
      // A hung link is found by the keepalive (or the connect timeout), so those cases use a short one.
      busy("connack_stalls", at(d::broker_to_client, p::connack, 1, cut_point::stall), first_connection,
           short_keepalive),
      // D1 exactly: the first telemetry PUBLISH of a connection that has a backlog to send.
      busy("first_telemetry_publish", at(d::client_to_broker, p::publish, 1, cut_point::before_packet, "/telemetry"),
           drain),
      busy("publish_3_halfway", at(d::client_to_broker, p::publish, 3, cut_point::mid_packet), drain),
      busy("publish_25_before", at(d::client_to_broker, p::publish, 25, cut_point::before_packet), drain),
      busy("publish_10_stalls", at(d::client_to_broker, p::publish, 10, cut_point::stall), drain, short_keepalive),
      busy("puback_1_before", at(d::broker_to_client, p::puback, 1, cut_point::before_packet), drain),
      busy("puback_8_halfway", at(d::broker_to_client, p::puback, 8, cut_point::mid_packet), drain),
      busy("puback_5_stalls", at(d::broker_to_client, p::puback, 5, cut_point::stall), drain, short_keepalive),
      idle("pingreq_before", at(d::client_to_broker, p::pingreq, 1, cut_point::before_packet)),
      idle("pingresp_before", at(d::broker_to_client, p::pingresp, 1, cut_point::before_packet)),
      idle("pingresp_stalls", at(d::broker_to_client, p::pingresp, 1, cut_point::stall)),
      // QoS 2's extra handshake packets.
      busy("qos2_pubrec_before", at(d::broker_to_client, p::pubrec, 3, cut_point::before_packet), drain, qos2),
      busy("qos2_pubrel_halfway", at(d::client_to_broker, p::pubrel, 3, cut_point::mid_packet), drain, qos2),
      busy("qos2_pubcomp_before", at(d::broker_to_client, p::pubcomp, 3, cut_point::before_packet), drain, qos2),
  };
}

class cut_connection : public ::testing::TestWithParam<cut_case> {};

TEST_P(cut_connection, the_agent_stays_responsive_reconnects_and_delivers_everything) {
  const cut_case& c = GetParam();
  plant_stack stack("cut-" + c.name);
  ASSERT_TRUE(stack.start());
  mqtt_fault_relay relay(stack.broker().port());
  const std::uint16_t health_port = free_tcp_port();
  const std::string id = "gw-" + c.name;
  agent_process agent(stack.dir(), "agent",
                      fault_config(id, stack.state_dir(), relay.url(), health_port, c.mqtt_extra, c.source,
                                   c.heartbeat));
  if (c.during_drain) {
    relay.close();
  } else {
    relay.arm(c.rule);
  }
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("running:", 10s));
  http_liveness_probe probe(health_port, "/healthz", liveness_deadline);
  if (c.during_drain) {
    PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_backlog_messages").value_or(0) >= 30, 30s)
        << agent.log();
    relay.arm(c.rule);
    relay.open();
  }
  PLANT_ASSERT_EVENTUALLY(relay.cuts() == 1, 30s) << describe(c.rule) << " never happened; log:\n" << agent.log();
  const unsigned connections_at_cut = relay.connections();
  const std::size_t mark = stack.status_mark();
  const std::size_t telemetry_at_cut = stack.watch().of_kind("telemetry").size();
  // A fresh connection through the relay, new data over it, and a drained backlog.
  PLANT_ASSERT_EVENTUALLY(relay.connections() > connections_at_cut && broker_connected(health_port), 30s)
      << agent.log();
  PLANT_ASSERT_EVENTUALLY(stack.watch().of_kind("telemetry").size() > telemetry_at_cut, 30s) << agent.log();
  // A loop that stopped answering fails here at once rather than at the drain's timeout.
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark) || probe.missed() > 0, 60s) << agent.log();
  ASSERT_EQ(probe.missed(), 0u) << probe.summary() << "\n" << agent.log();

  probe.stop();
  EXPECT_EQ(probe.missed(), 0u) << probe.summary();
  auto took = stop_and_time(agent);
  EXPECT_LE(took, stop_allowance) << agent.log();
  EXPECT_GT(probe.answered(), 5u) << probe.summary();
  std::string audit = stack.finish_and_audit(agent, id);
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit << "\n" << agent.log();
  EXPECT_EQ(json_integer(audit, "first_seq"), 1) << audit;
  EXPECT_GT(json_integer(audit, "unique").value_or(0), 0) << audit;
}

INSTANTIATE_TEST_SUITE_P(every_packet_type, cut_connection, ::testing::ValuesIn(cut_cases()),
                         [](const auto& info) { return info.param.name; });

// SIGTERM while the link is dead: the clean DISCONNECT never reaches the broker
// (cut, or swallowed by a hung link), and the agent still exits in time, with
// nothing lost that it had accepted.
class cut_at_shutdown : public ::testing::TestWithParam<cut_point> {};

TEST_P(cut_at_shutdown, the_agent_still_stops_within_shutdown_timeout) {
  const std::string name = GetParam() == cut_point::stall ? "stall" : "cut";
  plant_stack stack("shutdown-" + name);
  ASSERT_TRUE(stack.start());
  mqtt_fault_relay relay(stack.broker().port());
  const std::uint16_t health_port = free_tcp_port();
  const std::string id = "gw-shutdown-" + name;
  agent_process agent(stack.dir(), "agent",
                      fault_config(id, stack.state_dir(), relay.url(), health_port, "", busy_simulator));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(broker_connected(health_port), 15s) << agent.log();
  PLANT_ASSERT_EVENTUALLY(stack.watch().of_kind("telemetry").size() >= 5, 15s) << agent.log();
  // Stall: everything from the next PUBLISH on goes nowhere, so the shutdown's
  // offline status and DISCONNECT are never answered. Cut: the DISCONNECT kills the link.
  relay.arm(GetParam() == cut_point::stall
                ? at(relay_direction::client_to_broker, mqtt_packet::publish, 1, cut_point::stall)
                : at(relay_direction::client_to_broker, mqtt_packet::disconnect, 1, cut_point::before_packet));
  if (GetParam() == cut_point::stall) {
    PLANT_ASSERT_EVENTUALLY(relay.cuts() == 1, 10s);
  }
  auto took = stop_and_time(agent);
  EXPECT_LE(took, stop_allowance) << agent.log();
  EXPECT_EQ(relay.cuts(), 1u) << agent.log();

  // What was not acknowledged stays in the spool: the next run delivers it.
  const std::size_t mark = stack.status_mark();
  agent_process next(stack.dir(), "next",
                     fault_config(id, stack.state_dir(), stack.broker().url(), health_port, "", busy_simulator));
  ASSERT_TRUE(next.start());
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << next.log();
  std::string audit = stack.finish_and_audit(next, id);
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit << "\n" << agent.log();
}

INSTANTIATE_TEST_SUITE_P(dead_link, cut_at_shutdown, ::testing::Values(cut_point::before_packet, cut_point::stall),
                         [](const auto& info) { return info.param == cut_point::stall ? "stall" : "cut"; });

// D1 as it was found: a backlog, the broker comes back, and goes away again at
// once while the outbox is sending. The loop used to spin on the failed publish.
TEST(fault_injection, broker_stops_right_after_it_came_back_during_a_drain) {
  plant_stack stack("d1-repro");
  ASSERT_TRUE(stack.start());
  mosquitto_broker& broker = stack.broker();
  const std::uint16_t health_port = free_tcp_port();
  const std::string heavy =
      "[[source.simulator]]\nname = \"sim\"\nseed = 1\nlines = 20\nmaterials = 200\nspeed = 300.0\n";
  agent_process agent(stack.dir(), "agent", fault_config("gw-d1", stack.state_dir(), broker.url(), health_port, "", heavy));
  ASSERT_TRUE(broker.stop());
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("running:", 10s));
  http_liveness_probe probe(health_port, "/healthz", liveness_deadline);
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_backlog_messages").value_or(0) >= 50, 30s)
      << agent.log();
  ASSERT_TRUE(broker.start());
  PLANT_ASSERT_EVENTUALLY(broker_connected(health_port), 15s) << agent.log();
  ASSERT_TRUE(broker.stop());
  // /metrics answers, and the agent notices the loss and keeps trying.
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_broker_connected", 3s) == 0.0, 10s) << agent.log();
  ASSERT_TRUE(broker.start());
  const std::size_t mark = stack.status_mark();
  // A loop that stopped answering fails here at once rather than at the drain's timeout.
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark) || probe.missed() > 0, 90s) << agent.log();
  ASSERT_EQ(probe.missed(), 0u) << probe.summary() << "\n" << agent.log();
  probe.stop();
  EXPECT_EQ(probe.missed(), 0u) << probe.summary();
  auto took = stop_and_time(agent);
  EXPECT_LE(took, stop_allowance) << agent.log();
  std::string audit = stack.finish_and_audit(agent, "gw-d1");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
}

// Twenty broker restarts, each at a seeded random moment of a drain: down long
// enough for a backlog, up long enough for part of it to go out, and down again.
TEST(fault_injection, twenty_broker_restarts_at_random_moments_during_drain) {
  plant_stack stack("restarts");
  ASSERT_TRUE(stack.start());
  mosquitto_broker& broker = stack.broker();
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      fault_config("gw-rs", stack.state_dir(), broker.url(), health_port, "max_batch = 50\n",
                                   busy_simulator));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("running:", 10s));
  http_liveness_probe probe(health_port, "/healthz", liveness_deadline);
  PLANT_ASSERT_EVENTUALLY(broker_connected(health_port), 15s) << agent.log();
  std::mt19937 random(20261201);
  std::uniform_int_distribution<int> down_ms(300, 1500), draining_ms(0, 700);
  const int cycles = 20;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    ASSERT_TRUE(broker.stop()) << "cycle " << cycle;
    // Random moments are the point of this test: these two waits are on the clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(down_ms(random)));
    ASSERT_TRUE(broker.start()) << "cycle " << cycle;
    PLANT_ASSERT_EVENTUALLY(broker_connected(health_port), 15s) << "cycle " << cycle << "\n" << agent.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(draining_ms(random)));
  }
  const std::size_t mark = stack.status_mark();
  // A loop that stopped answering fails here at once rather than at the drain's timeout.
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark) || probe.missed() > 0, 90s) << agent.log();
  ASSERT_EQ(probe.missed(), 0u) << probe.summary() << "\n" << agent.log();
  // Every restart cut a live connection that was draining.
  EXPECT_GE(scrape_metric(health_port, "plant_agent_broker_reconnects_total").value_or(0), cycles) << agent.log();
  probe.stop();
  EXPECT_EQ(probe.missed(), 0u) << probe.summary();
  auto took = stop_and_time(agent);
  EXPECT_LE(took, stop_allowance) << agent.log();
  std::string audit = stack.finish_and_audit(agent, "gw-rs");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_GT(json_integer(audit, "replayed").value_or(0), 0) << audit;
}

}  // namespace
}  // namespace plant::test
