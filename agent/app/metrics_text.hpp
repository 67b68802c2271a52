#pragma once
/// What the health endpoint shows: a plain snapshot of the agent's counters,
/// the /healthz decision over it, and its rendering in the Prometheus text
/// exposition format 0.0.4. Pure: no sockets, no clocks (the snapshot carries
/// the ages), so tests give a snapshot and compare exact text.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/polled_source.hpp"
#include "agent/transport/outbox.hpp"

namespace plant::app {

/// The health endpoint's own counters.
struct http_stats {
  std::uint64_t requests = 0;             ///< requests answered (any status)
  std::uint64_t refused_connections = 0;  ///< closed at once: too many connections open
  std::uint64_t timed_out_connections = 0;  ///< closed at the per-connection deadline
};

/// Everything /healthz and /metrics report, taken on the event-loop thread.
struct health_snapshot {
  std::string version;                    ///< PLANT_VERSION
  std::string agent;                      ///< agent.id
  std::string site;                       ///< agent.site
  std::string config_hash;
  std::int64_t started_at_ms = 0;         ///< Unix ms when the agent started

  std::string broker_url;                 ///< mqtt.url
  bool connected = false;                 ///< connected to the broker now
  std::string broker_error;               ///< why the last connect failed or the connection dropped
  std::uint64_t reconnects = 0;           ///< broker reconnects since start

  std::uint64_t samples_in = 0;           ///< samples accepted from all sources
  transport::outbox_counters messages;    ///< sealed, published, acked, replayed, errors
  latency_histogram ack_latency;  ///< publish-to-acknowledgement times

  std::uint64_t backlog_messages = 0;     ///< sealed, not yet acknowledged
  std::uint64_t backlog_bytes = 0;        ///< their bytes
  std::optional<std::int64_t> backlog_oldest_age_ms;  ///< none when nothing is unacknowledged
  std::chrono::milliseconds max_backlog_age{300000};  ///< health.max_backlog_age

  bool spool_enabled = true;              ///< spool.enabled
  bool spool_healthy = true;              ///< meaningful when spool_enabled
  std::string spool_error;                ///< why the spool is unhealthy (or could not be opened)
  std::uint64_t spool_bytes = 0;          ///< disk used by spool segments

  std::uint64_t dropped = 0;              ///< messages given up on
  std::uint64_t corrupted = 0;            ///< messages lost to a damaged spool

  std::vector<sources::source_stats> sources;  ///< one per running source
  std::uint64_t log_suppressed = 0;       ///< rate-limited log lines not printed
  http_stats http;                        ///< filled in by the endpoint
};

/// The /healthz decision: healthy, or the reasons it is not, as one line.
struct health_verdict {
  bool healthy = true;  ///< 200 when true, 503 when false
  /// "ok" when healthy; otherwise every failed check, joined with "; ".
  std::string reason = "ok";
};

/// Healthy when connected to the broker, the spool (if enabled) accepts writes,
/// and the oldest unacknowledged message is not older than max_backlog_age.
/// Source failures do not count: they are per-source metrics, not agent health.
health_verdict decide_health(const health_snapshot& snapshot);

/// The snapshot in Prometheus text format 0.0.4, every metric prefixed plant_agent_.
std::string render_metrics(const health_snapshot& snapshot);

/// A label value escaped per the text format: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

/// A float the way the text format wants it: shortest round-trip form, "+Inf", "-Inf", "NaN".
std::string format_metric_value(double value);

}  // namespace plant::app
