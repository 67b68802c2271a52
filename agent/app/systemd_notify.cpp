#include "agent/app/systemd_notify.hpp"

#ifdef AGENT_WITH_SYSTEMD
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#endif

#include <cstdint>

namespace plant::app::systemd {

#ifdef AGENT_WITH_SYSTEMD
namespace {

// The notification protocol of sd_notify(3), spoken directly: one datagram to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract
// namespace). systemd documents it as a stable interface meant to be reimplemented;
// doing so keeps libsystemd and the libraries it pulls in (gcrypt, lz4, zstd, lzma:
// about 1 MiB of resident pages on a gateway) out of the agent's process.
void notify(const std::string& message) {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr || socket_name[0] == '\0') return;  // not run by systemd
  if (socket_name[0] != '/' && socket_name[0] != '@') return;    // vsock and other forms are newer than Debian 12's systemd
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(socket_name);
  if (length >= sizeof(address.sun_path)) return;
  std::memcpy(address.sun_path, socket_name, length);
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  // A notification that cannot be sent changes nothing the agent does: systemd
  // times out the start or the watchdog and says so in its own log.
  ssize_t sent = 0;
  do {
    sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address),
                    address_length);
  } while (sent < 0 && errno == EINTR);
  ::close(fd);
}

}  // namespace

void ready(const std::string& status) { notify("READY=1\nSTATUS=" + status); }
void reloading() { notify("RELOADING=1"); }
void stopping() { notify("STOPPING=1"); }
void watchdog() { notify("WATCHDOG=1"); }
void status(const std::string& text) { notify("STATUS=" + text); }
std::chrono::microseconds watchdog_interval() {
  // As sd_watchdog_enabled(3): WATCHDOG_USEC, for this process only when WATCHDOG_PID is set.
  const char* usec_text = std::getenv("WATCHDOG_USEC");
  // Digits only: strtoull would take "-5" as a huge period.
  if (usec_text == nullptr || usec_text[0] < '0' || usec_text[0] > '9') return std::chrono::microseconds(0);
  char* end = nullptr;
  errno = 0;
  const unsigned long long usec = std::strtoull(usec_text, &end, 10);
  if (errno != 0 || end == usec_text || *end != '\0' || usec == 0) return std::chrono::microseconds(0);
  if (const char* pid_text = std::getenv("WATCHDOG_PID"); pid_text != nullptr && pid_text[0] != '\0') {
    char* pid_end = nullptr;
    const long pid = std::strtol(pid_text, &pid_end, 10);
    if (pid_end == pid_text || *pid_end != '\0' || pid != static_cast<long>(::getpid())) return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(usec));
}
#else
void ready(const std::string&) {}
void reloading() {}
void stopping() {}
void watchdog() {}
void status(const std::string&) {}
std::chrono::microseconds watchdog_interval() { return std::chrono::microseconds(0); }
#endif

}  // namespace plant::app::systemd
