#pragma once
/// The optional local HTTP endpoint (health.listen): GET /healthz answers 200
/// "ok" or 503 with the reason, GET /metrics the Prometheus text. It is the
/// common HTTP server (common/http) with the agent's two routes, on the
/// agent's io_context, every resource bounded.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/app/metrics_text.hpp"
#include "common/http/http_server.hpp"

namespace plant::app {

struct health_endpoint_options {
  std::string listen;                        ///< "host:port" or "[v6]:port", as the config validated it
  std::size_t max_connections = 8;           ///< open at once; more are closed at once and counted
  std::chrono::milliseconds deadline{5000};  ///< a connection is closed this long after it was accepted
  std::size_t max_request_bytes = 8192;      ///< request line and headers, and separately the body
};

/// Routes one request: GET/HEAD /healthz and /metrics, 405 for other methods,
/// 404 for other paths. `snapshot` is called only for the two known paths.
/// For HEAD the body is returned too; the server sends only its length.
http::answer answer_request(std::string_view method, std::string_view target,
                            const std::function<agent_stats()>& snapshot);

class health_endpoint {
 public:
  /// `snapshot` is called on the io_context's thread for each /healthz and /metrics request;
  /// the endpoint fills in its own `http` counters.
  health_endpoint(boost::asio::io_context& io, const health_endpoint_options& options,
                  std::function<agent_stats()> snapshot);
  health_endpoint(const health_endpoint&) = delete;
  health_endpoint& operator=(const health_endpoint&) = delete;

  /// Resolves and binds options.listen and starts accepting.
  http::listen_result start() { return server_.start(); }
  /// Closes the listener and every open connection; safe to call twice.
  void stop() { server_.stop(); }
  /// The bound address, "127.0.0.1:9464" or "[::1]:9464" (the kernel's port when 0 was asked for).
  std::string local_address() const { return server_.local_address(); }
  /// Requests answered and connections refused or timed out so far.
  const http::server_stats& stats() const { return server_.stats(); }

 private:
  static http::server_options server_settings(const health_endpoint_options& options);

  std::function<agent_stats()> snapshot_;
  http::server server_;
};

}  // namespace plant::app
