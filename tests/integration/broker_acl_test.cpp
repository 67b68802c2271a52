// The broker locked down with config/mosquitto-acl.example, used verbatim: each
// agent writes only its own topics, plant-watch and the register only read, and
// a forged envelope (one naming another agent than its topic) is rejected by
// plant-watch instead of being taken as that agent's.
#include <gtest/gtest.h>

#include "plant/v1/plant.pb.h"
#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string simulator = "[[source.simulator]]\nname = \"sim\"\nlines = 1\nmaterials = 2\nspeed = 5.0\n";
const std::string example_acl = std::string(PLANT_SOURCE_DIR) + "/config/mosquitto-acl.example";

std::string health(std::uint16_t port) { return "[health]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n"; }

// The lines of plant-watch's JSON output of `kind` that belong to `agent`.
std::size_t lines_of(const watch_process& watch, const std::string& kind, const std::string& agent) {
  std::size_t n = 0;
  for (const auto& line : watch.of_kind(kind)) n += json_string(line, "agent") == agent ? 1 : 0;
  return n;
}

class broker_acl : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_options options;
    for (const char* user : {"plant-1.gateway-1", "plant-1.gateway-2", "plant-watch", "plant-register"}) {
      options.users.push_back({user, std::string(user) + "-secret"});
      ASSERT_TRUE(write_file(files.file(std::string(user) + ".password"), std::string(user) + "-secret\n"));
    }
    options.extra_config = {"acl_file " + example_acl};
    stack.emplace("acl-example", options);
    ASSERT_TRUE(stack->start(600s, {"--username", "plant-watch", "--password-file", password_of("plant-watch")}));
  }

  std::string password_of(const std::string& user) const { return files.file(user + ".password"); }

  std::string agent_mqtt(const std::string& user) const {
    return "username = \"" + user + "\"\npassword_file = \"" + password_of(user) + "\"\npublish_interval = \"200ms\"\n";
  }

  // mosquitto_pub under MQTT 5 at QoS 1, so a refusal comes back in the PUBACK.
  command_result publish_as(const std::string& user, const std::string& topic, const std::string& payload_file) {
    auto args = stack->broker().client_args();
    args.insert(args.begin(), "mosquitto_pub");
    for (const std::string& a : {std::string("-V"), std::string("5"), std::string("-q"), std::string("1"),
                                 std::string("-u"), user, std::string("-P"), user + "-secret", std::string("-t"), topic,
                                 std::string("-f"), payload_file}) {
      args.push_back(a);
    }
    return run_command(args, 10s);
  }

  temp_dir files{"acl-files"};
  std::optional<plant_stack> stack;
};

TEST_F(broker_acl, an_agents_credentials_cannot_publish_into_another_agents_topics) {
  // The real gateway-1, with its own credentials: delivered.
  agent_process own(stack->dir(), "gateway-1",
                    agent_config_text("gateway-1", "plant-1", stack->dir().file("state-1"), stack->broker().url(),
                                      agent_mqtt("plant-1.gateway-1"), simulator));
  ASSERT_TRUE(own.start());
  PLANT_ASSERT_EVENTUALLY(lines_of(stack->watch(), "telemetry", "gateway-1") >= 2, 20s)
      << own.log() << stack->watch().errors();

  // An agent that calls itself gateway-2 but holds gateway-1's credentials: every
  // message is refused and held, /healthz says why, and nothing reaches plant-watch.
  const std::uint16_t health_port = free_tcp_port();
  agent_process impostor(stack->dir(), "impostor",
                         agent_config_text("gateway-2", "plant-1", stack->dir().file("state-2"), stack->broker().url(),
                                           agent_mqtt("plant-1.gateway-1"), simulator + health(health_port)));
  ASSERT_TRUE(impostor.start());
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_broker_refusals_total").value_or(0) >= 2, 30s)
      << impostor.log();
  const auto healthz = http_get(health_port, "/healthz", 2s);
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 503);
  EXPECT_NE(healthz->body.find("not authorized"), std::string::npos) << healthz->body;
  EXPECT_GT(scrape_metric(health_port, "plant_agent_backlog_messages").value_or(0), 0.0) << "held, not dropped";
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_dropped_messages_total"), 0.0);
  EXPECT_EQ(lines_of(stack->watch(), "telemetry", "gateway-2"), 0u) << stack->watch().errors();
  EXPECT_EQ(lines_of(stack->watch(), "status", "gateway-2"), 0u) << stack->watch().errors();

  // The register's user reads: gateway-1's retained status comes to it.
  auto sub = stack->broker().client_args();
  sub.insert(sub.begin(), "mosquitto_sub");
  for (const char* a : {"-V", "5", "-u", "plant-register", "-P", "plant-register-secret", "-t",
                        "plant/v1/plant-1/gateway-1/status", "-C", "1", "-W", "10", "-F", "%t"}) {
    sub.push_back(a);
  }
  const command_result read = run_command(sub, 15s);
  EXPECT_EQ(read.stdout_text, "plant/v1/plant-1/gateway-1/status\n") << read.describe();

  // The read-only users cannot write either, not even into the topics they read.
  ASSERT_TRUE(write_file(files.file("junk"), "x"));
  for (const char* reader : {"plant-watch", "plant-register"}) {
    const command_result pub = publish_as(reader, "plant/v1/plant-1/gateway-1/status", files.file("junk"));
    EXPECT_NE(pub.stderr_text.find("Not authorized"), std::string::npos) << reader << ": " << pub.describe();
  }
  const command_result cross = publish_as("plant-1.gateway-1", "plant/v1/plant-1/gateway-2/status", files.file("junk"));
  EXPECT_NE(cross.stderr_text.find("Not authorized"), std::string::npos) << cross.describe();
  EXPECT_EQ(stack->watch().errors().find("cannot decode"), std::string::npos) << stack->watch().errors();
}

TEST_F(broker_acl, a_forged_status_on_a_foreign_topic_is_shown_as_rejected_not_as_that_agents) {
  // gateway-1 may write its own status topic, and writes there a status that claims
  // to be gateway-2 going offline.
  plant::v1::Envelope forged;
  forged.set_site("plant-1");
  forged.set_agent("gateway-2");
  forged.set_created_at(1'700'000'000'000);
  forged.mutable_status()->set_state(plant::v1::AgentStatus::STATE_OFFLINE);
  forged.mutable_status()->set_reason(plant::v1::AgentStatus::REASON_SHUTDOWN);
  ASSERT_TRUE(write_file(files.file("forged"), forged.SerializeAsString()));
  const command_result pub = publish_as("plant-1.gateway-1", "plant/v1/plant-1/gateway-1/status", files.file("forged"));
  ASSERT_TRUE(pub.ok()) << pub.describe();
  EXPECT_EQ(pub.stderr_text.find("Not authorized"), std::string::npos) << "its own topic: " << pub.describe();
  PLANT_ASSERT_EVENTUALLY(stack->watch().errors().find("rejected message on 'plant/v1/plant-1/gateway-1/status'") !=
                              std::string::npos,
                          10s)
      << stack->watch().errors();
  EXPECT_NE(stack->watch().errors().find("the envelope names site 'plant-1' agent 'gateway-2', the topic belongs to "
                                         "site 'plant-1' agent 'gateway-1'"),
            std::string::npos)
      << stack->watch().errors();
  EXPECT_EQ(lines_of(stack->watch(), "status", "gateway-2"), 0u);
  EXPECT_EQ(lines_of(stack->watch(), "status", "gateway-1"), 0u);
}

}  // namespace
}  // namespace plant::test
