// The end-to-end, outage, Last Will and audit guarantees on brokers other than
// Mosquitto: aedes (npm) and RabbitMQ's MQTT plugin. Both speak MQTT 3.1.1 only;
// with aedes the agent's default protocol = "auto" finds that out by itself.
#include <gtest/gtest.h>
#include <signal.h>

#include "plant/v1/plant.pb.h"
#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mqtt_fault_relay.hpp"
#include "tests/support/other_broker.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string simulator =
    "[[source.simulator]]\nname = \"sim\"\nseed = 5\nlines = 3\nmaterials = 6\ninterval = \"500ms\"\nspeed = 10.0\n";

class other_brokers : public ::testing::TestWithParam<broker_kind> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker.start());
    ASSERT_TRUE(watch.start(broker.url(), {"--json", "--audit", "--duration", "600s"}));
    // The watch is subscribed once a probe published after its start reaches it.
    plant::v1::Envelope probe;
    probe.set_site("probe");
    probe.set_agent("probe");
    probe.mutable_status()->set_state(plant::v1::AgentStatus::STATE_ONLINE);
    const std::string file = dir.write("probe.bin", probe.SerializeAsString());
    ASSERT_TRUE(wait_until(
        [&] {
          run_command({"mosquitto_pub", "-V", "311", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-q",
                       "1", "-t", "plant/v1/probe/probe/status", "-f", file},
                      5s);
          for (const auto& line : watch.of_kind("status")) {
            if (json_string(line, "agent") == "probe") return true;
          }
          return false;
        },
        30s))
        << watch.errors() << broker.log_text();
  }

  // Stops the agent cleanly, waits for its offline status and returns plant-watch's audit of it.
  std::string finish_and_audit(agent_process& agent, const std::string& id) {
    EXPECT_TRUE(agent.process().terminate_and_wait(20s).success()) << agent.log();
    EXPECT_TRUE(wait_until(
        [&] {
          for (const auto& line : watch.of_kind("status")) {
            if (json_string(line, "agent") == id && json_string(line, "state") == "offline") return true;
          }
          return false;
        },
        20s))
        << watch.output();
    watch.process().signal(SIGINT);
    watch.process().wait(10s);
    return watch.audit_line(id);
  }

  // RabbitMQ 3.10 closes the connection on an MQTT 5 CONNECT instead of answering
  // CONNACK code 1, which Paho reports like a refused TCP connect: it has to be told.
  std::string protocol() const { return GetParam() == broker_kind::rabbitmq ? "protocol = \"3.1.1\"\n" : ""; }

  std::size_t telemetry_of(const std::string& id) const {
    std::size_t n = 0;
    for (const auto& line : watch.of_kind("telemetry")) n += json_string(line, "agent") == id ? 1 : 0;
    return n;
  }

  temp_dir dir{"other-brokers"};
  other_broker broker{GetParam()};
  watch_process watch{dir, "watch"};
};

TEST_P(other_brokers, telemetry_arrives_decoded_in_sequence_and_the_audit_finds_no_gap) {
  agent_process agent(dir, "agent",
                      agent_config_text("gw-x", "site-x", dir.file("state"), broker.url(),
                                        protocol() + "publish_interval = \"200ms\"\n", simulator));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(telemetry_of("gw-x") >= 10, 30s) << agent.log() << watch.errors();
  // aedes answers an MQTT 5 CONNECT with 3.1.1's code 1, and protocol = "auto" falls back.
  EXPECT_NE(agent.log().find(GetParam() == broker_kind::aedes ? "refused MQTT 5; using 3.1.1" : "(MQTT 3.1.1)"),
            std::string::npos)
      << agent.log();
  std::int64_t previous = 0;
  for (const auto& line : watch.of_kind("telemetry")) {
    if (json_string(line, "agent") != "gw-x") continue;
    EXPECT_EQ(json_string(line, "site"), "site-x");
    EXPECT_NE(line.find("\"topic\":\"plant/v1/site-x/gw-x/telemetry\""), std::string::npos) << line;
    const auto seq = json_integer(line, "seq");
    ASSERT_TRUE(seq.has_value()) << line;
    if (previous != 0) {
      EXPECT_EQ(*seq, previous + 1) << line;
    }
    previous = *seq;
  }
  const std::string audit = finish_and_audit(agent, "gw-x");
  ASSERT_FALSE(audit.empty()) << watch.errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "first_seq"), 1) << audit;
}

TEST_P(other_brokers, an_uplink_outage_loses_nothing_and_the_backlog_arrives_replayed) {
  mqtt_fault_relay uplink(broker.port());
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(dir, "agent",
                      agent_config_text("gw-o", "site-o", dir.file("state"), uplink.url(),
                                        protocol() + "publish_interval = \"100ms\"\n",
                                        simulator + "[health]\nlisten = \"127.0.0.1:" + std::to_string(health_port) +
                                            "\"\n"));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(telemetry_of("gw-o") >= 3, 30s) << agent.log();
  uplink.close();
  ASSERT_TRUE(agent.wait_for_log("cannot reach", 15s));
  // A backlog of sealed messages waits in the spool.
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_backlog_messages").value_or(0) >= 20, 30s)
      << agent.log();
  const std::size_t before = telemetry_of("gw-o");
  uplink.open();
  PLANT_ASSERT_EVENTUALLY(
      [&] {
        for (const auto& line : watch.of_kind("telemetry")) {
          if (json_string(line, "agent") == "gw-o" && json_bool(line, "replayed") == true) return true;
        }
        return false;
      }(),
      30s)
      << agent.log();
  PLANT_ASSERT_EVENTUALLY(telemetry_of("gw-o") >= before + 20, 30s) << agent.log();
  const std::string audit = finish_and_audit(agent, "gw-o");
  ASSERT_FALSE(audit.empty()) << watch.errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_GT(json_integer(audit, "replayed").value_or(0), 0) << audit;
}

TEST_P(other_brokers, a_killed_agent_is_marked_offline_by_its_last_will) {
  agent_process agent(dir, "agent",
                      agent_config_text("gw-w", "site-w", dir.file("state"), broker.url(), protocol(), simulator));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to", 30s)) << agent.log();
  auto statuses_of = [&] {
    std::vector<std::string> out;
    for (const auto& line : watch.of_kind("status")) {
      if (json_string(line, "agent") == "gw-w") out.push_back(line);
    }
    return out;
  };
  PLANT_ASSERT_EVENTUALLY(!statuses_of().empty(), 15s) << watch.errors();
  EXPECT_EQ(json_string(statuses_of().front(), "state"), "online");
  agent.process().kill9();
  // The broker notices the dead connection at the latest after 1.5 keep-alives (30 s).
  PLANT_ASSERT_EVENTUALLY(json_string(statuses_of().back(), "state") == "offline", 60s) << watch.output();
  EXPECT_EQ(json_string(statuses_of().back(), "reason"), "connection_lost");
}

INSTANTIATE_TEST_SUITE_P(all, other_brokers, ::testing::Values(broker_kind::aedes, broker_kind::rabbitmq),
                         [](const ::testing::TestParamInfo<broker_kind>& info) { return to_string(info.param); });

}  // namespace
}  // namespace plant::test
