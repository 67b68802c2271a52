#include "common/wire/envelope_json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "common/wire/envelope_decode.hpp"

namespace plant::wire {
namespace {

constexpr std::int64_t t0 = 1700000000000;  // 2023-11-14T22:13:20.000Z

// Every test goes through the wire: build, serialize, decode, print.
plant::v1::Envelope round_trip(const plant::v1::Envelope& built, const std::string& extra_bytes = {}) {
  plant::v1::Envelope decoded;
  std::string reason;
  EXPECT_TRUE(decode_envelope(built.SerializeAsString() + extra_bytes, decoded, reason)) << reason;
  return decoded;
}

plant::v1::Envelope header(std::uint64_t seq) {
  plant::v1::Envelope e;
  e.set_agent("gw-1");
  e.set_site("site-a");
  e.set_seq(seq);
  e.set_created_at(t0 + 123);
  return e;
}

plant::v1::MaterialStatus steel_status() {
  plant::v1::MaterialStatus m;
  m.set_material("steel");
  m.set_status(plant::v1::STOCK_STATUS_CRITICAL);
  m.set_quantity(40.5);
  m.set_unit("kg");
  m.set_rate(12.25);
  m.set_projected_stockout(t0 + 3600000);
  m.set_at(t0 - 1000);
  m.add_lines("L1");
  m.add_lines("L2");
  m.add_starved_lines("L2");
  m.set_reorder_point(100);
  m.set_safety_stock(25);
  m.set_lead_time_ms(7200000);
  return m;
}

TEST(watch_envelope_json, telemetry) {
  plant::v1::Envelope e = header(42);
  auto* t = e.mutable_telemetry();
  t->set_base_time(t0);
  t->add_sources("sim");
  t->add_sources("csv");
  auto* line = t->add_lines();
  line->set_line("L1");
  line->set_state(plant::v1::LINE_STATE_RUNNING);
  line->set_good_count(1234);
  line->set_reject_count(5);
  line->set_source_time(-1000);
  line->set_receive_time(-500);
  line->set_quality(plant::v1::QUALITY_GOOD);
  line->set_source(0);
  line->set_good_rate(57.5);
  auto* starved = t->add_lines();
  starved->set_line("L2");
  starved->set_state(plant::v1::LINE_STATE_STARVED);
  starved->set_source(0);
  auto* steel = t->add_stocks();
  steel->set_material("steel");
  steel->set_quantity(12.25);
  steel->set_unit("kg");
  steel->set_location("rack \"A\"");
  steel->set_source_time(-2000);
  steel->set_quality(plant::v1::QUALITY_STALE);
  steel->set_source(1);
  auto* glue = t->add_stocks();
  glue->set_material("glue");
  glue->set_unit("l");
  glue->set_quality(plant::v1::QUALITY_BAD);
  glue->set_source(7);  // past the sources table

  EXPECT_EQ(envelope_json("plant/v1/site-a/gw-1/telemetry", false, round_trip(e)),
            R"({"topic":"plant/v1/site-a/gw-1/telemetry","agent":"gw-1","site":"site-a","seq":42,"kind":"telemetry",)"
            R"("replayed":false,"retained":false,"created_at":"2023-11-14T22:13:20.123Z",)"
            R"("lines":[{"line":"L1","state":"running","good_count":1234,"reject_count":5,"good_rate":57.5,)"
            R"("source":"sim","source_time":"2023-11-14T22:13:19.000Z","receive_time":"2023-11-14T22:13:19.500Z",)"
            R"("quality":"good"},)"
            R"({"line":"L2","state":"starved","good_count":0,"reject_count":0,"good_rate":0,"source":"sim",)"
            R"("source_time":"2023-11-14T22:13:20.000Z","receive_time":"2023-11-14T22:13:20.000Z","quality":"good"}],)"
            R"("stocks":[{"material":"steel","quantity":12.25,"unit":"kg","location":"rack \"A\"","source":"csv",)"
            R"("source_time":"2023-11-14T22:13:18.000Z","receive_time":"2023-11-14T22:13:20.000Z","quality":"stale"},)"
            R"({"material":"glue","quantity":0,"unit":"l","location":"","source":null,)"
            R"("source_time":"2023-11-14T22:13:20.000Z","receive_time":"2023-11-14T22:13:20.000Z","quality":"bad"}]})");
}

TEST(watch_envelope_json, status) {
  plant::v1::Envelope e = header(0);
  auto* s = e.mutable_status();
  s->set_state(plant::v1::AgentStatus::STATE_ONLINE);
  s->set_reason(plant::v1::AgentStatus::REASON_HEARTBEAT);
  s->set_version("0.1.0");
  s->set_config_hash("0123456789abcdef");
  s->set_started_at(t0 - 60000);
  s->set_time(t0);
  s->set_last_seq(4711);
  auto* c = s->mutable_counters();
  c->set_samples_in(std::numeric_limits<std::uint64_t>::max());
  c->set_messages_sealed(4711);
  c->set_messages_published(4800);
  c->set_messages_acked(4700);
  c->set_messages_replayed(89);
  c->set_reconnects(2);
  c->set_publish_errors(3);
  c->set_spool_write_errors(4);
  c->set_log_suppressed(5);
  c->set_samples_dropped(6);
  auto* b = s->mutable_backlog();
  b->set_messages(11);
  b->set_bytes(2048);
  b->set_oldest_age_ms(1500);
  b->set_spool_bytes(1 << 20);
  b->set_spool_healthy(true);
  auto* src = s->add_sources();
  src->set_name("press-plc");
  src->set_kind("modbus");
  src->set_healthy(false);
  src->set_polls(100);
  src->set_errors(7);
  src->set_samples(300);
  src->set_rejected(1);
  src->set_skipped_ticks(2);
  src->set_last_error("timeout after 500 ms");
  src->set_reconnects(3);
  s->set_dropped(5);
  auto* r1 = s->add_dropped_ranges();
  r1->set_first(10);
  r1->set_last(12);
  auto* r2 = s->add_dropped_ranges();
  r2->set_first(20);
  r2->set_last(21);
  s->set_corrupted(1);
  auto* r3 = s->add_corrupted_ranges();
  r3->set_first(30);
  r3->set_last(30);
  s->set_last_error("spool: disk full");
  *s->add_materials() = steel_status();

  EXPECT_EQ(envelope_json("plant/v1/site-a/gw-1/status", true, round_trip(e)),
            R"({"topic":"plant/v1/site-a/gw-1/status","agent":"gw-1","site":"site-a","seq":0,"kind":"status",)"
            R"("replayed":false,"retained":true,"created_at":"2023-11-14T22:13:20.123Z",)"
            R"("state":"online","reason":"heartbeat","version":"0.1.0","config_hash":"0123456789abcdef",)"
            R"("started_at":"2023-11-14T22:12:20.000Z","time":"2023-11-14T22:13:20.000Z","last_seq":4711,)"
            R"("counters":{"samples_in":18446744073709551615,"messages_sealed":4711,"messages_published":4800,)"
            R"("messages_acked":4700,"messages_replayed":89,"reconnects":2,"publish_errors":3,"spool_write_errors":4,)"
            R"("log_suppressed":5,"samples_dropped":6},)"
            R"("backlog":{"messages":11,"bytes":2048,"oldest_age_ms":1500,"spool_bytes":1048576,"spool_healthy":true},)"
            R"("sources":[{"name":"press-plc","kind":"modbus","healthy":false,"polls":100,"errors":7,"samples":300,)"
            R"("rejected":1,"skipped_ticks":2,"last_error":"timeout after 500 ms","reconnects":3}],)"
            R"("dropped":5,"dropped_ranges":[[10,12],[20,21]],"corrupted":1,"corrupted_ranges":[[30,30]],)"
            R"("last_error":"spool: disk full",)"
            R"("materials":[{"material":"steel","status":"critical","quantity":40.5,"unit":"kg","rate":12.25,)"
            R"("projected_stockout":"2023-11-14T23:13:20.000Z","at":"2023-11-14T22:13:19.000Z","lines":["L1","L2"],)"
            R"("starved_lines":["L2"],"reorder_point":100,"safety_stock":25,"lead_time_ms":7200000,"incoming":0,"next_receipt":null,"late_receipts":{"count":0,"quantity":0},"covered_until":null,"reason":null}]})");
}

TEST(watch_envelope_json, offline_last_will) {
  plant::v1::Envelope e = header(0);
  e.mutable_status()->set_state(plant::v1::AgentStatus::STATE_OFFLINE);
  e.mutable_status()->set_reason(plant::v1::AgentStatus::REASON_CONNECTION_LOST);
  const std::string json = envelope_json("plant/v1/site-a/gw-1/status", false, round_trip(e));
  EXPECT_NE(json.find(R"("kind":"status","replayed":false,"retained":false,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("state":"offline","reason":"connection_lost",)"), std::string::npos) << json;
}

TEST(watch_envelope_json, alert) {
  plant::v1::Envelope e = header(43);
  auto* a = e.mutable_alert();
  *a->mutable_material() = steel_status();
  a->set_previous_status(plant::v1::STOCK_STATUS_LOW);
  EXPECT_EQ(envelope_json("plant/v1/site-a/gw-1/alerts", true, round_trip(e)),
            R"({"topic":"plant/v1/site-a/gw-1/alerts","agent":"gw-1","site":"site-a","seq":43,"kind":"alert",)"
            R"("replayed":false,"retained":true,"created_at":"2023-11-14T22:13:20.123Z",)"
            R"("material":"steel","status":"critical","previous_status":"low","cleared":false,"quantity":40.5,)"
            R"("unit":"kg","rate":12.25,"projected_stockout":"2023-11-14T23:13:20.000Z","at":"2023-11-14T22:13:19.000Z",)"
            R"("lines":["L1","L2"],"starved_lines":["L2"],"reorder_point":100,"safety_stock":25,"lead_time_ms":7200000,"incoming":0,"next_receipt":null,"late_receipts":{"count":0,"quantity":0},"covered_until":null,"reason":null})");
}

TEST(watch_envelope_json, an_alert_names_what_is_on_order_and_why_it_is_short) {
  plant::v1::Envelope e = header(45);
  auto* a = e.mutable_alert();
  *a->mutable_material() = steel_status();
  auto* m = a->mutable_material();
  m->set_incoming(500);
  m->set_next_receipt(t0 + 7200000);
  m->set_late_receipts(2);
  m->set_late_quantity(300.5);
  m->set_covered_until(t0 + 1800000);
  m->set_reason(plant::v1::SHORTAGE_REASON_LATE_RECEIPT);
  const std::string json = envelope_json("plant/v1/site-a/gw-1/alerts", false, round_trip(e));
  EXPECT_NE(json.find(R"("incoming":500,"next_receipt":"2023-11-15T00:13:20.000Z","late_receipts":{"count":2,)"
                      R"("quantity":300.5},"covered_until":"2023-11-14T22:43:20.000Z","reason":"late_receipt"})"),
            std::string::npos)
      << json;
}

TEST(watch_envelope_json, cleared_alert_without_projection_has_null_stockout) {
  plant::v1::Envelope e = header(44);
  auto* a = e.mutable_alert();
  a->mutable_material()->set_material("glue");
  a->mutable_material()->set_status(plant::v1::STOCK_STATUS_OK);
  a->mutable_material()->set_at(t0);
  a->set_previous_status(plant::v1::STOCK_STATUS_OUT);
  a->set_cleared(true);
  EXPECT_EQ(envelope_json("plant/v1/site-a/gw-1/alerts", false, round_trip(e)),
            R"({"topic":"plant/v1/site-a/gw-1/alerts","agent":"gw-1","site":"site-a","seq":44,"kind":"alert",)"
            R"("replayed":false,"retained":false,"created_at":"2023-11-14T22:13:20.123Z",)"
            R"("material":"glue","status":"ok","previous_status":"out","cleared":true,"quantity":0,"unit":"",)"
            R"("rate":0,"projected_stockout":null,"at":"2023-11-14T22:13:20.000Z","lines":[],"starved_lines":[],)"
            R"("reorder_point":0,"safety_stock":0,"lead_time_ms":0,"incoming":0,"next_receipt":null,"late_receipts":{"count":0,"quantity":0},"covered_until":null,"reason":null})");
}

TEST(watch_envelope_json, replayed_bit_appended_as_bytes) {
  plant::v1::Envelope e = header(7);
  e.mutable_telemetry()->set_base_time(t0);
  const plant::v1::Envelope live = round_trip(e);
  EXPECT_FALSE(live.replayed());
  // The agent resends a stored envelope with field 4 (varint) = 1 appended.
  const plant::v1::Envelope replayed = round_trip(e, std::string("\x20\x01", 2));
  EXPECT_TRUE(replayed.replayed());
  EXPECT_EQ(replayed.seq(), 7u);
  EXPECT_EQ(envelope_json("plant/v1/site-a/gw-1/telemetry", false, replayed),
            R"({"topic":"plant/v1/site-a/gw-1/telemetry","agent":"gw-1","site":"site-a","seq":7,"kind":"telemetry",)"
            R"("replayed":true,"retained":false,"created_at":"2023-11-14T22:13:20.123Z","lines":[],"stocks":[]})");
}

TEST(watch_envelope_json, origin_falls_back_to_the_topic) {
  plant::v1::Envelope e;
  e.mutable_status()->set_state(plant::v1::AgentStatus::STATE_ONLINE);
  const std::string json = envelope_json("acme/plant/v1/site-b/gw-9/status", false, round_trip(e));
  EXPECT_EQ(json.rfind(R"({"topic":"acme/plant/v1/site-b/gw-9/status","agent":"gw-9","site":"site-b","seq":0,)", 0), 0u)
      << json;
}

TEST(watch_envelope_decode, rejects_what_is_not_an_envelope) {
  plant::v1::Envelope out;
  std::string reason;
  EXPECT_FALSE(decode_envelope("\xff\xff\xff", out, reason));
  EXPECT_EQ(reason, "not a plant.v1.Envelope");
  EXPECT_FALSE(decode_envelope("hello", out, reason));  // 'l' is an end-group tag out of place
  EXPECT_EQ(reason, "not a plant.v1.Envelope");
  EXPECT_FALSE(decode_envelope("\x98\x06\x01", out, reason));  // field 99 = 1: valid protobuf, but no body
  EXPECT_EQ(reason, "an Envelope without telemetry, status or alert");
  plant::v1::Envelope no_body = header(1);
  EXPECT_FALSE(decode_envelope(no_body.SerializeAsString(), out, reason));
  EXPECT_EQ(reason, "an Envelope without telemetry, status or alert");
}

TEST(watch_envelope_decode, splits_topics) {
  const topic_parts p = split_topic("plant/v1/site-a/gw-1/telemetry");
  EXPECT_EQ(p.site, "site-a");
  EXPECT_EQ(p.agent, "gw-1");
  EXPECT_EQ(p.kind, "telemetry");
  const topic_parts short_topic = split_topic("gw-1/status");
  EXPECT_EQ(short_topic.site, "");
  EXPECT_EQ(short_topic.agent, "");
  EXPECT_EQ(short_topic.kind, "status");
}

}  // namespace
}  // namespace plant::wire
