#pragma once
/// A tiny HTTP/1.1 GET over loopback for tests that must tell "answered late"
/// from "answered": no curl process per request, a hard deadline per call.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace plant::test {

struct http_reply {
  int status = 0;
  std::string body;
};

/// GET `path` from 127.0.0.1:port; nullopt when no complete reply came within `timeout`
/// (refused, reset, or too slow). `Connection: close`, so the reply ends at EOF.
std::optional<http_reply> http_get(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout);

/// The value of the sample `series` (a name, or a name with its exact labels)
/// in a Prometheus text exposition; nullopt when absent.
std::optional<double> metric_value(const std::string& exposition, const std::string& series);

/// GET /metrics from 127.0.0.1:port and read one series; nullopt when either fails.
std::optional<double> scrape_metric(std::uint16_t port, const std::string& series,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(2));

/// Asks `path` every `period` on a thread of its own and remembers the slowest
/// answer and every miss: the proof that an event loop kept answering while
/// the test did something nasty to it.
class http_liveness_probe {
 public:
  http_liveness_probe(std::uint16_t port, std::string path, std::chrono::milliseconds deadline,
                      std::chrono::milliseconds period = std::chrono::milliseconds(100));
  ~http_liveness_probe();
  http_liveness_probe(const http_liveness_probe&) = delete;
  http_liveness_probe& operator=(const http_liveness_probe&) = delete;

  /// Stops asking (the destructor does too); idempotent.
  void stop();
  unsigned long answered() const { return answered_.load(); }
  /// Requests with no complete answer within the deadline.
  unsigned long missed() const { return missed_.load(); }
  std::chrono::milliseconds slowest() const { return std::chrono::milliseconds(slowest_ms_.load()); }
  /// "N answered, M missed (first at +T ms), slowest S ms" for failure messages.
  std::string summary() const;

 private:
  void run();

  std::uint16_t port_;
  std::string path_;
  std::chrono::milliseconds deadline_;
  std::chrono::milliseconds period_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned long> answered_{0};
  std::atomic<unsigned long> missed_{0};
  std::atomic<long long> slowest_ms_{0};
  std::atomic<long long> first_miss_ms_{-1};
  std::thread thread_;
};

}  // namespace plant::test
