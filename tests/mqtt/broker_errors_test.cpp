#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "common/mqtt/broker_errors.hpp"

namespace plant::mqtt_link {
namespace {

using std::chrono::milliseconds;

// A loopback port that nothing listens on: bound, never listened to, so a
// connect is refused while we hold it (no race with other processes).
struct unlistened_port {
  unlistened_port() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      socklen_t len = sizeof a;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
      port = ntohs(a.sin_port);
    }
  }
  ~unlistened_port() { ::close(fd); }
  int fd = -1;
  int port = 0;
};

const setting_names watch_names{"--username and --password-file", "--ca-file", "--cert-file/--key-file"};

TEST(broker_errors, connack_refusals_are_named_with_each_programs_setting_names) {
  EXPECT_EQ(explain_connect_failure(4, "", "tcp://127.0.0.1:1", false, false, watch_names),
            "broker refused the connection: bad username or password (check --username and --password-file)");
  EXPECT_EQ(explain_connect_failure(5, "", "tcp://127.0.0.1:1", false, false),
            "broker refused the connection: not authorized (check mqtt.username and mqtt.password_file)");
  EXPECT_EQ(explain_connect_failure(2, "", "tcp://127.0.0.1:1", false, false),
            "broker refused the connection: client id rejected");
}

TEST(broker_errors, network_reason_comes_from_a_probe) {
  unlistened_port p;
  ASSERT_NE(p.port, 0);
  const std::string url = "tcp://127.0.0.1:" + std::to_string(p.port);
  EXPECT_EQ(probe_tcp(url, milliseconds(1000)), "Connection refused");
  EXPECT_EQ(explain_connect_failure(-1, "TCP/TLS connect failure", url, false, false), "Connection refused");
}

TEST(broker_errors, reachable_server_that_fails_tls_or_mqtt) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string port = std::to_string(ntohs(a.sin_port));
  EXPECT_EQ(probe_tcp("tcp://127.0.0.1:" + port, milliseconds(1000)), "");
  // D15: without a CA file the hint must not send the technician to a setting that is not there.
  EXPECT_EQ(explain_connect_failure(-1, "", "ssl://127.0.0.1:" + port, false, false),
            "TLS handshake failed: check that the broker listens with TLS there, that the system's CAs sign "
            "its certificate (or set mqtt.ca_file) for this host name");
  EXPECT_EQ(explain_connect_failure(-1, "", "ssl://127.0.0.1:" + port, true, true, watch_names),
            "TLS handshake failed: check that the broker listens with TLS there, that --ca-file signed its "
            "certificate for this host name, and that it accepts --cert-file/--key-file");
  EXPECT_EQ(explain_connect_failure(-1, "TCP connect completion failure", "tcp://127.0.0.1:" + port, false, false),
            "the server accepted TCP but not the MQTT handshake (for a TLS port use ssl://)");
  ::close(listener);
}

}  // namespace
}  // namespace plant::mqtt_link
