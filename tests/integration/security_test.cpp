// TLS and authentication against a real Mosquitto with certificates made by openssl.
#include <gtest/gtest.h>

#include "tests/support/agent_harness.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string simulator_section =
    "[[source.simulator]]\nname = \"sim\"\nlines = 1\nmaterials = 2\nspeed = 5.0\n";

class tls_test : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki.generate(dir.path())); }
  temp_dir dir{"tls"};
  test_pki pki;
};

TEST_F(tls_test, server_certificate_is_verified_against_ca_file) {
  broker_options options;
  options.tls = broker_tls::from(pki);
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  ASSERT_EQ(broker.url().rfind("ssl://", 0), 0u);
  watch_process watch(dir, "watch");
  ASSERT_TRUE(watch.start(broker.url(), {"--ca-file", pki.ca_cert, "--json", "--duration", "60s"}));
  agent_process agent(dir, "agent",
                      agent_config_text("gw-tls", "site-t", dir.file("state"), broker.url(),
                                        "ca_file = \"" + pki.ca_cert + "\"\npublish_interval = \"100ms\"\n",
                                        simulator_section));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to ssl://", 15s));
  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= 2, 15s) << watch.errors() << agent.log();
}

TEST_F(tls_test, a_server_certificate_from_another_ca_is_refused) {
  broker_options options;
  options.tls = broker_tls::from(pki);
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  agent_process agent(dir, "agent",
                      agent_config_text("gw-tls", "site-t", dir.file("state"), broker.url(),
                                        "ca_file = \"" + pki.other_ca_cert + "\"\n", simulator_section));
  ASSERT_TRUE(agent.start({"--set", "agent.log_level=debug"}));
  ASSERT_TRUE(agent.wait_for_log("cannot reach ssl://", 15s));
  // It keeps trying (the broker sees several handshakes) and never connects.
  // Mosquitto logs a handshake that fails early as "Client connection from ... failed".
  PLANT_ASSERT_EVENTUALLY(count_of(broker.log_text(), "onnection from 127.0.0.1") >= 4, 20s)
      << broker.log_text();
  EXPECT_EQ(agent.log().find("connected to ssl://"), std::string::npos) << agent.log();
  EXPECT_TRUE(agent.process().running());
}

TEST_F(tls_test, mutual_tls_with_a_client_certificate) {
  broker_options options;
  options.tls = broker_tls::from(pki, /*require_certificate=*/true);
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  agent_process agent(dir, "agent",
                      agent_config_text("gw-mtls", "site-t", dir.file("state"), broker.url(),
                                        "ca_file = \"" + pki.ca_cert + "\"\ncert_file = \"" + pki.client_cert +
                                            "\"\nkey_file = \"" + pki.client_key + "\"\n",
                                        simulator_section));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to ssl://", 15s));

  // Without a client certificate the same broker refuses the agent.
  agent_process anonymous(dir, "anonymous",
                          agent_config_text("gw-anon", "site-t", dir.file("state-anon"), broker.url(),
                                            "ca_file = \"" + pki.ca_cert + "\"\n", simulator_section));
  ASSERT_TRUE(anonymous.start());
  ASSERT_TRUE(anonymous.wait_for_log("cannot reach ssl://", 15s));
  EXPECT_EQ(anonymous.log().find("connected to ssl://"), std::string::npos);
}

TEST(authentication, wrong_password_gives_a_clear_error_and_retries_with_backoff) {
  temp_dir dir("auth");
  broker_options options;
  options.users = {{"gateway", "correct-horse-battery"}};
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  ASSERT_TRUE(write_file(dir.file("password"), "wrong-password-42\n"));
  agent_process agent(dir, "agent",
                      agent_config_text("gw-auth", "site-p", dir.file("state"), broker.url(),
                                        "username = \"gateway\"\npassword_file = \"" + dir.file("password") + "\"\n",
                                        simulator_section));
  ASSERT_TRUE(agent.start());
  // Mosquitto 2 answers a bad password with CONNACK 5 (not authorized).
  ASSERT_TRUE(agent.wait_for_log("broker refused the connection: not authorized", 10s));
  EXPECT_NE(agent.log().find("check mqtt.username and mqtt.password_file"), std::string::npos) << agent.log();
  PLANT_ASSERT_EVENTUALLY(count_of(broker.log_text(), "not authorised") >= 3, 20s) << broker.log_text();
  EXPECT_TRUE(agent.process().running());
  EXPECT_NE(agent.log().find("retrying in"), std::string::npos);
  EXPECT_EQ(agent.log().find("wrong-password-42"), std::string::npos) << "the password must never be logged";

  // The right password connects.
  ASSERT_TRUE(write_file(dir.file("password-ok"), "correct-horse-battery\n"));
  agent_process good(dir, "good",
                     agent_config_text("gw-auth2", "site-p", dir.file("state2"), broker.url(),
                                       "username = \"gateway\"\npassword_file = \"" + dir.file("password-ok") + "\"\n",
                                       simulator_section));
  ASSERT_TRUE(good.start());
  ASSERT_TRUE(good.wait_for_log("connected to tcp://", 10s));
  EXPECT_EQ(good.log().find("correct-horse-battery"), std::string::npos);
}

}  // namespace
}  // namespace plant::test
