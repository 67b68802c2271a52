#include "agent/app/metrics_text.hpp"

#include "common/http/prometheus_text.hpp"

namespace plant::app {

namespace {

// Ages and limits in the unit the limit was written in: a limit of whole
// seconds reads "412 s old (limit 300 s)", a sub-second one (tests) in ms.
std::string describe_age(std::int64_t age_ms, std::chrono::milliseconds limit) {
  const std::int64_t limit_ms = limit.count();
  if (limit_ms % 1000 == 0) {
    return std::to_string(age_ms / 1000) + " s old (limit " + std::to_string(limit_ms / 1000) + " s)";
  }
  return std::to_string(age_ms) + " ms old (limit " + std::to_string(limit_ms) + " ms)";
}

std::string spool_reason(const agent_stats& s) {
  std::string error = s.spool_error;
  // The spool's own messages start with "spool: "; do not say it twice.
  constexpr std::string_view own_prefix = "spool: ";
  if (error.compare(0, own_prefix.size(), own_prefix) == 0) error.erase(0, own_prefix.size());
  return "spool unhealthy: " + (error.empty() ? std::string("no reason recorded") : error);
}

std::uint64_t flag(bool on) { return on ? 1 : 0; }

using exposition = prometheus::text;

void render_sources(exposition& out, const std::vector<sources::source_stats>& sources) {
  if (sources.empty()) return;
  struct per_source {
    const char* name;
    const char* help;
    std::uint64_t sources::source_stats::*field;
  };
  static const per_source counters[] = {
      {"plant_agent_source_polls_total", "Polls of the source.", &sources::source_stats::polls},
      {"plant_agent_source_errors_total", "Polls that failed.", &sources::source_stats::errors},
      {"plant_agent_source_samples_total", "Samples the source produced.", &sources::source_stats::samples},
      {"plant_agent_source_rejected_total", "Values the source read but rejected as invalid.",
       &sources::source_stats::rejected},
      {"plant_agent_source_skipped_ticks_total", "Poll ticks skipped because the previous poll was still running.",
       &sources::source_stats::skipped_ticks},
      {"plant_agent_source_reconnects_total", "Reconnects of the source to its device.",
       &sources::source_stats::reconnects},
      {"plant_agent_source_unreported_total",
       "Samples report by exception held back (within the deadband, before max_interval); the shortage detector "
       "saw them.",
       &sources::source_stats::unreported},
  };
  for (const auto& counter : counters) {
    out.family(counter.name, "counter", counter.help);
    for (const auto& s : sources) out.sample(counter.name, {{"source", s.name}, {"kind", s.kind}}, s.*counter.field);
  }
  out.family("plant_agent_source_healthy", "gauge", "1 while the source's last poll succeeded, 0 while it fails.");
  for (const auto& s : sources) {
    out.sample("plant_agent_source_healthy", {{"source", s.name}, {"kind", s.kind}}, flag(s.healthy));
  }
}

}  // namespace

health_verdict decide_health(const agent_stats& s) {
  std::vector<std::string> problems;
  if (!s.connected) {
    problems.push_back("not connected to " + s.broker_url +
                       (s.broker_error.empty() ? std::string(" (connecting)") : ": " + s.broker_error));
  }
  if (!s.broker_refusal.empty()) problems.push_back("the broker refuses messages: " + s.broker_refusal);
  if (s.spool_enabled && !s.spool_healthy) problems.push_back(spool_reason(s));
  if (s.backlog_oldest_age_ms && *s.backlog_oldest_age_ms > s.max_backlog_age.count()) {
    problems.push_back("backlog oldest message " + describe_age(*s.backlog_oldest_age_ms, s.max_backlog_age));
  }
  health_verdict verdict;
  if (problems.empty()) return verdict;
  verdict.healthy = false;
  verdict.reason.clear();
  for (const auto& problem : problems) {
    if (!verdict.reason.empty()) verdict.reason += "; ";
    verdict.reason += problem;
  }
  return verdict;
}

std::string render_metrics(const agent_stats& s) {
  exposition out;
  out.family("plant_agent_info", "gauge", "Always 1; the labels describe the running agent.");
  out.sample("plant_agent_info",
             {{"version", s.version}, {"agent", s.agent}, {"site", s.site}, {"config_hash", s.config_hash}}, 1u);
  out.single("plant_agent_start_time_seconds", "gauge", "When the agent started, in Unix seconds.",
             static_cast<double>(s.started_at_ms) / 1000.0);
  const health_verdict verdict = decide_health(s);
  out.single("plant_agent_healthy", "gauge", "1 when /healthz answers 200, 0 when it answers 503.",
             flag(verdict.healthy));

  out.single("plant_agent_samples_in_total", "counter", "Samples received from all sources.", s.samples_in);
  out.single("plant_agent_messages_sealed_total", "counter", "Messages sealed with a sequence number.",
             s.messages.sealed);
  out.single("plant_agent_messages_published_total", "counter",
             "Messages handed to the MQTT client, resends included.", s.messages.published);
  out.single("plant_agent_messages_acked_total", "counter", "Messages the broker acknowledged.", s.messages.acked);
  out.single("plant_agent_messages_replayed_total", "counter",
             "Messages sent again from the spool or after a reconnect, marked replayed.", s.messages.replayed);
  out.single("plant_agent_publish_errors_total", "counter", "Publishes the MQTT client refused.",
             s.messages.publish_errors);
  out.histogram("plant_agent_publish_ack_latency_seconds",
                "Time from handing a message to the MQTT client to the broker's acknowledgement.", s.ack_latency);

  out.single("plant_agent_backlog_messages", "gauge", "Messages sealed but not yet acknowledged by the broker.",
             s.backlog_messages);
  out.single("plant_agent_backlog_bytes", "gauge", "Bytes of the unacknowledged messages.", s.backlog_bytes);
  out.single("plant_agent_backlog_oldest_age_seconds", "gauge",
             "Age of the oldest unacknowledged message; 0 when there is none.",
             static_cast<double>(s.backlog_oldest_age_ms.value_or(0)) / 1000.0);
  out.single("plant_agent_spool_bytes", "gauge", "Disk space used by the spool's segment files.", s.spool_bytes);
  out.single("plant_agent_spool_healthy", "gauge",
             "0 while the spool fails to write or could not be opened; 1 otherwise (also when spool.enabled = false).",
             flag(!s.spool_enabled || s.spool_healthy));
  out.single("plant_agent_spool_write_errors_total", "counter", "Spool appends that failed.",
             s.spool_write_errors);
  out.single("plant_agent_spool_syncs_total", "counter",
             "fdatasync and fsync calls of the spool (segments, ack record, directory): each one makes the disk flush.",
             s.spool_syncs);
  out.single("plant_agent_dropped_messages_total", "counter",
             "Messages given up on (spool bounds, or a full queue without a spool).", s.dropped);
  out.single("plant_agent_corrupted_messages_total", "counter", "Messages lost to a damaged spool.", s.corrupted);

  render_sources(out, s.sources);

  out.single("plant_agent_broker_connected", "gauge", "1 while connected to the MQTT broker.",
             flag(s.connected));
  out.single("plant_agent_broker_reconnects_total", "counter", "Reconnects to the broker after the first connect.",
             s.reconnects);
  out.single("plant_agent_broker_protocol_level", "gauge",
             "MQTT protocol level of the current (or last) connection: 4 = 3.1.1, 5 = MQTT 5.",
             std::uint64_t{s.protocol == "5" ? 5u : 4u});
  out.single("plant_agent_broker_refusals_total", "counter",
             "Publishes the broker refused with an MQTT 5 reason code (held and resent, or dropped when final).",
             s.messages.broker_refusals);
  if (!s.tls_certificates.empty()) {
    out.family("plant_agent_tls_certificate_expiry_seconds", "gauge",
               "Seconds until the earliest certificate in mqtt.ca_file or mqtt.cert_file expires (negative: expired); "
               "read before every connect and hourly.");
    for (const auto& cert : s.tls_certificates) {
      out.sample("plant_agent_tls_certificate_expiry_seconds", {{"file", cert.file}},
                 prometheus::format_value(static_cast<double>(cert.expires_in_s)));
    }
  }
  if (s.sparkplug) {
    const auto& sp = *s.sparkplug;
    out.single("plant_agent_sparkplug_born", "gauge", "1 while the Sparkplug node is born and publishing.",
               flag(sp.born));
    out.single("plant_agent_sparkplug_primary_host_online", "gauge",
               "1 while the primary host's STATE says online (always 1 without sparkplug.primary_host_id).",
               flag(sp.host_online));
    out.single("plant_agent_sparkplug_bdseq", "gauge", "bdSeq of the current (or last) Sparkplug session.", sp.bdseq);
    out.single("plant_agent_sparkplug_metrics", "gauge", "Metrics announced in the births.", sp.metrics);
    out.single("plant_agent_sparkplug_births_total", "counter", "NBIRTH messages (first births and rebirths).",
               sp.counters.births);
    out.single("plant_agent_sparkplug_rebirth_requests_total", "counter", "NCMD Node Control/Rebirth received.",
               sp.counters.rebirth_requests);
    out.single("plant_agent_sparkplug_commands_ignored_total", "counter",
               "NCMD/DCMD metrics ignored (the agent writes nothing to devices).", sp.counters.commands_ignored);
    out.single("plant_agent_sparkplug_device_deaths_total", "counter", "DDEATH messages for sources that stopped answering.",
               sp.counters.device_deaths);
    out.single("plant_agent_sparkplug_host_offline_total", "counter", "Times the primary host went offline.",
               sp.counters.host_offline);
    out.single("plant_agent_sparkplug_metrics_dropped_total", "counter",
               "Readings of metrics past the announced-metrics bound, not sent.", sp.counters.metrics_dropped);
    out.single("plant_agent_sparkplug_commands_too_large_total", "counter",
               "NCMD/DCMD/STATE payloads over their size bound, not read.", sp.counters.commands_too_large);
  }
  out.single("plant_agent_log_lines_suppressed_total", "counter", "Repeated log lines suppressed by rate limiting.",
             s.log_suppressed);
  out.single("plant_agent_http_requests_total", "counter", "Requests answered by this endpoint.", s.http.requests);
  out.single("plant_agent_http_refused_connections_total", "counter",
             "Connections to this endpoint closed at once because too many were open.", s.http.refused_connections);
  out.single("plant_agent_http_timed_out_connections_total", "counter",
             "Connections to this endpoint closed at their deadline.", s.http.timed_out_connections);
  return out.take();
}

}  // namespace plant::app
