#include "watch/audit/sequence_audit.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>


namespace plant::watch {
namespace {


constexpr std::int64_t t0 = 1700000000000;

plant::v1::Envelope telemetry(std::uint64_t seq, int lines, int stocks, bool replayed = false) {
  plant::v1::Envelope e;
  e.set_agent("gw-1");
  e.set_site("site-a");
  e.set_seq(seq);
  e.set_replayed(replayed);
  e.set_created_at(t0 + static_cast<std::int64_t>(seq) * 1000);
  auto* t = e.mutable_telemetry();
  for (int i = 0; i < lines; ++i) t->add_lines()->set_line("L" + std::to_string(i));
  for (int i = 0; i < stocks; ++i) t->add_stocks()->set_material("m" + std::to_string(i));
  return e;
}

plant::v1::Envelope status(std::vector<std::pair<std::uint64_t, std::uint64_t>> dropped,
                           std::vector<std::pair<std::uint64_t, std::uint64_t>> corrupted) {
  plant::v1::Envelope e;
  e.set_agent("gw-1");
  e.set_site("site-a");
  auto* s = e.mutable_status();
  for (auto [first, last] : dropped) {
    auto* r = s->add_dropped_ranges();
    r->set_first(first);
    r->set_last(last);
  }
  for (auto [first, last] : corrupted) {
    auto* r = s->add_corrupted_ranges();
    r->set_first(first);
    r->set_last(last);
  }
  return e;
}

// Delivered `latency_ms` after the envelope was sealed.
void deliver(sequence_audit& audit, const plant::v1::Envelope& e, std::int64_t latency_ms = 2, bool retained = false) {
  audit.record(e.site(), e.agent(), e, retained, (e.created_at() + latency_ms) * 1000);
}

TEST(watch_sequence_audit, in_order_stream) {
  sequence_audit audit;
  for (std::uint64_t seq = 1; seq <= 5; ++seq) deliver(audit, telemetry(seq, 2, 1), static_cast<std::int64_t>(seq));
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            R"({"audit":{"agent":"gw-1","site":"site-a","received":5,"unique":5,"duplicates":0,"gaps":0,"missing":[],)"
            R"("replayed":0,"samples":15,"bytes":0,"reported_dropped":0,"reported_corrupted":0,"first_seq":1,"last_seq":5,)"
            R"("live_latency_ms":{"count":5,"p50":3,"p99":5,"max":5}}})");
}

TEST(watch_sequence_audit, duplicates_and_gaps_with_exact_missing_ranges) {
  sequence_audit audit;
  for (std::uint64_t seq : {3, 1, 2, 2, 5, 6, 9, 6, 12}) deliver(audit, telemetry(seq, 1, 0));
  const agent_audit* a = audit.find("site-a", "gw-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->received, 9u);
  EXPECT_EQ(a->duplicates, 2u);
  EXPECT_EQ(a->samples, 7u);  // duplicates carry no new samples
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            R"({"audit":{"agent":"gw-1","site":"site-a","received":9,"unique":7,"duplicates":2,"gaps":5,)"
            R"("missing":[[4,4],[7,8],[10,11]],"replayed":0,"samples":7,"bytes":0,"reported_dropped":0,"reported_corrupted":0,)"
            R"("first_seq":1,"last_seq":12,"live_latency_ms":{"count":9,"p50":2,"p99":2,"max":2}}})");
}

TEST(watch_sequence_audit, retained_deliveries_are_not_the_stream) {
  sequence_audit audit;
  plant::v1::Envelope alert;
  alert.set_agent("gw-1");
  alert.set_site("site-a");
  alert.set_seq(100);
  alert.set_created_at(t0);
  alert.mutable_alert()->mutable_material()->set_material("steel");
  deliver(audit, alert, 3600000, /*retained=*/true);
  deliver(audit, telemetry(101, 1, 0));
  deliver(audit, telemetry(102, 1, 0));
  const agent_audit* a = audit.find("site-a", "gw-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->received, 2u);
  EXPECT_EQ(*a->seqs.lowest(), 101u);
  EXPECT_EQ(*a->seqs.highest(), 102u);
  EXPECT_EQ(a->seqs.hole_count(), 0u);
  EXPECT_EQ(a->live_latency.count(), 2u);
  EXPECT_EQ(a->live_latency.max_ms(), 2.0);  // the hour-old retained alert is not a latency
}

TEST(watch_sequence_audit, reported_ranges_are_a_union_across_status_messages) {
  sequence_audit audit;
  deliver(audit, status({{10, 12}, {20, 21}}, {{30, 30}}), 0, /*retained=*/true);
  deliver(audit, status({{10, 12}, {20, 21}}, {{30, 30}}));  // the same report again (heartbeat)
  deliver(audit, status({{11, 15}}, {{30, 31}}));             // after a restart: overlapping ranges
  const agent_audit* a = audit.find("site-a", "gw-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->reported_dropped.count(), 8u);  // 10..15 and 20..21
  EXPECT_EQ(a->reported_corrupted.count(), 2u);
  EXPECT_EQ(a->received, 0u);  // status messages are not sequenced
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            R"({"audit":{"agent":"gw-1","site":"site-a","received":0,"unique":0,"duplicates":0,"gaps":0,"missing":[],)"
            R"("replayed":0,"samples":0,"bytes":0,"reported_dropped":8,"reported_corrupted":2,"first_seq":0,"last_seq":0,)"
            R"("live_latency_ms":{"count":0,"p50":0,"p99":0,"max":0}}})");
}

TEST(watch_sequence_audit, a_reported_drop_of_the_oldest_data_counts_as_gaps_before_the_first_seq_seen) {
  sequence_audit audit;
  // The agent dropped 1..40 (spool bound) before anything was delivered.
  deliver(audit, status({{1, 40}}, {}));
  for (std::uint64_t seq = 41; seq <= 50; ++seq) deliver(audit, telemetry(seq, 1, 0));
  // And the last two were lost to a damaged spool tail.
  deliver(audit, status({{1, 40}}, {{51, 52}}));
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("gaps":42,"missing":[[1,40],[51,52]])"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("reported_dropped":40,"reported_corrupted":2)"), std::string::npos) << lines[0];
}

TEST(watch_sequence_audit, reported_history_that_does_not_touch_the_window_is_not_a_gap) {
  sequence_audit audit;
  // A late subscriber: the retained status reports a drop long before it connected.
  deliver(audit, status({{100, 120}}, {}), 0, /*retained=*/true);
  for (std::uint64_t seq = 5000; seq <= 5009; ++seq) deliver(audit, telemetry(seq, 1, 0));
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("gaps":0,"missing":[])"), std::string::npos) << lines[0];
}

TEST(watch_sequence_audit, bytes_count_each_message_once) {
  sequence_audit audit;
  auto e = telemetry(1, 1, 1);
  audit.record(e.site(), e.agent(), e, false, (e.created_at() + 1) * 1000, 120);
  audit.record(e.site(), e.agent(), e, false, (e.created_at() + 2) * 1000, 120);  // a duplicate
  auto f = telemetry(2, 1, 1);
  audit.record(f.site(), f.agent(), f, false, (f.created_at() + 1) * 1000, 80);
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("samples":4,"bytes":200,)"), std::string::npos) << lines[0];
}

TEST(watch_sequence_audit, replays_count_but_are_not_live_latency) {
  sequence_audit audit;
  deliver(audit, telemetry(1, 1, 0), 5);
  deliver(audit, telemetry(2, 1, 0, /*replayed=*/true), 60000);
  deliver(audit, telemetry(2, 1, 0, /*replayed=*/true), 61000);  // replayed twice: a duplicate
  const agent_audit* a = audit.find("site-a", "gw-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->replayed, 2u);
  EXPECT_EQ(a->duplicates, 1u);
  EXPECT_EQ(a->live_latency.count(), 1u);
  EXPECT_EQ(a->live_latency.max_ms(), 5.0);
}

TEST(watch_sequence_audit, agents_are_separate_and_sorted) {
  sequence_audit audit;
  plant::v1::Envelope b = telemetry(1, 0, 1);
  b.set_site("site-b");
  deliver(audit, b);
  plant::v1::Envelope a2 = telemetry(7, 0, 1);
  a2.set_agent("gw-2");
  deliver(audit, a2);
  deliver(audit, telemetry(1, 0, 1));
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind(R"({"audit":{"agent":"gw-1","site":"site-a","received":1,)", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind(R"({"audit":{"agent":"gw-2","site":"site-a","received":1,)", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind(R"({"audit":{"agent":"gw-1","site":"site-b","received":1,)", 0), 0u) << lines[2];
}

TEST(watch_sequence_audit, missing_list_is_capped) {
  sequence_audit audit;
  for (std::uint64_t seq = 1; seq <= 9; seq += 2) deliver(audit, telemetry(seq, 0, 0));  // holes 2, 4, 6, 8
  const auto lines = audit.report_lines(2);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("gaps":4,"missing":[[2,2],[4,4]],)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("max":2},"missing_truncated":true}})"), std::string::npos) << lines[0];
}

TEST(watch_sequence_audit, a_million_in_order_seqs_stay_one_range) {
  sequence_audit audit;
  plant::v1::Envelope e = telemetry(1, 0, 0);
  for (std::uint64_t seq = 1; seq <= 1000000; ++seq) {
    e.set_seq(seq);
    audit.record("site-a", "gw-1", e, false, (e.created_at() + 1) * 1000);
  }
  const agent_audit* a = audit.find("site-a", "gw-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->seqs.count(), 1000000u);
  EXPECT_EQ(a->seqs.size(), 1u);
}

}  // namespace
}  // namespace plant::watch
