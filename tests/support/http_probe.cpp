#include "tests/support/http_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace plant::test {

namespace {

using steady = std::chrono::steady_clock;

int remaining_ms(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

/// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool wait_for(int fd, short events, steady::time_point deadline) {
  for (;;) {
    pollfd waiting{fd, events, 0};
    int ready = ::poll(&waiting, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    return ready > 0;
  }
}

}  // namespace

std::optional<http_reply> http_get(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::nullopt;
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_at_end{fd};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline)) return std::nullopt;
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) return std::nullopt;
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    if (!wait_for(fd, POLLOUT, deadline)) return std::nullopt;
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return std::nullopt;
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buffer[4096];
  for (;;) {
    if (!wait_for(fd, POLLIN, deadline)) return std::nullopt;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return std::nullopt;
  http_reply reply;
  reply.status = std::atoi(response.c_str() + 9);
  auto body = response.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = response.substr(body + 4);
  return reply;
}

std::optional<double> metric_value(const std::string& exposition, const std::string& series) {
  const std::string wanted = "\n" + series + " ";
  auto at = exposition.find(wanted);
  if (at == std::string::npos) {
    if (exposition.rfind(series + " ", 0) != 0) return std::nullopt;
    at = 0;
  } else {
    at += 1;
  }
  return std::strtod(exposition.c_str() + at + series.size() + 1, nullptr);
}

std::optional<double> scrape_metric(std::uint16_t port, const std::string& series, std::chrono::milliseconds timeout) {
  auto reply = http_get(port, "/metrics", timeout);
  if (!reply || reply->status != 200) return std::nullopt;
  return metric_value(reply->body, series);
}

http_liveness_probe::http_liveness_probe(std::uint16_t port, std::string path, std::chrono::milliseconds deadline,
                                         std::chrono::milliseconds period)
    : port_(port), path_(std::move(path)), deadline_(deadline), period_(period), started_(steady::now()) {
  thread_ = std::thread([this] { run(); });
}

http_liveness_probe::~http_liveness_probe() { stop(); }

void http_liveness_probe::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void http_liveness_probe::run() {
  while (!stopping_) {
    const auto asked = steady::now();
    auto reply = http_get(port_, path_, deadline_);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - asked).count();
    if (reply) {
      ++answered_;
      if (took > slowest_ms_) slowest_ms_ = took;
    } else {
      ++missed_;
      long long expected = -1;
      first_miss_ms_.compare_exchange_strong(
          expected, std::chrono::duration_cast<std::chrono::milliseconds>(asked - started_).count());
    }
    auto next = asked + period_;
    while (!stopping_ && steady::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string http_liveness_probe::summary() const {
  std::string text = std::to_string(answered()) + " answered, " + std::to_string(missed()) + " missed";
  if (first_miss_ms_ >= 0) text += " (first at +" + std::to_string(first_miss_ms_.load()) + " ms)";
  return text + ", slowest " + std::to_string(slowest_ms_.load()) + " ms";
}

}  // namespace plant::test
