#pragma once
/// The agent's one stats snapshot (see agent_stats below).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/edge/shortage_detector.hpp"
#include "agent/sources/polled_source.hpp"
#include "agent/sparkplug/edge_node.hpp"
#include "agent/transport/outbox.hpp"
#include "common/core/latency_histogram.hpp"
#include "common/core/seq_ranges.hpp"
#include "common/http/http_server.hpp"

namespace plant::app {

/// One snapshot of everything the agent reports, taken on the event-loop thread:
/// the status message (encoding/status_encoding.hpp) and /metrics both render
/// this one value, so they cannot disagree.
struct agent_stats {
  std::string version;                    ///< PLANT_VERSION
  std::string agent;                      ///< agent.id
  std::string site;                       ///< agent.site
  std::string config_hash;
  std::int64_t started_at_ms = 0;         ///< Unix ms when the agent started

  std::string broker_url;                 ///< mqtt.url
  bool connected = false;                 ///< connected to the broker now
  std::string broker_error;               ///< why the last connect failed or the connection dropped
  std::uint64_t reconnects = 0;           ///< broker reconnects since start
  std::string protocol;                   ///< MQTT version of the current (or last) connection: "5" or "3.1.1"
  std::string broker_refusal;             ///< why the broker refuses messages now (MQTT 5), "" when it does not

  std::uint64_t samples_in = 0;           ///< samples accepted from all sources
  std::uint64_t last_seq = 0;             ///< highest seq handed out so far
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
  std::uint64_t spool_write_errors = 0;   ///< appends the disk refused
  std::uint64_t spool_syncs = 0;          ///< fdatasync and fsync calls of the spool
  std::uint64_t memory_only = 0;          ///< unacknowledged messages held only in memory

  std::uint64_t dropped = 0;              ///< messages given up on
  std::vector<seq_range> dropped_ranges;  ///< which (bounded; the oldest merge past the bound)
  std::uint64_t corrupted = 0;            ///< messages lost to a damaged spool
  std::vector<seq_range> corrupted_ranges;  ///< which
  std::string last_error;                 ///< the most relevant current problem, "" when none

  std::vector<sources::source_stats> sources;  ///< one per running source
  std::uint64_t log_suppressed = 0;       ///< rate-limited log lines not printed
  std::vector<edge::material_status> materials;  ///< the shortage picture (empty when off)
  http::server_stats http;                ///< filled in by the endpoint

  /// ssl://: each configured certificate file (ca_file, cert_file) and the seconds
  /// until its earliest certificate expires (negative once expired).
  struct tls_certificate {
    std::string file;  ///< "ca_file" or "cert_file"
    std::int64_t expires_in_s = 0;
  };
  std::vector<tls_certificate> tls_certificates;

  /// mqtt.format = "sparkplug": the edge node's session.
  struct sparkplug_session {
    bool born = false;                    ///< NBIRTH sent on the current connection, publishing
    bool host_online = true;              ///< the primary host's STATE (true without one)
    std::uint64_t bdseq = 0;              ///< of the current (or last) session
    std::uint64_t metrics = 0;            ///< announced
    sparkplug::edge_node_counters counters;
  };
  std::optional<sparkplug_session> sparkplug;
};

}  // namespace plant::app
