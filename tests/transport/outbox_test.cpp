// The outbox's delivery rules, with a fake publisher and a real spool on disk.
#include "agent/transport/outbox.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <set>

#include "agent/spool/spool.hpp"
#include "plant/v1/plant.pb.h"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::transport {
namespace {

using namespace std::chrono_literals;

struct published {
  std::string topic;
  std::uint64_t seq;
  bool replayed;
  bool retain;
};

class fake_publisher final : public message_publisher {
 public:
  bool connected() const override { return connected_; }
  bool publish(const std::string& topic, std::string payload, int, bool retain, std::uint64_t tag) override {
    if (!connected_) return false;
    v1::Envelope envelope;
    EXPECT_TRUE(envelope.ParseFromString(payload));
    EXPECT_EQ(envelope.seq(), tag);
    log.push_back({topic, tag, envelope.replayed(), retain});
    unacked.push_back(tag);
    return true;
  }
  bool connected_ = false;
  std::vector<published> log;
  std::vector<std::uint64_t> unacked;
};

std::string envelope_bytes(std::uint64_t seq) {
  v1::Envelope envelope;
  envelope.set_agent("a");
  envelope.set_site("s");
  envelope.set_seq(seq);
  envelope.mutable_telemetry()->set_base_time(1000);
  return envelope.SerializeAsString();
}

class outbox_test : public ::testing::Test {
 protected:
  std::unique_ptr<spool::spool> open_spool() {
    spool::options options;
    options.dir = dir.file("spool");
    options.sync = config::sync_mode::batch;
    options.max_bytes = 64ull << 20;
    options.max_age_ms = 3600000;
    options.segment_bytes = 1 << 20;
    auto s = std::make_unique<spool::spool>(options);
    report = s->recover(1000);
    return s;
  }
  std::unique_ptr<outbox> make_outbox(spool::spool* s, outbox_options options = {}) {
    auto box = std::make_unique<outbox>(io, options, s, publisher, encoding::make_topics("p", "s", "a"));
    if (s) box->resume_after_recovery(report);
    return box;
  }
  void submit(outbox& box, int count) {
    for (int i = 0; i < count; ++i) box.submit(encoding::stream::telemetry, envelope_bytes(box.next_seq()), 1000);
  }
  void ack_all(outbox& box) {
    auto pending = std::move(publisher.unacked);
    publisher.unacked.clear();
    for (auto seq : pending) box.on_delivered(seq);
  }

  plant::test::temp_dir dir{"outbox"};
  boost::asio::io_context io;
  fake_publisher publisher;
  spool::recovery_report report;
};

TEST_F(outbox_test, sequence_numbers_start_at_one_and_continue_after_a_restart) {
  {
    auto s = open_spool();
    auto box = make_outbox(s.get());
    EXPECT_EQ(box->next_seq(), 1u);
    submit(*box, 5);
    EXPECT_EQ(box->next_seq(), 6u);
    box->flush_spool();
  }
  auto s = open_spool();
  auto box = make_outbox(s.get());
  EXPECT_EQ(box->next_seq(), 6u) << "sequence numbers are never reused";
}

TEST_F(outbox_test, the_window_bounds_messages_in_flight) {
  auto s = open_spool();
  outbox_options options;
  options.window = 4;
  auto box = make_outbox(s.get(), options);
  publisher.connected_ = true;
  box->on_connected();
  submit(*box, 10);
  EXPECT_EQ(publisher.log.size(), 4u);
  EXPECT_EQ(box->in_flight(), 4u);
  ack_all(*box);
  EXPECT_EQ(publisher.log.size(), 8u);
  ack_all(*box);
  ack_all(*box);
  EXPECT_EQ(publisher.log.size(), 10u);
  EXPECT_TRUE(box->live_drained());
  for (std::size_t i = 0; i < publisher.log.size(); ++i) {
    EXPECT_EQ(publisher.log[i].seq, i + 1);
    EXPECT_FALSE(publisher.log[i].replayed);
    EXPECT_EQ(publisher.log[i].topic, "p/s/a/telemetry");
    EXPECT_FALSE(publisher.log[i].retain);
  }
}

TEST_F(outbox_test, a_dropped_connection_resends_everything_unacknowledged_marked_replayed) {
  auto s = open_spool();
  outbox_options options;
  options.window = 8;
  auto box = make_outbox(s.get(), options);
  publisher.connected_ = true;
  box->on_connected();
  submit(*box, 6);
  ASSERT_EQ(publisher.log.size(), 6u);
  box->on_delivered(1);
  box->on_delivered(3);  // out of order
  publisher.connected_ = false;
  box->on_connection_lost();
  publisher.log.clear();
  publisher.unacked.clear();
  publisher.connected_ = true;
  box->on_connected();
  std::vector<std::uint64_t> resent;
  for (const auto& p : publisher.log) {
    resent.push_back(p.seq);
    EXPECT_TRUE(p.replayed) << p.seq;
  }
  EXPECT_EQ(resent, (std::vector<std::uint64_t>{2, 4, 5, 6}));
}

TEST_F(outbox_test, messages_sealed_during_an_outage_are_backlog_and_live_ones_go_first_after_it) {
  auto s = open_spool();
  outbox_options options;
  options.window = 4;
  options.backfill_share = 0.5;
  auto box = make_outbox(s.get(), options);
  submit(*box, 10);  // broker away: all of it is backlog
  EXPECT_TRUE(publisher.log.empty());
  publisher.connected_ = true;
  box->on_connected();
  // The backlog may use only its share of the window...
  EXPECT_EQ(publisher.log.size(), 2u);
  // ...so live messages go straight out beside it.
  submit(*box, 2);
  ASSERT_EQ(publisher.log.size(), 4u);
  EXPECT_TRUE(publisher.log[0].replayed);
  EXPECT_TRUE(publisher.log[1].replayed);
  EXPECT_EQ(publisher.log[2].seq, 11u);
  EXPECT_FALSE(publisher.log[2].replayed);
  EXPECT_EQ(publisher.log[3].seq, 12u);
  for (int round = 0; round < 10 && !publisher.unacked.empty(); ++round) ack_all(*box);
  std::map<std::uint64_t, int> sent;
  for (const auto& p : publisher.log) ++sent[p.seq];
  EXPECT_EQ(sent.size(), 12u);
  for (const auto& [seq, times] : sent) EXPECT_EQ(times, 1) << seq;
  EXPECT_EQ(box->backlog_messages(), 0u);
}

TEST_F(outbox_test, without_a_spool_a_full_queue_drops_the_oldest_and_reports_exact_ranges) {
  outbox_options options;
  options.queue_max_messages = 3;
  auto box = make_outbox(nullptr, options);
  submit(*box, 7);  // disconnected: only the newest three fit
  ASSERT_EQ(box->dropped().ranges().size(), 1u);
  EXPECT_EQ(box->dropped().ranges()[0].first, 1u);
  EXPECT_EQ(box->dropped().ranges()[0].last, 4u);
  publisher.connected_ = true;
  box->on_connected();
  ASSERT_EQ(publisher.log.size(), 3u);
  EXPECT_EQ(publisher.log[0].seq, 5u);
  EXPECT_TRUE(publisher.log[0].replayed) << "sealed while the broker was away";
}

TEST_F(outbox_test, sync_always_publishes_nothing_before_its_fdatasync) {
  auto s = open_spool();
  outbox_options options;
  options.sync = config::sync_mode::always;
  auto box = make_outbox(s.get(), options);
  publisher.connected_ = true;
  box->on_connected();
  submit(*box, 3);
  EXPECT_TRUE(publisher.log.empty()) << "published before it was durable";
  // The sync thread completes and posts back into the loop.
  ASSERT_TRUE(plant::test::wait_until(
      [&] {
        io.poll();
        io.restart();
        return publisher.log.size() == 3;
      },
      5s));
  EXPECT_GE(s->durable_seq(), 3u);
}

TEST_F(outbox_test, the_bound_drops_whole_segments_and_reports_only_what_is_not_still_in_memory) {
  spool::options options;
  options.dir = dir.file("tiny");
  options.sync = config::sync_mode::batch;
  options.max_bytes = 16 * 1024;
  options.max_age_ms = 3600000;
  options.segment_bytes = 4 * 1024;
  spool::spool tiny(options);
  report = tiny.recover(1000);
  outbox_options box_options;
  box_options.queue_max_messages = 2;
  auto box = make_outbox(&tiny, box_options);
  for (int i = 0; i < 200; ++i) {
    box->submit(encoding::stream::telemetry, envelope_bytes(box->next_seq()) + std::string(300, 'x'), 1000);
  }
  EXPECT_LE(tiny.disk_bytes(), options.max_bytes + options.segment_bytes);
  ASSERT_GT(box->dropped().count(), 0u);
  EXPECT_EQ(box->dropped().ranges().front().first, 1u) << "the oldest go first";
  // Everything not dropped is delivered once the broker is back.
  publisher.connected_ = true;
  box->on_connected();
  for (int round = 0; round < 500 && !publisher.unacked.empty(); ++round) ack_all(*box);
  std::set<std::uint64_t> delivered;
  for (const auto& p : publisher.log) delivered.insert(p.seq);
  EXPECT_EQ(delivered.size() + box->dropped().count(), 200u);
  for (auto seq : delivered) EXPECT_FALSE(box->dropped().contains(seq)) << seq;
}

}  // namespace
}  // namespace plant::transport
