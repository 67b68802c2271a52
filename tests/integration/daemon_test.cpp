// Daemon behaviour of the real binary: config errors, --check-config, SIGHUP reload.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/agent_harness.hpp"
#include "tests/support/binaries.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

TEST(daemon, check_config_reports_every_error_with_its_location_and_exits_1) {
  temp_dir dir("check");
  std::string path = dir.file("bad.toml");
  ASSERT_TRUE(write_file(path,
                         "[agent]\n"
                         "id = \"gw\"\n"
                         "site = \"s\"\n"
                         "\n"
                         "[mqtt]\n"
                         "qso = 1\n"
                         "keepalive = 30\n"));
  auto result = run_agent({"--check-config", path}, 10s);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find(path + ":6:1: error: mqtt.qso: unknown key 'qso'; did you mean 'qos'?"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(path + ":7:13: error: mqtt.keepalive: "), std::string::npos) << result.err;
}

TEST(daemon, check_config_accepts_the_reference_and_demo_configs) {
  for (const char* name : {"config/plant-agent.toml", "config/demo.toml"}) {
    auto result = run_agent({"--check-config", source_dir() + "/" + name}, 10s);
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.err;
    EXPECT_NE(result.out.find(": ok ("), std::string::npos) << result.out;
  }
}

TEST(daemon, set_overrides_are_validated_like_the_file) {
  auto result = run_agent({"--check-config", source_dir() + "/config/demo.toml", "--set", "mqtt.qos=7"}, 10s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--set:1:1: error: mqtt.qos: 7 is out of range 0..2"), std::string::npos) << result.err;
}

// D15, D16, D18, D20: what used to pass --check-config silently or wrongly.
TEST(daemon, check_config_catches_what_would_misbehave_at_run_time) {
  temp_dir dir("check-traps");
  const std::string drop = dir.file("drop");
  std::string path = dir.file("traps.toml");
  ASSERT_TRUE(write_file(path,
                         "[agent]\n"
                         "id = \"gw\"\n"
                         "site = \"s\"\n"
                         "state_dir = \"\"\n"
                         "[mqtt]\n"
                         "url = \"ssl://localhost:8883\"\n"
                         "tls_verify = false\n"
                         "keepalive = \"1500ms\"\n"
                         "[[source.csv]]\n"
                         "name = \"erp\"\n"
                         "directory = \"" + drop + "\"\n"
                         "pattern = \"*\"\n"
                         "after = \"move\"\n"
                         "move_to = \"" + drop + "\"\n"));
  auto result = run_agent({"--check-config", path}, 10s);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  for (const std::string& expected :
       {path + ":4:13: error: agent.state_dir: must not be empty",
        path + ":7:14: warning: mqtt.tls_verify: false: the broker's certificate and host name are not checked",
        path + ":8:13: error: mqtt.keepalive: '1500ms' is not a whole number of seconds",
        path + ":14:11: error: source.csv[0].move_to: must not be the watched directory itself"}) {
    EXPECT_NE(result.err.find(expected), std::string::npos) << expected << "\n" << result.err;
  }
}

TEST(daemon, tls_verify_false_is_warned_about_at_every_start) {
  temp_dir dir("tls-warn");
  agent_process agent(dir, "agent",
                      agent_config_text("gw-t", "site-t", dir.file("state"), "ssl://127.0.0.1:1",
                                        "tls_verify = false\n", "[[source.simulator]]\nname = \"sim\"\n"));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("running:", 10s));
  EXPECT_NE(agent.log().find("warning: mqtt.tls_verify: false"), std::string::npos) << agent.log();
}

TEST(daemon, an_override_that_is_not_utf8_is_an_error_naming_it_not_a_crash) {
  auto result = run_agent({"--check-config", source_dir() + "/config/demo.toml", "--set", "agent.site=\xff"}, 10s);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("--set:1:1: error: override 'agent.site=\\xFF' is not valid UTF-8 text"), std::string::npos)
      << result.err;
}

TEST(daemon, an_invalid_config_does_not_start_the_agent) {
  temp_dir dir("nostart");
  agent_process agent(dir, "agent", "[agent]\nid = \"gw\"\n");
  ASSERT_TRUE(agent.start());
  auto status = agent.process().wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->success());
  EXPECT_NE(agent.log().find("missing required key 'site'"), std::string::npos) << agent.log();
}

TEST(daemon, sighup_applies_a_valid_config_and_keeps_the_running_one_when_invalid) {
  temp_dir dir("reload");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  std::string sim_a = "[[source.simulator]]\nname = \"sim-a\"\nlines = 1\nmaterials = 1\nspeed = 5.0\n";
  std::string sim_b = "[[source.simulator]]\nname = \"sim-b\"\nlines = 2\nmaterials = 1\nspeed = 5.0\n";
  agent_process agent(dir, "agent",
                      agent_config_text("gw-h", "site-h", dir.file("state"), broker.url(),
                                        "publish_interval = \"100ms\"\n", sim_a));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to", 10s));

  // A broken file: reported, and the agent keeps running on the old config.
  ASSERT_TRUE(write_file(agent.config_path(), "[agent]\nid = \"gw-h\"\nsite = \"site-h\"\nbogus = 1\n"));
  ASSERT_TRUE(agent.process().signal(SIGHUP));
  ASSERT_TRUE(agent.wait_for_log("reload rejected", 10s));
  EXPECT_NE(agent.log().find("agent.bogus: unknown key 'bogus'"), std::string::npos) << agent.log();
  EXPECT_TRUE(agent.process().running());

  // A valid one replaces the sources.
  ASSERT_TRUE(write_file(agent.config_path(),
                         agent_config_text("gw-h", "site-h", dir.file("state"), broker.url(),
                                           "publish_interval = \"100ms\"\n", sim_b)));
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--json", "--duration", "60s"}));
  ASSERT_TRUE(agent.process().signal(SIGHUP));
  ASSERT_TRUE(agent.wait_for_log("reloaded: 1 sources", 10s));
  PLANT_ASSERT_EVENTUALLY(watch.output().find("\"source\":\"sim-b\"") != std::string::npos, 15s) << agent.log();
  auto stopped = agent.process().terminate_and_wait(10s);
  EXPECT_TRUE(stopped.success()) << stopped.describe();
}

}  // namespace
}  // namespace plant::test
