// The health endpoint of the real agent binary, asked by a real HTTP client (curl).
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/support/agent_harness.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string simulator_section =
    "[[source.simulator]]\nname = \"sim-1\"\nlines = 2\nmaterials = 2\nspeed = 5.0\n";

struct http_result {
  int curl_exit = -1;  ///< 0, or curl's error (7: connection refused)
  int status = 0;
  std::string headers;
  std::string body;
  std::string describe;  ///< for failure messages
};

// curl prints the response headers (-i) then the body; -w appends the status on its own line.
http_result curl(const std::vector<std::string>& args, const std::string& url) {
  std::vector<std::string> argv{"curl", "-sS", "-i", "--max-time", "5", "-w", "\n%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  auto run = run_command(argv, 10s);
  http_result result;
  result.curl_exit = run.exit_code;
  result.describe = run.describe() + "; stdout: " + run.stdout_text;
  const std::string& out = run.stdout_text;
  auto last_newline = out.rfind('\n');
  if (run.exit_code != 0 || last_newline == std::string::npos) return result;
  result.status = std::atoi(out.c_str() + last_newline + 1);
  std::string response = out.substr(0, last_newline);
  auto split = response.find("\r\n\r\n");
  result.headers = response.substr(0, split == std::string::npos ? response.size() : split + 2);
  result.body = split == std::string::npos ? "" : response.substr(split + 4);
  return result;
}

std::string base_url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

// The value of an unlabelled (or exactly labelled) sample in a metrics text; -1 when absent.
double metric(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + 1 + series.size() + 1);
}

std::string health_section(std::uint16_t port, const std::string& more = "") {
  return "[health]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n" + more;
}

struct tcp_listener {
  bool v6 = false;
  std::string local_address;  ///< as /proc/net/tcp prints it: hex, e.g. 0100007F for 127.0.0.1
  std::uint16_t port = 0;
  unsigned long inode = 0;
};

// Every listening TCP socket on the machine, from /proc/net/tcp and tcp6.
std::vector<tcp_listener> listening_sockets() {
  std::vector<tcp_listener> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
      unsigned long inode = 0;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      if (state != "0A") continue;  // TCP_LISTEN
      auto colon = local.find(':');
      tcp_listener l;
      l.v6 = std::string(file).back() == '6';
      l.local_address = local.substr(0, colon);
      l.port = static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
      l.inode = inode;
      out.push_back(l);
    }
  }
  return out;
}

// Inodes of the sockets process `pid` has open.
std::set<unsigned long> socket_inodes(pid_t pid) {
  std::set<unsigned long> inodes;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (!d) return inodes;
  while (dirent* entry = readdir(d)) {
    char target[256];
    std::string link = dir + "/" + entry->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    std::string text(target, static_cast<std::size_t>(n));
    if (text.rfind("socket:[", 0) == 0) inodes.insert(std::stoul(text.substr(8)));
  }
  closedir(d);
  return inodes;
}

// The listening sockets process `pid` owns.
std::vector<tcp_listener> listeners_of(pid_t pid) {
  auto mine = socket_inodes(pid);
  std::vector<tcp_listener> out;
  for (const auto& l : listening_sockets())
    if (mine.count(l.inode)) out.push_back(l);
  return out;
}

TEST(health, healthz_follows_the_broker_and_metrics_show_the_pipeline_and_its_sources) {
  temp_dir dir("health-e2e");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  const std::uint16_t port = free_tcp_port();
  ASSERT_NE(port, 0);
  agent_process agent(dir, "agent",
                      agent_config_text("gw-m", "site-m", dir.file("state"), broker.url(),
                                        "publish_interval = \"100ms\"\n",
                                        simulator_section + health_section(port, "max_backlog_age = \"2s\"\n")));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("listening on http://127.0.0.1:" + std::to_string(port) + " (/healthz, /metrics)",
                                 10s));

  http_result healthz;
  PLANT_ASSERT_EVENTUALLY((healthz = curl({}, base_url(port) + "/healthz")).status == 200, 15s)
      << healthz.describe << "\n" << agent.log();
  EXPECT_EQ(healthz.body, "ok\n");
  EXPECT_NE(healthz.headers.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos)
      << healthz.headers;

  http_result metrics;
  PLANT_ASSERT_EVENTUALLY((metrics = curl({}, base_url(port) + "/metrics")).status == 200 &&
                              metric(metrics.body, "plant_agent_messages_acked_total") > 0,
                          15s)
      << metrics.describe;
  const std::string& text = metrics.body;
  EXPECT_NE(metrics.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos)
      << metrics.headers;
  EXPECT_GT(metric(text, "plant_agent_samples_in_total"), 0) << text;
  EXPECT_GT(metric(text, "plant_agent_messages_sealed_total"), 0) << text;
  EXPECT_GT(metric(text, "plant_agent_publish_ack_latency_seconds_count"), 0) << text;
  EXPECT_EQ(metric(text, "plant_agent_broker_connected"), 1) << text;
  EXPECT_EQ(metric(text, "plant_agent_healthy"), 1) << text;
  EXPECT_GT(metric(text, "plant_agent_source_polls_total{source=\"sim-1\",kind=\"simulator\"}"), 0) << text;
  EXPECT_GT(metric(text, "plant_agent_source_samples_total{source=\"sim-1\",kind=\"simulator\"}"), 0) << text;
  EXPECT_EQ(metric(text, "plant_agent_source_healthy{source=\"sim-1\",kind=\"simulator\"}"), 1) << text;
  EXPECT_NE(text.find("# TYPE plant_agent_publish_ack_latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("\nplant_agent_info{version=\"" PLANT_VERSION "\",agent=\"gw-m\",site=\"site-m\",config_hash=\""),
            std::string::npos)
      << text;

  // The broker goes away: 503 with the reason, then the backlog's age too.
  ASSERT_TRUE(broker.stop());
  const std::string not_connected = "not connected to " + broker.url() + ": ";
  PLANT_ASSERT_EVENTUALLY((healthz = curl({}, base_url(port) + "/healthz")).status == 503, 15s) << healthz.describe;
  EXPECT_EQ(healthz.body.rfind(not_connected, 0), 0u) << healthz.body;
  EXPECT_EQ(healthz.body.find('\n'), healthz.body.size() - 1) << "one line: " << healthz.body;
  PLANT_ASSERT_EVENTUALLY(
      (healthz = curl({}, base_url(port) + "/healthz")).body.find("; backlog oldest message ") != std::string::npos,
      15s)
      << healthz.describe;
  EXPECT_EQ(healthz.status, 503);
  EXPECT_NE(healthz.body.find(" s old (limit 2 s)\n"), std::string::npos) << healthz.body;
  metrics = curl({}, base_url(port) + "/metrics");
  EXPECT_EQ(metric(metrics.body, "plant_agent_broker_connected"), 0) << metrics.body;
  EXPECT_EQ(metric(metrics.body, "plant_agent_healthy"), 0) << metrics.body;
  EXPECT_GE(metric(metrics.body, "plant_agent_backlog_oldest_age_seconds"), 2) << metrics.body;

  // Back again: the backlog drains and the agent is healthy once more.
  ASSERT_TRUE(broker.start());
  PLANT_ASSERT_EVENTUALLY((healthz = curl({}, base_url(port) + "/healthz")).status == 200, 30s)
      << healthz.describe << "\n" << agent.log();
  EXPECT_GE(metric(curl({}, base_url(port) + "/metrics").body, "plant_agent_broker_reconnects_total"), 1);

  auto stopped = agent.process().terminate_and_wait(10s);
  EXPECT_TRUE(stopped.success()) << stopped.describe();
}

TEST(health, only_get_and_head_on_two_paths_and_only_on_loopback) {
  temp_dir dir("health-http");
  const std::uint16_t port = free_tcp_port();
  const std::uint16_t no_broker = free_tcp_port();
  ASSERT_NE(port, 0);
  agent_process agent(dir, "agent",
                      agent_config_text("gw-h", "site-h", dir.file("state"),
                                        "tcp://127.0.0.1:" + std::to_string(no_broker), "", health_section(port)));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("listening on http://127.0.0.1:" + std::to_string(port), 10s));

  auto post = curl({"-X", "POST", "-d", "x=1"}, base_url(port) + "/healthz");
  EXPECT_EQ(post.status, 405) << post.describe;
  EXPECT_NE(post.headers.find("Allow: GET, HEAD\r\n"), std::string::npos) << post.headers;
  EXPECT_EQ(post.body, "method POST not allowed; use GET or HEAD\n");

  auto missing = curl({}, base_url(port) + "/status");
  EXPECT_EQ(missing.status, 404) << missing.describe;
  EXPECT_EQ(missing.body, "not found: /status (try /healthz or /metrics)\n");

  auto head = curl({"-I"}, base_url(port) + "/metrics");
  EXPECT_EQ(head.status, 200) << head.describe;
  EXPECT_EQ(head.body, "") << head.describe;
  EXPECT_NE(head.headers.find("Content-Length: "), std::string::npos) << head.headers;

  // No broker: unhealthy, and says why.
  auto healthz = curl({}, base_url(port) + "/healthz");
  EXPECT_EQ(healthz.status, 503);
  EXPECT_EQ(healthz.body.rfind("not connected to tcp://127.0.0.1:" + std::to_string(no_broker), 0), 0u)
      << healthz.body;

  // Exactly one listening socket, on 127.0.0.1 (0100007F in /proc/net/tcp), none on IPv6.
  auto listeners = listeners_of(agent.process().pid());
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_FALSE(listeners[0].v6);
  EXPECT_EQ(listeners[0].local_address, "0100007F");
  EXPECT_EQ(listeners[0].port, port);
  // Another loopback address reaches a wildcard listener, but not one bound to 127.0.0.1.
  auto elsewhere = curl({}, "http://127.0.0.2:" + std::to_string(port) + "/healthz");
  EXPECT_EQ(elsewhere.curl_exit, 7) << "expected 'connection refused': " << elsewhere.describe;

  auto stopped = agent.process().terminate_and_wait(10s);
  EXPECT_TRUE(stopped.success()) << stopped.describe();
}

TEST(health, off_by_default) {
  temp_dir dir("health-off");
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  agent_process agent(dir, "agent",
                      agent_config_text("gw-o", "site-o", dir.file("state"), broker.url(), "", simulator_section));
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to", 10s));
  auto listeners = listeners_of(agent.process().pid());
  EXPECT_TRUE(listeners.empty()) << listeners.size() << " listening sockets, first on port " << listeners[0].port;
  EXPECT_FALSE(socket_inodes(agent.process().pid()).empty()) << "the MQTT connection should be seen as a socket";
  EXPECT_EQ(agent.log().find("listening on http"), std::string::npos) << agent.log();
  auto stopped = agent.process().terminate_and_wait(10s);
  EXPECT_TRUE(stopped.success()) << stopped.describe();
}

TEST(health, a_port_in_use_stops_the_start_with_the_address_and_reason) {
  temp_dir dir("health-busy");
  // Hold the port with a listening socket of our own.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::uint16_t port = ntohs(address.sin_port);

  agent_process agent(dir, "agent",
                      agent_config_text("gw-b", "site-b", dir.file("state"), "tcp://127.0.0.1:1", "",
                                        health_section(port)));
  ASSERT_TRUE(agent.start());
  auto status = agent.process().wait(10s);
  ::close(holder);
  ASSERT_TRUE(status.has_value()) << "the agent kept running with its health port taken\n" << agent.log();
  EXPECT_EQ(status->describe(), "exit code 1") << agent.log();
  EXPECT_NE(agent.log().find("plant-agent: health.listen: cannot listen on 127.0.0.1:" + std::to_string(port) +
                             ": Address already in use\n"),
            std::string::npos)
      << agent.log();
}

}  // namespace
}  // namespace plant::test
