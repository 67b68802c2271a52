#pragma once
/// The optional local HTTP endpoint (health.listen): GET /healthz answers 200
/// "ok" or 503 with the reason, GET /metrics the Prometheus text. It runs on
/// the agent's io_context, one request per connection, and every resource is
/// bounded: connections open at once, a deadline per connection, request size.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "agent/app/metrics_text.hpp"

namespace plant::app {

struct health_endpoint_options {
  std::string listen;                        ///< "host:port" or "[v6]:port", as the config validated it
  std::size_t max_connections = 8;           ///< open at once; more are closed at once and counted
  std::chrono::milliseconds deadline{5000};  ///< a connection is closed this long after it was accepted
  std::size_t max_request_bytes = 8192;      ///< request line and headers, and separately the body
};

/// What start() did; `message` names the address and the reason on failure.
struct listen_result {
  std::error_code error;  ///< empty when listening
  std::string message;    ///< "health.listen: cannot listen on 127.0.0.1:9464: Address already in use"
  /// True when the endpoint listens.
  bool ok() const { return !error; }
};

/// One HTTP answer, before it is put on the wire.
struct http_answer {
  unsigned status = 200;                                   ///< HTTP status code
  std::string content_type = "text/plain; charset=utf-8";  ///< Content-Type header
  std::string body;                                        ///< the GET body (HEAD sends only its length)
  bool allow_get_head = false;  ///< add "Allow: GET, HEAD" (405)
};

/// Routes one request: GET/HEAD /healthz and /metrics, 405 for other methods,
/// 404 for other paths. `snapshot` is called only for the two known paths.
/// For HEAD the body is returned too; the caller sends only its length.
http_answer answer_request(std::string_view method, std::string_view target,
                           const std::function<agent_stats()>& snapshot);

class health_endpoint {
 public:
  /// `snapshot` is called on the io_context's thread for each /healthz and /metrics request;
  /// the endpoint fills in its own `http` counters.
  health_endpoint(boost::asio::io_context& io, health_endpoint_options options,
                  std::function<agent_stats()> snapshot);
  /// Stops listening and closes open connections.
  ~health_endpoint();
  health_endpoint(const health_endpoint&) = delete;
  health_endpoint& operator=(const health_endpoint&) = delete;

  /// Resolves and binds options.listen and starts accepting.
  listen_result start();
  /// Closes the listener and every open connection; safe to call twice.
  void stop();
  /// The bound address, "127.0.0.1:9464" or "[::1]:9464" (the kernel's port when 0 was asked for).
  std::string local_address() const;
  /// Requests answered and connections refused or timed out so far.
  const http_stats& stats() const;

 private:
  struct state;
  class session;
  static void accept_next(const std::shared_ptr<state>& shared);

  boost::asio::io_context& io_;
  std::shared_ptr<state> state_;
};

}  // namespace plant::app
