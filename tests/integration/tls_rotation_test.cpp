// Certificates that rotate: openssl-made client certificates swapped under a
// running agent (on SIGHUP, and on disk before a reconnect), a key that no
// longer matches, expiry in /metrics and at --check-config, and TLS below 1.2
// refused. The broker names each client by its certificate's CN
// (use_identity_as_username), so its log shows which certificate connected.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "tests/support/agent_harness.hpp"
#include "tests/support/binaries.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string simulator =
    "[[source.simulator]]\nname = \"sim\"\nlines = 2\nmaterials = 2\nspeed = 5.0\ninterval = \"200ms\"\n";
constexpr double day_s = 86400;

std::string health(std::uint16_t port) { return "[health]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n"; }

// What a certificate manager does: the new file appears whole, under the old name.
testing::AssertionResult replace_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to + ".new", std::filesystem::copy_options::overwrite_existing, ec);
  if (!ec) std::filesystem::rename(to + ".new", to, ec);
  if (ec) return testing::AssertionFailure() << "replace " << to << ": " << ec.message();
  return testing::AssertionSuccess();
}

class tls_rotation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki.generate(certs.path()));
    ASSERT_TRUE(pki.issue_client(certs.path(), "gw-a", "gw-rot-a", 365, cert_a, key_a));
    ASSERT_TRUE(pki.issue_client(certs.path(), "gw-b", "gw-rot-b", 200, cert_b, key_b));
    ASSERT_TRUE(pki.issue_client(certs.path(), "gw-c", "gw-rot-c", 20, cert_c, key_c));
    // The files the agent is configured with; the tests swap their contents.
    agent_cert = certs.file("agent.crt");
    agent_key = certs.file("agent.key");
    ASSERT_TRUE(replace_file(cert_a, agent_cert));
    ASSERT_TRUE(replace_file(key_a, agent_key));
  }

  broker_options mutual_tls() const {
    broker_options options;
    options.tls = broker_tls::from(pki, /*require_certificate=*/true);
    options.tls->use_identity_as_username = true;
    return options;
  }

  std::string tls_keys() const {
    return "ca_file = \"" + pki.ca_cert + "\"\ncert_file = \"" + agent_cert + "\"\nkey_file = \"" + agent_key +
           "\"\npublish_interval = \"100ms\"\n";
  }

  std::vector<std::string> watch_tls() const {
    return {"--ca-file", pki.ca_cert, "--cert-file", pki.client_cert, "--key-file", pki.client_key};
  }

  temp_dir certs{"tls-rotation"};
  test_pki pki;
  std::string cert_a, key_a, cert_b, key_b, cert_c, key_c;
  std::string agent_cert, agent_key;
};

TEST_F(tls_rotation, a_rotated_certificate_is_used_on_sighup_and_at_the_next_reconnect_without_losing_data) {
  plant_stack stack("tls-rotation", mutual_tls());
  ASSERT_TRUE(stack.start(600s, watch_tls()));
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-rot", "site-r", stack.state_dir(), stack.broker().url(), tls_keys(),
                                        simulator + health(health_port)));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(stack.broker().log_text().find("u'gw-rot-a'") != std::string::npos, 20s)
      << stack.broker().log_text() << agent.log();
  PLANT_ASSERT_EVENTUALLY(stack.watch().of_kind("telemetry").size() >= 3, 20s) << agent.log();
  const auto expiry = [&] {
    return scrape_metric(health_port, "plant_agent_tls_certificate_expiry_seconds{file=\"cert_file\"}").value_or(-1);
  };
  EXPECT_NEAR(expiry(), 365 * day_s, day_s);
  EXPECT_NEAR(scrape_metric(health_port, "plant_agent_tls_certificate_expiry_seconds{file=\"ca_file\"}").value_or(-1),
              365 * day_s, day_s);

  // 1. Rotated to B and SIGHUP: a new connection with B at once, no broker restart.
  ASSERT_TRUE(replace_file(cert_b, agent_cert));
  ASSERT_TRUE(replace_file(key_b, agent_key));
  ASSERT_TRUE(agent.process().signal(SIGHUP));
  PLANT_ASSERT_EVENTUALLY(stack.broker().log_text().find("u'gw-rot-b'") != std::string::npos, 20s)
      << stack.broker().log_text() << agent.log();
  EXPECT_NE(agent.log().find("the password or TLS files changed"), std::string::npos) << agent.log();
  PLANT_EXPECT_EVENTUALLY(std::abs(expiry() - 200 * day_s) < day_s, 10s) << expiry();

  // 2. Rotated to C on disk, no signal: the running connection stays on B; the
  //    broker restarts, and the agent's next connection is made with C.
  const std::size_t a_and_b = count_of(stack.broker().log_text(), "New client connected");
  ASSERT_TRUE(replace_file(cert_c, agent_cert));
  ASSERT_TRUE(replace_file(key_c, agent_key));
  ASSERT_TRUE(stack.broker().restart());
  PLANT_ASSERT_EVENTUALLY(stack.broker().log_text().find("u'gw-rot-c'") != std::string::npos, 30s)
      << stack.broker().log_text() << agent.log();
  EXPECT_GT(count_of(stack.broker().log_text(), "New client connected"), a_and_b);
  PLANT_ASSERT_EVENTUALLY(agent.log().find("TLS files changed on disk (cert_file, key_file)") != std::string::npos, 10s)
      << agent.log();
  // C expires in 20 days: inside the 30-day window, so said in the log and in /metrics.
  PLANT_EXPECT_EVENTUALLY(std::abs(expiry() - 20 * day_s) < day_s, 10s) << expiry();
  EXPECT_NE(agent.log().find("mqtt.cert_file: certificate CN = gw-rot-c in " + agent_cert + " expires in 19 days"),
            std::string::npos)
      << agent.log();

  // Nothing was lost over either rotation.
  const std::size_t mark = stack.status_mark();
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << agent.log();
  const std::string audit = stack.finish_and_audit(agent, "gw-rot");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "first_seq"), 1) << audit;
}

TEST_F(tls_rotation, a_certificate_rotated_without_its_key_is_named_and_the_data_waits_for_the_fix) {
  plant_stack stack("tls-mismatch", mutual_tls());
  ASSERT_TRUE(stack.start(600s, watch_tls()));
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-mis", "site-r", stack.state_dir(), stack.broker().url(), tls_keys(),
                                        simulator + health(health_port)));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(stack.watch().of_kind("telemetry").size() >= 2, 20s) << agent.log();

  // Only the certificate is replaced; the broker restarts; the key left behind is B's.
  ASSERT_TRUE(replace_file(cert_b, agent_cert));
  ASSERT_TRUE(stack.broker().restart());
  const std::string expected = "mqtt.key_file: " + agent_key + " is not the key of the certificate in " + agent_cert;
  PLANT_ASSERT_EVENTUALLY(http_get(health_port, "/healthz", 2s).value_or(http_reply{}).body.find(expected) !=
                              std::string::npos,
                          30s)
      << http_get(health_port, "/healthz", 2s).value_or(http_reply{}).body << agent.log();
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_backlog_messages").value_or(0) >= 3, 20s);
  EXPECT_EQ(stack.broker().log_text().find("u'gw-rot-b'"), std::string::npos) << "no attempt with a broken pair";

  // The key arrives: the next attempt connects with the pair, and everything held is delivered.
  ASSERT_TRUE(replace_file(key_b, agent_key));
  PLANT_ASSERT_EVENTUALLY(stack.broker().log_text().find("u'gw-rot-b'") != std::string::npos, 60s)
      << agent.log();
  const std::size_t mark = stack.status_mark();
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << agent.log();
  EXPECT_EQ(scrape_metric(health_port, "plant_agent_dropped_messages_total").value_or(-1), 0.0);
  const std::string audit = stack.finish_and_audit(agent, "gw-mis");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
}

TEST_F(tls_rotation, check_config_warns_of_a_certificate_that_expires_within_30_days) {
  ASSERT_TRUE(replace_file(cert_c, agent_cert));
  ASSERT_TRUE(replace_file(key_c, agent_key));
  const std::string config = certs.write(
      "agent.toml", agent_config_text("gw-exp", "site-r", certs.file("state"), "ssl://127.0.0.1:1", tls_keys(), simulator));
  const command_result checked = run_command({agent_binary(), "--check-config", config}, 20s);
  EXPECT_EQ(checked.exit_code, 0) << checked.describe();
  EXPECT_NE((checked.stdout_text + checked.stderr_text)
                .find("warning: mqtt.cert_file: certificate CN = gw-rot-c in " + agent_cert + " expires in 19 days"),
            std::string::npos)
      << checked.stdout_text << checked.stderr_text;
  // A year-long certificate is not mentioned.
  ASSERT_TRUE(replace_file(cert_a, agent_cert));
  ASSERT_TRUE(replace_file(key_a, agent_key));
  const command_result quiet = run_command({agent_binary(), "--check-config", config}, 20s);
  EXPECT_EQ(quiet.exit_code, 0) << quiet.describe();
  EXPECT_EQ((quiet.stdout_text + quiet.stderr_text).find("expires in"), std::string::npos) << quiet.stdout_text;
}

// A server that offers only TLS 1.1 (openssl s_server at security level 0) gets no
// finished handshake from the agent; the same server offering TLS 1.2 gets one.
// s_server -naccept 1 counts the handshakes that finished when it exits.
TEST_F(tls_rotation, tls_below_1_2_is_refused) {
  for (const std::string version : {"-tls1_1", "-tls1_2"}) {
    SCOPED_TRACE(version);
    const std::uint16_t port = free_tcp_port();
    child_process server;
    process_spec spec;
    spec.argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), version, "-cipher",
                 "DEFAULT:@SECLEVEL=0", "-cert", pki.server_cert, "-key", pki.server_key, "-www", "-naccept", "1"};
    spec.output_dir = certs.path();
    spec.name = "s_server" + version;
    ASSERT_TRUE(server.start(spec));
    PLANT_ASSERT_EVENTUALLY(server.stdout_text().find("ACCEPT") != std::string::npos, 10s) << server.stderr_text();
    agent_process agent(certs, "agent" + version,
                        agent_config_text("gw-tls" + version, "site-r", certs.file("state" + version),
                                          "ssl://127.0.0.1:" + std::to_string(port),
                                          "ca_file = \"" + pki.ca_cert + "\"\nconnect_timeout = \"2s\"\n", simulator));
    ASSERT_TRUE(agent.start());
    PLANT_ASSERT_EVENTUALLY(!server.running(), 20s) << server.stdout_text() << agent.log();
    const std::string finished = version == "-tls1_2" ? "1 server accepts that finished" : "0 server accepts that finished";
    EXPECT_NE(server.stdout_text().find(finished), std::string::npos) << server.stdout_text() << server.stderr_text();
    EXPECT_EQ(agent.log().find("connected to ssl://"), std::string::npos) << agent.log();
  }
}

// The agent's own check, not only the system's: with an OpenSSL configuration that
// would negotiate TLS 1.0 (MinProtocol TLSv1, security level 0), it does not connect
// at all, says why, and the TLS 1.1 server never sees a handshake.
TEST_F(tls_rotation, an_openssl_configuration_that_allows_less_than_tls_1_2_is_refused) {
  const std::string weak = certs.write("weak-openssl.cnf",
                                       "openssl_conf = init\n[init]\nssl_conf = ssl_sect\n[ssl_sect]\n"
                                       "system_default = weak\n[weak]\nMinProtocol = TLSv1\n"
                                       "CipherString = DEFAULT@SECLEVEL=0\n");
  const std::uint16_t port = free_tcp_port();
  child_process server;
  process_spec spec;
  spec.argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-tls1_1", "-cipher",
               "DEFAULT:@SECLEVEL=0", "-cert", pki.server_cert, "-key", pki.server_key, "-www", "-naccept", "1"};
  spec.output_dir = certs.path();
  spec.name = "s_server-weak";
  ASSERT_TRUE(server.start(spec));
  PLANT_ASSERT_EVENTUALLY(server.stdout_text().find("ACCEPT") != std::string::npos, 10s) << server.stderr_text();
  agent_process agent(certs, "agent-weak",
                      agent_config_text("gw-weak", "site-r", certs.file("state-weak"),
                                        "ssl://127.0.0.1:" + std::to_string(port),
                                        "ca_file = \"" + pki.ca_cert + "\"\n", simulator));
  agent.set_env("OPENSSL_CONF", weak);
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("TLS connections need TLS 1.2 or newer", 20s));
  EXPECT_TRUE(server.running()) << "no connection was even attempted: " << server.stdout_text();
  EXPECT_EQ(agent.log().find("connected to ssl://"), std::string::npos) << agent.log();
}

}  // namespace
}  // namespace plant::test
