// The health endpoint: routing as a pure function, then the real listener on
// loopback with its bounds (connections, deadline, request size, bind errors).
#include "agent/app/health_endpoint.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "tests/support/wait_until.hpp"

namespace plant::app {
namespace {

using namespace std::chrono_literals;

agent_stats snapshot_of(bool connected) {
  agent_stats s;
  s.version = "0.1.0";
  s.agent = "gw";
  s.site = "s";
  s.broker_url = "tcp://127.0.0.1:1";
  s.connected = connected;
  s.broker_error = connected ? "" : "connection lost";
  return s;
}

// ---- routing ------------------------------------------------------------------

TEST(health_routes, healthz_answers_ok_or_the_reason) {
  int calls = 0;
  auto answer = answer_request("GET", "/healthz", [&] {
    ++calls;
    return snapshot_of(true);
  });
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.body, "ok\n");
  EXPECT_EQ(answer.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(calls, 1);
  answer = answer_request("GET", "/healthz", [] { return snapshot_of(false); });
  EXPECT_EQ(answer.status, 503u);
  EXPECT_EQ(answer.body, "not connected to tcp://127.0.0.1:1: connection lost\n");
}

TEST(health_routes, metrics_use_the_prometheus_content_type_and_ignore_a_query) {
  auto answer = answer_request("GET", "/metrics?name[]=x", [] { return snapshot_of(true); });
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(answer.body, render_metrics(snapshot_of(true)));
  EXPECT_EQ(answer_request("HEAD", "/metrics", [] { return snapshot_of(true); }).status, 200u);
}

TEST(health_routes, other_methods_get_405_with_allow_and_other_paths_404_without_a_snapshot) {
  int calls = 0;
  auto count = [&] {
    ++calls;
    return snapshot_of(true);
  };
  auto answer = answer_request("POST", "/healthz", count);
  EXPECT_EQ(answer.status, 405u);
  EXPECT_EQ(answer.allow, "GET, HEAD");
  EXPECT_EQ(answer.body, "method POST not allowed; use GET or HEAD\n");
  answer = answer_request("GET", "/", count);
  EXPECT_EQ(answer.status, 404u);
  EXPECT_EQ(answer.allow, "");
  EXPECT_EQ(answer.body, "not found: / (try /healthz or /metrics)\n");
  EXPECT_EQ(answer_request("DELETE", "/nope?x", count).body, "not found: /nope (try /healthz or /metrics)\n");
  EXPECT_EQ(calls, 0);
}

// ---- the listener ---------------------------------------------------------------

// A raw blocking client with poll() deadlines, so a misbehaving server fails
// the test instead of hanging it.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~raw_client() { close(); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything until the server closes; `closed` says whether it did within `timeout`.
  std::string read_all(std::chrono::milliseconds timeout, bool& closed) {
    std::string out;
    closed = false;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed = true;  // EOF or reset: the server is done with us
        return out;
      }
      out.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class health_listener_test : public ::testing::Test {
 protected:
  void start(health_endpoint_options options) {
    options.listen = "127.0.0.1:0";
    endpoint_ = std::make_unique<health_endpoint>(io_, options, [this] { return snapshot_of(connected_.load()); });
    auto result = endpoint_->start();
    ASSERT_TRUE(result.ok()) << result.message;
    auto address = endpoint_->local_address();
    port_ = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
    loop_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (loop_.joinable()) {
      boost::asio::post(io_, [this] { endpoint_->stop(); });
      work_.reset();
      loop_.join();
    }
  }
  void stop_endpoint() {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      endpoint_->stop();
      done.set_value();
    });
    done.get_future().wait();
  }
  std::string request(const std::string& text, bool* closed_out = nullptr) {
    raw_client client(port_);
    if (!client.connected() || !client.send(text)) return "(no connection)";
    bool closed = false;
    auto answer = client.read_all(5s, closed);
    if (closed_out) *closed_out = closed;
    return answer;
  }
  std::string get(const std::string& path) { return request("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"); }
  std::string metric_line(const std::string& name) {
    auto text = get("/metrics");
    auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return "(missing)";
    return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::unique_ptr<health_endpoint> endpoint_;
  std::thread loop_;
  std::uint16_t port_ = 0;
  std::atomic<bool> connected_{true};
};

TEST_F(health_listener_test, answers_one_request_per_connection_and_closes_it) {
  start({});
  bool closed = false;
  auto answer = request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "Content-Length: 3\r\n"
            "\r\n"
            "ok\n");
  connected_ = false;
  answer = get("/healthz");
  EXPECT_EQ(answer.substr(0, answer.find("\r\n")), "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(answer.substr(answer.find("\r\n\r\n") + 4), "not connected to tcp://127.0.0.1:1: connection lost\n");
}

TEST_F(health_listener_test, head_sends_the_length_without_the_body_and_405_says_what_is_allowed) {
  start({});
  auto metrics = get("/metrics");
  auto body_length = metrics.size() - metrics.find("\r\n\r\n") - 4;
  auto head = request("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << head;
  // The request counter grows between the two, and with it the body; its digits stay the same here.
  EXPECT_NE(head.find("Content-Length: " + std::to_string(body_length) + "\r\n"), std::string::npos) << head;
  auto post = request("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
  EXPECT_EQ(post.substr(0, post.find("\r\n")), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos) << post;
  auto missing = get("/nope");
  EXPECT_EQ(missing.substr(0, missing.find("\r\n")), "HTTP/1.1 404 Not Found");
}

TEST_F(health_listener_test, connections_over_the_limit_are_closed_at_once_and_counted) {
  health_endpoint_options options;
  options.max_connections = 2;
  start(options);
  raw_client first(port_);
  raw_client second(port_);
  raw_client third(port_);
  ASSERT_TRUE(first.connected() && second.connected() && third.connected());
  bool closed = false;
  EXPECT_EQ(third.read_all(5s, closed), "");
  EXPECT_TRUE(closed) << "the third connection should be closed without an answer";
  // A slot frees up once the server sees a client go.
  first.close();
  PLANT_ASSERT_EVENTUALLY(get("/healthz").find("\r\n\r\nok\n") != std::string::npos, 5s);
  auto line = metric_line("plant_agent_http_refused_connections_total");
  ASSERT_EQ(line.rfind("plant_agent_http_refused_connections_total ", 0), 0u) << line;
  EXPECT_GE(std::stoi(line.substr(line.find(' ') + 1)), 1) << line;
}

TEST_F(health_listener_test, a_silent_client_is_closed_at_the_deadline) {
  health_endpoint_options options;
  options.deadline = 500ms;
  start(options);
  raw_client silent(port_);
  raw_client slow(port_);
  ASSERT_TRUE(slow.send("GET /hea"));  // never finishes its request line
  auto begin = std::chrono::steady_clock::now();
  bool closed = false;
  EXPECT_EQ(silent.read_all(5s, closed), "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(slow.read_all(5s, closed), "");
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  EXPECT_EQ(metric_line("plant_agent_http_timed_out_connections_total"),
            "plant_agent_http_timed_out_connections_total 2");
}

TEST_F(health_listener_test, oversized_requests_get_431_or_413) {
  health_endpoint_options options;
  options.max_request_bytes = 1024;
  start(options);
  auto big_header = request("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big_header.substr(0, big_header.find("\r\n")), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_NE(big_header.find("\r\n\r\nrequest headers larger than 1024 bytes\n"), std::string::npos) << big_header;
  auto big_body =
      request("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b'));
  EXPECT_EQ(big_body.substr(0, big_body.find("\r\n")), "HTTP/1.1 413 Payload Too Large");
  auto garbage = request("NOT HTTP\r\n\r\n");
  EXPECT_EQ(garbage.substr(0, garbage.find("\r\n")), "HTTP/1.1 400 Bad Request");
}

TEST_F(health_listener_test, stop_closes_the_listener_and_open_connections) {
  start({});
  raw_client idle(port_);
  ASSERT_TRUE(idle.connected());
  ASSERT_EQ(get("/healthz").substr(0, 15), "HTTP/1.1 200 OK");  // the idle one is accepted by now
  stop_endpoint();
  bool closed = false;
  EXPECT_EQ(idle.read_all(5s, closed), "");
  EXPECT_TRUE(closed);
  raw_client late(port_);
  EXPECT_FALSE(late.connected()) << "still listening after stop()";
}

TEST(health_listener, a_taken_port_is_a_start_up_error_naming_the_address) {
  boost::asio::io_context io;
  health_endpoint_options options;
  options.listen = "127.0.0.1:0";
  health_endpoint first(io, options, [] { return snapshot_of(true); });
  ASSERT_TRUE(first.start().ok());
  options.listen = first.local_address();
  health_endpoint second(io, options, [] { return snapshot_of(true); });
  auto result = second.start();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, std::errc::address_in_use);
  EXPECT_EQ(result.message, "health.listen: cannot listen on " + options.listen + ": Address already in use");
}

TEST(health_listener, an_unknown_host_name_is_a_start_up_error) {
  boost::asio::io_context io;
  health_endpoint_options options;
  options.listen = "no-such-host.invalid:9464";
  health_endpoint endpoint(io, options, [] { return snapshot_of(true); });
  auto result = endpoint.start();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.message.rfind("health.listen: cannot resolve 'no-such-host.invalid': ", 0), 0u) << result.message;
}

}  // namespace
}  // namespace plant::app
