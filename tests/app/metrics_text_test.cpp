// The /healthz decision and the Prometheus text, from snapshots: exact texts.
#include "agent/app/metrics_text.hpp"

#include <gtest/gtest.h>

namespace plant::app {
namespace {

using namespace std::chrono_literals;

agent_stats healthy_snapshot() {
  agent_stats s;
  s.version = "0.1.0";
  s.agent = "gw-1";
  s.site = "plant-a";
  s.config_hash = "0123456789abcdef";
  s.started_at_ms = 1700000000123;
  s.broker_url = "tcp://broker:1883";
  s.connected = true;
  s.max_backlog_age = 300s;
  return s;
}

TEST(health_decision, connected_with_a_young_backlog_is_ok) {
  auto s = healthy_snapshot();
  s.backlog_oldest_age_ms = 300000;  // exactly the limit is still fine
  auto verdict = decide_health(s);
  EXPECT_TRUE(verdict.healthy);
  EXPECT_EQ(verdict.reason, "ok");
}

TEST(health_decision, an_empty_backlog_has_no_age) {
  auto s = healthy_snapshot();
  s.max_backlog_age = 0ms;
  EXPECT_TRUE(decide_health(s).healthy);
}

TEST(health_decision, not_connected_names_the_broker_and_the_last_error) {
  auto s = healthy_snapshot();
  s.connected = false;
  s.broker_error = "connection lost: Connection refused";
  auto verdict = decide_health(s);
  EXPECT_FALSE(verdict.healthy);
  EXPECT_EQ(verdict.reason, "not connected to tcp://broker:1883: connection lost: Connection refused");
}

TEST(health_decision, not_yet_connected_without_an_error_says_connecting) {
  auto s = healthy_snapshot();
  s.connected = false;
  EXPECT_EQ(decide_health(s).reason, "not connected to tcp://broker:1883 (connecting)");
}

TEST(health_decision, an_old_backlog_gives_its_age_and_the_limit_in_seconds) {
  auto s = healthy_snapshot();
  s.backlog_oldest_age_ms = 412999;
  auto verdict = decide_health(s);
  EXPECT_FALSE(verdict.healthy);
  EXPECT_EQ(verdict.reason, "backlog oldest message 412 s old (limit 300 s)");
}

TEST(health_decision, a_sub_second_limit_is_reported_in_milliseconds) {
  auto s = healthy_snapshot();
  s.max_backlog_age = 1500ms;
  s.backlog_oldest_age_ms = 1501;
  EXPECT_EQ(decide_health(s).reason, "backlog oldest message 1501 ms old (limit 1500 ms)");
}

TEST(health_decision, a_failing_spool_is_unhealthy_and_its_prefix_is_not_repeated) {
  auto s = healthy_snapshot();
  s.spool_healthy = false;
  s.spool_error = "spool: write /var/lib/plant-agent/spool/seg-1: No space left on device";
  EXPECT_EQ(decide_health(s).reason,
            "spool unhealthy: write /var/lib/plant-agent/spool/seg-1: No space left on device");
  s.spool_error = "cannot create spool directory /x/spool: Permission denied";
  EXPECT_EQ(decide_health(s).reason, "spool unhealthy: cannot create spool directory /x/spool: Permission denied");
}

TEST(health_decision, a_disabled_spool_is_not_a_problem) {
  auto s = healthy_snapshot();
  s.spool_enabled = false;
  s.spool_healthy = false;
  EXPECT_TRUE(decide_health(s).healthy);
}

TEST(health_decision, every_failed_check_is_listed_on_one_line) {
  auto s = healthy_snapshot();
  s.connected = false;
  s.broker_error = "connection lost";
  s.spool_healthy = false;
  s.spool_error = "spool: another process holds the spool";
  s.backlog_oldest_age_ms = 600000;
  EXPECT_EQ(decide_health(s).reason,
            "not connected to tcp://broker:1883: connection lost; spool unhealthy: another process holds the "
            "spool; backlog oldest message 600 s old (limit 300 s)");
}

TEST(health_decision, failing_sources_do_not_make_the_agent_unhealthy) {
  auto s = healthy_snapshot();
  sources::source_stats plc;
  plc.name = "plc";
  plc.kind = "modbus";
  plc.healthy = false;
  s.sources.push_back(plc);
  EXPECT_TRUE(decide_health(s).healthy);
}

TEST(metrics_text, renders_every_family_with_help_type_and_exact_values) {
  auto s = healthy_snapshot();
  s.broker_error = "";
  s.reconnects = 2;
  s.samples_in = 1234;
  s.messages.sealed = 40;
  s.messages.published = 45;
  s.messages.acked = 39;
  s.messages.replayed = 5;
  s.messages.publish_errors = 1;
  s.spool_write_errors = 3;
  s.spool_syncs = 14;
  s.ack_latency.observe(500us);
  s.ack_latency.observe(1000us);
  s.ack_latency.observe(30ms);
  s.ack_latency.observe(20s);
  s.backlog_messages = 1;
  s.backlog_bytes = 321;
  s.backlog_oldest_age_ms = 412345;
  s.spool_bytes = 4096;
  s.dropped = 7;
  s.corrupted = 8;
  sources::source_stats sim;
  sim.name = "sim";
  sim.kind = "simulator";
  sim.polls = 10;
  sim.samples = 110;
  sources::source_stats plc;
  plc.name = "plc \"north\"\\1\nx";
  plc.kind = "modbus";
  plc.healthy = false;
  plc.polls = 5;
  plc.errors = 4;
  plc.samples = 2;
  plc.rejected = 1;
  plc.skipped_ticks = 3;
  plc.unreported = 7;
  plc.reconnects = 6;
  s.sources = {sim, plc};
  s.log_suppressed = 9;
  s.http.requests = 11;
  s.http.refused_connections = 12;
  s.http.timed_out_connections = 13;

  const std::string expected =
      "# HELP plant_agent_info Always 1; the labels describe the running agent.\n"
      "# TYPE plant_agent_info gauge\n"
      "plant_agent_info{version=\"0.1.0\",agent=\"gw-1\",site=\"plant-a\",config_hash=\"0123456789abcdef\"} 1\n"
      "# HELP plant_agent_start_time_seconds When the agent started, in Unix seconds.\n"
      "# TYPE plant_agent_start_time_seconds gauge\n"
      "plant_agent_start_time_seconds 1700000000.123\n"
      "# HELP plant_agent_healthy 1 when /healthz answers 200, 0 when it answers 503.\n"
      "# TYPE plant_agent_healthy gauge\n"
      "plant_agent_healthy 0\n"
      "# HELP plant_agent_samples_in_total Samples received from all sources.\n"
      "# TYPE plant_agent_samples_in_total counter\n"
      "plant_agent_samples_in_total 1234\n"
      "# HELP plant_agent_messages_sealed_total Messages sealed with a sequence number.\n"
      "# TYPE plant_agent_messages_sealed_total counter\n"
      "plant_agent_messages_sealed_total 40\n"
      "# HELP plant_agent_messages_published_total Messages handed to the MQTT client, resends included.\n"
      "# TYPE plant_agent_messages_published_total counter\n"
      "plant_agent_messages_published_total 45\n"
      "# HELP plant_agent_messages_acked_total Messages the broker acknowledged.\n"
      "# TYPE plant_agent_messages_acked_total counter\n"
      "plant_agent_messages_acked_total 39\n"
      "# HELP plant_agent_messages_replayed_total Messages sent again from the spool or after a reconnect, "
      "marked replayed.\n"
      "# TYPE plant_agent_messages_replayed_total counter\n"
      "plant_agent_messages_replayed_total 5\n"
      "# HELP plant_agent_publish_errors_total Publishes the MQTT client refused.\n"
      "# TYPE plant_agent_publish_errors_total counter\n"
      "plant_agent_publish_errors_total 1\n"
      "# HELP plant_agent_publish_ack_latency_seconds Time from handing a message to the MQTT client to the "
      "broker's acknowledgement.\n"
      "# TYPE plant_agent_publish_ack_latency_seconds histogram\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.001\"} 2\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.002\"} 2\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.005\"} 2\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.01\"} 2\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.025\"} 2\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.05\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.1\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.25\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"0.5\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"1\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"2.5\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"5\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"10\"} 3\n"
      "plant_agent_publish_ack_latency_seconds_bucket{le=\"+Inf\"} 4\n"
      "plant_agent_publish_ack_latency_seconds_sum 20.0315\n"
      "plant_agent_publish_ack_latency_seconds_count 4\n"
      "# HELP plant_agent_backlog_messages Messages sealed but not yet acknowledged by the broker.\n"
      "# TYPE plant_agent_backlog_messages gauge\n"
      "plant_agent_backlog_messages 1\n"
      "# HELP plant_agent_backlog_bytes Bytes of the unacknowledged messages.\n"
      "# TYPE plant_agent_backlog_bytes gauge\n"
      "plant_agent_backlog_bytes 321\n"
      "# HELP plant_agent_backlog_oldest_age_seconds Age of the oldest unacknowledged message; 0 when there is "
      "none.\n"
      "# TYPE plant_agent_backlog_oldest_age_seconds gauge\n"
      "plant_agent_backlog_oldest_age_seconds 412.345\n"
      "# HELP plant_agent_spool_bytes Disk space used by the spool's segment files.\n"
      "# TYPE plant_agent_spool_bytes gauge\n"
      "plant_agent_spool_bytes 4096\n"
      "# HELP plant_agent_spool_healthy 0 while the spool fails to write or could not be opened; 1 otherwise "
      "(also when spool.enabled = false).\n"
      "# TYPE plant_agent_spool_healthy gauge\n"
      "plant_agent_spool_healthy 1\n"
      "# HELP plant_agent_spool_write_errors_total Spool appends that failed.\n"
      "# TYPE plant_agent_spool_write_errors_total counter\n"
      "plant_agent_spool_write_errors_total 3\n"
      "# HELP plant_agent_spool_syncs_total fdatasync and fsync calls of the spool (segments, ack record, directory): "
      "each one makes the disk flush.\n"
      "# TYPE plant_agent_spool_syncs_total counter\n"
      "plant_agent_spool_syncs_total 14\n"
      "# HELP plant_agent_dropped_messages_total Messages given up on (spool bounds, or a full queue without a "
      "spool).\n"
      "# TYPE plant_agent_dropped_messages_total counter\n"
      "plant_agent_dropped_messages_total 7\n"
      "# HELP plant_agent_corrupted_messages_total Messages lost to a damaged spool.\n"
      "# TYPE plant_agent_corrupted_messages_total counter\n"
      "plant_agent_corrupted_messages_total 8\n"
      "# HELP plant_agent_source_polls_total Polls of the source.\n"
      "# TYPE plant_agent_source_polls_total counter\n"
      "plant_agent_source_polls_total{source=\"sim\",kind=\"simulator\"} 10\n"
      "plant_agent_source_polls_total{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 5\n"
      "# HELP plant_agent_source_errors_total Polls that failed.\n"
      "# TYPE plant_agent_source_errors_total counter\n"
      "plant_agent_source_errors_total{source=\"sim\",kind=\"simulator\"} 0\n"
      "plant_agent_source_errors_total{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 4\n"
      "# HELP plant_agent_source_samples_total Samples the source produced.\n"
      "# TYPE plant_agent_source_samples_total counter\n"
      "plant_agent_source_samples_total{source=\"sim\",kind=\"simulator\"} 110\n"
      "plant_agent_source_samples_total{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 2\n"
      "# HELP plant_agent_source_rejected_total Values the source read but rejected as invalid.\n"
      "# TYPE plant_agent_source_rejected_total counter\n"
      "plant_agent_source_rejected_total{source=\"sim\",kind=\"simulator\"} 0\n"
      "plant_agent_source_rejected_total{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 1\n"
      "# HELP plant_agent_source_skipped_ticks_total Poll ticks skipped because the previous poll was still "
      "running.\n"
      "# TYPE plant_agent_source_skipped_ticks_total counter\n"
      "plant_agent_source_skipped_ticks_total{source=\"sim\",kind=\"simulator\"} 0\n"
      "plant_agent_source_skipped_ticks_total{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 3\n"
      "# HELP plant_agent_source_reconnects_total Reconnects of the source to its device.\n"
      "# TYPE plant_agent_source_reconnects_total counter\n"
      "plant_agent_source_reconnects_total{source=\"sim\",kind=\"simulator\"} 0\n"
      "plant_agent_source_reconnects_total{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 6\n"
      "# HELP plant_agent_source_unreported_total Samples report by exception held back (within the deadband, before "
      "max_interval); the shortage detector saw them.\n"
      "# TYPE plant_agent_source_unreported_total counter\n"
      "plant_agent_source_unreported_total{source=\"sim\",kind=\"simulator\"} 0\n"
      "plant_agent_source_unreported_total{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 7\n"
      "# HELP plant_agent_source_healthy 1 while the source's last poll succeeded, 0 while it fails.\n"
      "# TYPE plant_agent_source_healthy gauge\n"
      "plant_agent_source_healthy{source=\"sim\",kind=\"simulator\"} 1\n"
      "plant_agent_source_healthy{source=\"plc \\\"north\\\"\\\\1\\nx\",kind=\"modbus\"} 0\n"
      "# HELP plant_agent_broker_connected 1 while connected to the MQTT broker.\n"
      "# TYPE plant_agent_broker_connected gauge\n"
      "plant_agent_broker_connected 1\n"
      "# HELP plant_agent_broker_reconnects_total Reconnects to the broker after the first connect.\n"
      "# TYPE plant_agent_broker_reconnects_total counter\n"
      "plant_agent_broker_reconnects_total 2\n"
      "# HELP plant_agent_broker_protocol_level MQTT protocol level of the current (or last) connection: 4 = 3.1.1, 5 = MQTT 5.\n"
      "# TYPE plant_agent_broker_protocol_level gauge\n"
      "plant_agent_broker_protocol_level 4\n"
      "# HELP plant_agent_broker_refusals_total Publishes the broker refused with an MQTT 5 reason code (held and resent, or dropped when final).\n"
      "# TYPE plant_agent_broker_refusals_total counter\n"
      "plant_agent_broker_refusals_total 0\n"
      "# HELP plant_agent_log_lines_suppressed_total Repeated log lines suppressed by rate limiting.\n"
      "# TYPE plant_agent_log_lines_suppressed_total counter\n"
      "plant_agent_log_lines_suppressed_total 9\n"
      "# HELP plant_agent_http_requests_total Requests answered by this endpoint.\n"
      "# TYPE plant_agent_http_requests_total counter\n"
      "plant_agent_http_requests_total 11\n"
      "# HELP plant_agent_http_refused_connections_total Connections to this endpoint closed at once because too "
      "many were open.\n"
      "# TYPE plant_agent_http_refused_connections_total counter\n"
      "plant_agent_http_refused_connections_total 12\n"
      "# HELP plant_agent_http_timed_out_connections_total Connections to this endpoint closed at their "
      "deadline.\n"
      "# TYPE plant_agent_http_timed_out_connections_total counter\n"
      "plant_agent_http_timed_out_connections_total 13\n";
  EXPECT_EQ(render_metrics(s), expected);
}

TEST(metrics_text, no_sources_means_no_source_families_and_an_empty_backlog_has_age_zero) {
  auto s = healthy_snapshot();
  auto text = render_metrics(s);
  EXPECT_EQ(text.find("plant_agent_source_"), std::string::npos);
  EXPECT_NE(text.find("\nplant_agent_backlog_oldest_age_seconds 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nplant_agent_healthy 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nplant_agent_publish_ack_latency_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("\nplant_agent_publish_ack_latency_seconds_sum 0\n"), std::string::npos);
}

TEST(metrics_text, a_disabled_spool_reports_healthy_and_a_failing_one_unhealthy) {
  auto s = healthy_snapshot();
  s.spool_enabled = false;
  s.spool_healthy = false;
  EXPECT_NE(render_metrics(s).find("\nplant_agent_spool_healthy 1\n"), std::string::npos);
  s.spool_enabled = true;
  auto text = render_metrics(s);
  EXPECT_NE(text.find("\nplant_agent_spool_healthy 0\n"), std::string::npos);
  EXPECT_NE(text.find("\nplant_agent_healthy 0\n"), std::string::npos);
}

}  // namespace
}  // namespace plant::app
