// What a broker will not take. Under MQTT 3.1.1 Mosquitto acknowledges a
// message it then drops (message_size_limit, an ACL, its in-flight quota), so
// the agent speaks MQTT 5, where the broker states its limits in the CONNACK
// and refuses with a reason code. Each test checks the end result with a
// persistent audit: nothing vanishes without being reported.
#include <gtest/gtest.h>

#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mqtt_fault_relay.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

// About 40 bytes a sample and up to 1000 samples a batch: batches of 10-40 KB.
const std::string heavy_simulator =
    "[[source.simulator]]\nname = \"sim\"\nseed = 9\nlines = 20\nmaterials = 400\ninterval = \"1s\"\nspeed = 20.0\n";

std::string health(std::uint16_t port) { return "[health]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n"; }

// Runs until `sealed` messages went out, stops the agent cleanly and returns the audit.
std::string run_and_audit(plant_stack& stack, agent_process& agent, const std::string& id, std::uint16_t health_port,
                          double sealed) {
  EXPECT_TRUE(agent.start());
  EXPECT_TRUE(agent.wait_for_log("connected to", 15s));
  EXPECT_TRUE(wait_until(
      [&] { return scrape_metric(health_port, "plant_agent_messages_sealed_total").value_or(0) >= sealed; }, 60s))
      << agent.log();
  const std::size_t mark = stack.status_mark();
  EXPECT_TRUE(wait_until([&] { return stack.drained_since(mark); }, 60s)) << agent.log();
  return stack.finish_and_audit(agent, id);
}

TEST(broker_limits, a_message_over_the_brokers_size_limit_is_reported_dropped_not_counted_delivered) {
  broker_options options;
  options.extra_config = {"message_size_limit 20000"};
  plant_stack stack("size-limit", options);
  ASSERT_TRUE(stack.start());
  const std::uint16_t health_port = free_tcp_port();

  // 1. mqtt.max_message_bytes above the broker's limit: the broker refuses the
  //    large batches (0x95) and the agent reports exactly those as dropped.
  agent_process over(stack.dir(), "over",
                     agent_config_text("gw-over", "limits", stack.dir().file("state-over"), stack.broker().url(),
                                       "publish_interval = \"500ms\"\n", heavy_simulator + health(health_port)));
  std::string audit = run_and_audit(stack, over, "gw-over", health_port, 10);
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_GT(json_integer(audit, "reported_dropped").value_or(0), 0) << audit << over.log();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  // Every sealed message either arrived or was reported: the final status's last
  // seq is accounted for. (Under 3.1.1 the broker acknowledges what it drops.)
  const std::string last_status = stack.watch().of_kind("status").back();
  EXPECT_EQ(json_string(last_status, "state"), "offline");
  EXPECT_EQ(json_integer(audit, "unique").value_or(0) + json_integer(audit, "reported_dropped").value_or(0),
            json_integer(last_status, "last_seq").value_or(-1))
      << audit << "\n" << last_status;
  EXPECT_NE(over.log().find("packet too large"), std::string::npos) << over.log();
}

TEST(broker_limits, batches_split_under_max_message_bytes_all_arrive) {
  broker_options options;
  options.extra_config = {"message_size_limit 20000"};
  plant_stack stack("size-fits", options);
  ASSERT_TRUE(stack.start());
  const std::uint16_t health_port = free_tcp_port();
  agent_process fits(stack.dir(), "fits",
                     agent_config_text("gw-fits", "limits", stack.state_dir(), stack.broker().url(),
                                       "publish_interval = \"500ms\"\nmax_message_bytes = \"16KiB\"\n",
                                       heavy_simulator + health(health_port)));
  std::string audit = run_and_audit(stack, fits, "gw-fits", health_port, 20);
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit << fits.log();
  EXPECT_EQ(json_integer(audit, "reported_dropped"), 0) << audit;
}

TEST(broker_limits, the_brokers_maximum_packet_size_is_kept_without_configuration) {
  broker_options options;
  options.extra_config = {"max_packet_size 16384"};
  plant_stack stack("max-packet", options);
  ASSERT_TRUE(stack.start());
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-mp", "limits", stack.state_dir(), stack.broker().url(),
                                        // Long enough that the CONNACK (and its limit) comes before the
                                        // first batch: what is sealed before it uses max_message_bytes.
                                        "publish_interval = \"2s\"\n", heavy_simulator + health(health_port)));
  std::string audit = run_and_audit(stack, agent, "gw-mp", health_port, 20);
  EXPECT_NE(agent.log().find("maximum packet size 16384"), std::string::npos) << agent.log();
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit << agent.log();
  EXPECT_EQ(json_integer(audit, "reported_dropped"), 0) << audit;
  // An oversized packet would have made the broker close the connection.
  EXPECT_EQ(agent.log().find("connection lost"), std::string::npos) << agent.log();
}

TEST(broker_limits, qos_2_keeps_within_the_brokers_receive_maximum) {
  broker_options options;
  options.max_inflight_messages = 5;  // Mosquitto's quota for unreleased QoS 2 messages per client
  plant_stack stack("receive-max", options);
  ASSERT_TRUE(stack.start());
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-rm", "limits", stack.state_dir(), stack.broker().url(),
                                        "qos = 2\nmax_inflight = 64\npublish_interval = \"20ms\"\n",
                                        heavy_simulator + health(health_port)));
  // A backlog, so the whole window is used at once after the connect.
  ASSERT_TRUE(stack.broker().stop());
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_backlog_messages").value_or(0) >= 100, 30s)
      << agent.log();
  const std::size_t mark = stack.status_mark();
  ASSERT_TRUE(stack.broker().start());
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << agent.log();
  EXPECT_NE(agent.log().find("receive maximum 5"), std::string::npos) << agent.log();
  std::string audit = stack.finish_and_audit(agent, "gw-rm");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
}

TEST(broker_limits, what_the_acl_refuses_is_held_and_delivered_once_it_allows) {
  broker_options options;
  options.users = {{"agent", "agent-secret"}, {"ops", "ops-secret"}};
  temp_dir files("acl-files");
  const std::string acl = files.file("acl");
  const std::string denied = "user agent\ntopic write plant/v1/acl/+/status\n\nuser ops\ntopic read plant/v1/#\n";
  ASSERT_TRUE(write_file(acl, denied));
  options.extra_config = {"acl_file " + acl};
  plant_stack stack("acl", options);
  ASSERT_TRUE(write_file(files.file("ops-password"), "ops-secret\n"));
  ASSERT_TRUE(write_file(files.file("agent-password"), "agent-secret\n"));
  ASSERT_TRUE(stack.start(600s, {"--username", "ops", "--password-file", files.file("ops-password")}));
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-acl", "acl", stack.state_dir(), stack.broker().url(),
                                        "username = \"agent\"\npassword_file = \"" + files.file("agent-password") +
                                            "\"\npublish_interval = \"200ms\"\n",
                                        heavy_simulator + health(health_port)));
  ASSERT_TRUE(agent.start());
  // Refused, held, and said so where an operator looks.
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_broker_refusals_total").value_or(0) >= 3, 30s)
      << agent.log();
  auto healthz = http_get(health_port, "/healthz", 2s);
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 503);
  EXPECT_NE(healthz->body.find("not authorized"), std::string::npos) << healthz->body;
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_dropped_messages_total"), 0.0);
  EXPECT_TRUE(stack.watch().of_kind("telemetry").empty());

  // The ACL is fixed: everything held goes out, nothing is missing.
  ASSERT_TRUE(write_file(acl, "user agent\ntopic write plant/v1/#\n\nuser ops\ntopic read plant/v1/#\n"));
  ASSERT_TRUE(stack.broker().reload());
  const std::size_t mark = stack.status_mark();
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << agent.log();
  PLANT_EXPECT_EVENTUALLY(http_get(health_port, "/healthz", 2s).value_or(http_reply{}).status == 200, 10s);
  std::string audit = stack.finish_and_audit(agent, "gw-acl");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "first_seq"), 1) << audit;
}

TEST(broker_limits, a_broker_that_refuses_mqtt_5_is_spoken_to_in_3_1_1) {
  plant_stack stack("v311");
  ASSERT_TRUE(stack.start());
  mqtt_fault_relay old_broker(stack.broker().port());
  old_broker.refuse_protocol_level(5);
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-v3", "limits", stack.state_dir(), old_broker.url(),
                                        "publish_interval = \"200ms\"\n",
                                        "[[source.simulator]]\nname = \"sim\"\nspeed = 5.0\n" + health(health_port)));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_broker_connected") == 1.0, 15s) << agent.log();
  EXPECT_EQ(old_broker.refused_connects(), 1u);
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_broker_protocol_level"), 4.0);
  EXPECT_NE(agent.log().find("refused MQTT 5; using 3.1.1"), std::string::npos) << agent.log();
  PLANT_ASSERT_EVENTUALLY(stack.watch().of_kind("telemetry").size() >= 3, 15s) << agent.log();
  std::string audit = stack.finish_and_audit(agent, "gw-v3");
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
}

TEST(broker_limits, protocol_5_does_not_fall_back_and_says_why_it_cannot_connect) {
  temp_dir dir("v5-only");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  mqtt_fault_relay old_broker(broker.port());
  old_broker.refuse_protocol_level(5);
  agent_process agent(dir, "agent",
                      agent_config_text("gw-v5", "limits", dir.file("state"), old_broker.url(), "protocol = \"5\"\n",
                                        "[[source.simulator]]\nname = \"sim\"\n"));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(old_broker.refused_connects() >= 3, 15s) << agent.log();
  EXPECT_NE(agent.log().find("protocol version"), std::string::npos) << agent.log();
  EXPECT_EQ(agent.log().find("using 3.1.1"), std::string::npos) << agent.log();
  EXPECT_EQ(agent.log().find("connected to"), std::string::npos) << agent.log();
}

}  // namespace
}  // namespace plant::test
