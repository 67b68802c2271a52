// The sd_notify protocol spoken without libsystemd: datagrams reach a real
// AF_UNIX socket named by NOTIFY_SOCKET (a path or an abstract '@' name), and
// the watchdog period is read as sd_watchdog_enabled(3) reads it.
#ifdef AGENT_WITH_SYSTEMD
#include "agent/app/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace plant::app {
namespace {

/// A datagram socket standing in for systemd's, bound to `name` ('@' = abstract).
class notify_listener {
 public:
  explicit notify_listener(const std::string& name) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name[0] == '@') address.sun_path[0] = '\0';
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address),
                    static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0;
    timeval timeout{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~notify_listener() { ::close(fd_); }
  bool bound() const { return bound_; }
  /// True when no datagram is waiting (a sent one is queued before sendto returns).
  bool nothing_waiting() {
    char buffer[64];
    return ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT) < 0 && errno == EAGAIN;
  }
  /// The next datagram, or "" after 2 s.
  std::string next() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  int fd_;
  bool bound_ = false;
};

class systemd_notify_test : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) ::unsetenv(name);
  }
};

TEST_F(systemd_notify_test, each_notification_is_one_datagram_to_the_named_socket) {
  plant::test::temp_dir dir("notify");
  const std::string path = dir.file("notify.sock");
  notify_listener systemd_socket(path);
  ASSERT_TRUE(systemd_socket.bound());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  systemd::ready("publishing");
  EXPECT_EQ(systemd_socket.next(), "READY=1\nSTATUS=publishing");
  systemd::reloading();
  EXPECT_EQ(systemd_socket.next(), "RELOADING=1");
  systemd::watchdog();
  EXPECT_EQ(systemd_socket.next(), "WATCHDOG=1");
  systemd::stopping();
  EXPECT_EQ(systemd_socket.next(), "STOPPING=1");
}

TEST_F(systemd_notify_test, an_abstract_socket_name_is_reached_too) {
  const std::string name = "@plant-agent-notify-test-" + std::to_string(::getpid());
  notify_listener systemd_socket(name);
  ASSERT_TRUE(systemd_socket.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  systemd::status("3 sources");
  EXPECT_EQ(systemd_socket.next(), "STATUS=3 sources");
}

TEST_F(systemd_notify_test, names_that_are_not_an_absolute_path_or_abstract_are_not_used) {
  plant::test::temp_dir dir("notify-relative");
  notify_listener systemd_socket(dir.file("notify.sock"));
  ASSERT_TRUE(systemd_socket.bound());
  char* previous = ::getcwd(nullptr, 0);
  ASSERT_NE(previous, nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  // sd_notify(3) takes only "/..." and "@...": a relative name would depend on the working directory.
  ::setenv("NOTIFY_SOCKET", "notify.sock", 1);
  systemd::ready("x");
  EXPECT_TRUE(systemd_socket.nothing_waiting());
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);  // longer than sun_path
  systemd::ready("x");
  ::unsetenv("NOTIFY_SOCKET");
  systemd::ready("x");
  EXPECT_TRUE(systemd_socket.nothing_waiting());
  EXPECT_EQ(::chdir(previous), 0);
  std::free(previous);
}

TEST_F(systemd_notify_test, the_watchdog_period_is_for_this_process_only) {
  EXPECT_EQ(systemd::watchdog_interval().count(), 0);
  ::setenv("WATCHDOG_USEC", "1500000", 1);
  EXPECT_EQ(systemd::watchdog_interval().count(), 1500000);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(systemd::watchdog_interval().count(), 1500000);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_EQ(systemd::watchdog_interval().count(), 0) << "meant for another process";
  ::unsetenv("WATCHDOG_PID");
  for (const char* bad : {"", "0", "abc", "12x", "-5"}) {
    ::setenv("WATCHDOG_USEC", bad, 1);
    EXPECT_EQ(systemd::watchdog_interval().count(), 0) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace plant::app
#endif  // AGENT_WITH_SYSTEMD
