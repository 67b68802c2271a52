// SIGHUP against the real binary and a real broker: every changed key is named
// with what happened to it, and what the log says is what the wire shows (D6).
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/agent_harness.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string simulator = "[[source.simulator]]\nname = \"sim\"\nlines = 1\nmaterials = 2\nspeed = 10.0\n";

TEST(reload, live_reconnect_and_restart_keys_each_do_what_the_log_says) {
  temp_dir dir("reload-policy");
  broker_options options;
  options.extra_config = {"log_type debug"};  // every PUBLISH with its QoS, every CONNECT with its keepalive
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  const std::string client = "plant-agent-site-r-gw-r";
  auto config = [&](const std::string& site, const std::string& mqtt, const std::string& spool) {
    return agent_config_text("gw-r", site, dir.file("state"), broker.url(), "publish_interval = \"100ms\"\n" + mqtt,
                             simulator + spool);
  };
  agent_process agent(dir, "agent", config("site-r", "qos = 1\nkeepalive = \"30s\"\n", ""));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(broker.log_text().find("as " + client + " (p5, c1, k30)") != std::string::npos, 10s)
      << broker.log_text();
  const std::string telemetry = "'plant/v1/site-r/gw-r/telemetry'";
  PLANT_ASSERT_EVENTUALLY(broker.log_text().find("(d0, q1, r0, m") != std::string::npos, 10s);

  ASSERT_TRUE(write_file(agent.config_path(), config("site-x", "qos = 0\nkeepalive = \"10s\"\n",
                                                     "[spool]\nmax_age = \"1h\"\n")));
  const std::size_t qos0_before = count_of(broker.log_text(), "(d0, q0, r0, m0, " + telemetry);
  ASSERT_TRUE(agent.process().signal(SIGHUP));
  ASSERT_TRUE(agent.wait_for_log("reloaded: 1 sources, 4 keys changed", 10s));
  const std::string log = agent.log();
  EXPECT_NE(log.find("[config] mqtt.qos: 1 -> 0 (applied)"), std::string::npos) << log;
  EXPECT_NE(log.find("[config] spool.max_age: 7d -> 1h (applied)"), std::string::npos) << log;
  EXPECT_NE(log.find("[config] mqtt.keepalive: 30s -> 10s (applied by reconnecting to the broker)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("[config] agent.site: \"site-r\" -> \"site-x\" (takes effect after a restart; running with "
                     "\"site-r\" until then)"),
            std::string::npos)
      << log;

  // On the wire: a new connection with the new keepalive, QoS 0 telemetry, and the
  // topics of the site that is still running.
  PLANT_EXPECT_EVENTUALLY(broker.log_text().find("as " + client + " (p5, c1, k10)") != std::string::npos, 10s)
      << broker.log_text();
  PLANT_EXPECT_EVENTUALLY(count_of(broker.log_text(), "(d0, q0, r0, m0, " + telemetry) > qos0_before + 3, 10s)
      << broker.log_text();
  EXPECT_EQ(broker.log_text().find("site-x"), std::string::npos);

  // The same file again: only the site still differs from what runs, and nothing reconnects.
  const std::size_t connects = count_of(broker.log_text(), "as " + client + " (");
  ASSERT_TRUE(agent.process().signal(SIGHUP));
  ASSERT_TRUE(agent.wait_for_log("reloaded: 1 sources, 1 keys changed", 10s));
  EXPECT_EQ(count_of(agent.log(), "[config] agent.site: \"site-r\" -> \"site-x\""), 2u) << agent.log();
  EXPECT_EQ(count_of(broker.log_text(), "as " + client + " ("), connects);
  // Back to the running site: nothing changed at all.
  ASSERT_TRUE(write_file(agent.config_path(), config("site-r", "qos = 0\nkeepalive = \"10s\"\n",
                                                     "[spool]\nmax_age = \"1h\"\n")));
  ASSERT_TRUE(agent.process().signal(SIGHUP));
  ASSERT_TRUE(agent.wait_for_log("reloaded: nothing changed", 10s));
  auto stopped = agent.process().terminate_and_wait(10s);
  EXPECT_TRUE(stopped.success()) << stopped.describe();
}

TEST(reload, a_new_url_moves_the_agent_to_the_new_broker) {
  temp_dir dir("reload-url");
  mosquitto_broker first;
  mosquitto_broker second;
  ASSERT_TRUE(first.start());
  ASSERT_TRUE(second.start());
  agent_process agent(dir, "agent",
                      agent_config_text("gw-u", "site-u", dir.file("state"), first.url(), "publish_interval = \"100ms\"\n",
                                        simulator));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to " + first.url(), 10s));
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(second.url(), {"--json", "--duration", "60s", "--client-id", "watch-second"}));
  PLANT_ASSERT_EVENTUALLY(second.has_subscription("watch-second", "plant/v1/#"), 10s);
  ASSERT_TRUE(write_file(agent.config_path(),
                         agent_config_text("gw-u", "site-u", dir.file("state"), second.url(),
                                           "publish_interval = \"100ms\"\n", simulator)));
  ASSERT_TRUE(agent.process().signal(SIGHUP));
  ASSERT_TRUE(agent.wait_for_log("connected to " + second.url(), 10s));
  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= 3, 10s) << agent.log();
}

}  // namespace
}  // namespace plant::test
