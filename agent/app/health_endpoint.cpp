#include "agent/app/health_endpoint.hpp"

namespace plant::app {

namespace {

constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

http::answer answer_request(std::string_view method, std::string_view target,
                            const std::function<agent_stats()>& snapshot) {
  // Scrapers may add a query string; nothing here reads one.
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/healthz" && path != "/metrics") {
    return http::text_answer(404, "not found: " + std::string(path) + " (try /healthz or /metrics)");
  }
  if (method != "GET" && method != "HEAD") {
    http::answer refused = http::text_answer(405, "method " + std::string(method) + " not allowed; use GET or HEAD");
    refused.allow = "GET, HEAD";
    return refused;
  }
  const agent_stats now = snapshot();
  if (path == "/healthz") {
    const health_verdict verdict = decide_health(now);
    return http::text_answer(verdict.healthy ? 200 : 503, verdict.reason);
  }
  http::answer metrics;
  metrics.content_type = std::string(metrics_content_type);
  metrics.body = render_metrics(now);
  return metrics;
}

http::server_options health_endpoint::server_settings(const health_endpoint_options& options) {
  http::server_options s;
  s.setting = "health.listen";
  s.listen = options.listen;
  s.max_connections = options.max_connections;
  s.deadline = options.deadline;
  s.max_request_bytes = options.max_request_bytes;
  s.describe_paths = "(/healthz, /metrics)";
  return s;
}

health_endpoint::health_endpoint(boost::asio::io_context& io, const health_endpoint_options& options,
                                 std::function<agent_stats()> snapshot)
    : snapshot_(std::move(snapshot)),
      server_(io, server_settings(options), [this](const http::request& r) {
        return answer_request(r.method, r.target, [this] {
          agent_stats now = snapshot_();
          now.http = server_.stats();
          return now;
        });
      }) {}

}  // namespace plant::app
