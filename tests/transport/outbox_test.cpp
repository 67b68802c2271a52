// The outbox's delivery rules, with the capture publisher and real stores: a
// spool on disk and the memory store.
#include "agent/transport/outbox.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <map>
#include <set>

#include "agent/app/derived_settings.hpp"
#include "common/spool/spool.hpp"
#include "agent/store/memory_store.hpp"
#include "agent/store/spool_store.hpp"
#include "plant/v1/plant.pb.h"
#include "tests/support/capture_publisher.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::transport {
namespace {

using namespace std::chrono_literals;

std::string envelope_bytes(std::uint64_t seq, std::size_t padding = 0) {
  v1::Envelope envelope;
  envelope.set_agent("a");
  envelope.set_site("s");
  envelope.set_seq(seq);
  envelope.mutable_telemetry()->set_base_time(1000);
  if (padding > 0) envelope.mutable_telemetry()->add_sources(std::string(padding, 'x'));
  return envelope.SerializeAsString();
}

struct decoded {
  std::uint64_t seq = 0;
  bool replayed = false;
};

decoded decode(const test::capture_publisher::sent& sent) {
  v1::Envelope envelope;
  EXPECT_TRUE(envelope.ParseFromString(sent.payload));
  EXPECT_EQ(envelope.seq(), sent.tag);
  return {envelope.seq(), envelope.replayed()};
}

class outbox_test : public ::testing::Test {
 protected:
  std::unique_ptr<store::spool_store> open_spool(std::uint64_t max_bytes = 64ull << 20,
                                                 std::uint64_t segment_bytes = 1 << 20,
                                                 std::size_t memory_messages = 1000, std::size_t cache_bytes = 1u << 20,
                                                 std::size_t memory_bytes = 8u << 20) {
    spool::options options;
    options.dir = dir.file("spool");
    options.sync = config::sync_mode::batch;
    options.max_bytes = max_bytes;
    options.max_age_ms = 3600000;
    options.segment_bytes = segment_bytes;
    auto s = std::make_unique<spool::spool>(options);
    report = s->recover(1000);
    return std::make_unique<store::spool_store>(std::move(s), memory_messages, memory_bytes, cache_bytes);
  }
  std::unique_ptr<outbox> make_outbox(store::message_store& store, outbox_options options = {}) {
    auto box = std::make_unique<outbox>(io, options, store, publisher, encoding::make_topics("p", "s", "a"));
    box->resume_after_recovery(report.corrupted, report.lost_from_memory);
    return box;
  }
  seal_result seal(outbox& box, std::size_t padding = 0) {
    return box.seal(encoding::stream::telemetry, [&](std::uint64_t seq) { return envelope_bytes(seq, padding); },
                    1000);
  }
  void seal_n(outbox& box, int count) {
    for (int i = 0; i < count; ++i) seal(box);
  }
  void ack_all(outbox& box) {
    for (auto seq : publisher.take_unacked()) box.on_delivered(seq);
  }
  // Seqs handed to the publisher while the disk did not reserve them yet (checked at
  // the moment of each publish).
  std::shared_ptr<std::vector<std::uint64_t>> record_unreserved_publishes(store::spool_store& s) {
    auto unreserved = std::make_shared<std::vector<std::uint64_t>>();
    publisher.answer = [&s, unreserved](std::uint64_t seq) {
      if (seq >= s.disk().floor_on_disk()) unreserved->push_back(seq);
      return transport::publish_outcome::ok;
    };
    return unreserved;
  }
  void run_loop() {
    io.poll();
    io.restart();
  }

  plant::test::temp_dir dir{"outbox"};
  boost::asio::io_context io;
  test::capture_publisher publisher;
  spool::recovery_report report;
};

TEST_F(outbox_test, sequence_numbers_start_at_one_and_continue_after_a_restart) {
  {
    auto s = open_spool();
    auto box = make_outbox(*s);
    EXPECT_EQ(box->next_seq(), 1u);
    seal_n(*box, 5);
    EXPECT_EQ(box->next_seq(), 6u);
    box->flush_store();
  }
  auto s = open_spool();
  auto box = make_outbox(*s);
  EXPECT_EQ(box->next_seq(), 6u) << "sequence numbers are never reused";
}

TEST_F(outbox_test, the_window_bounds_messages_in_flight) {
  auto s = open_spool();
  outbox_options options;
  options.window = 4;
  auto box = make_outbox(*s, options);
  publisher.connected_ = true;
  box->on_connected();
  seal_n(*box, 10);
  EXPECT_EQ(publisher.log.size(), 4u);
  EXPECT_EQ(box->in_flight(), 4u);
  ack_all(*box);
  EXPECT_EQ(publisher.log.size(), 8u);
  ack_all(*box);
  ack_all(*box);
  EXPECT_EQ(publisher.log.size(), 10u);
  EXPECT_TRUE(box->live_drained());
  for (std::size_t i = 0; i < publisher.log.size(); ++i) {
    const decoded d = decode(publisher.log[i]);
    EXPECT_EQ(d.seq, i + 1);
    EXPECT_FALSE(d.replayed);
    EXPECT_EQ(publisher.log[i].topic, "p/s/a/telemetry");
    EXPECT_FALSE(publisher.log[i].retain);
  }
}

TEST_F(outbox_test, a_dropped_connection_resends_everything_unacknowledged_marked_replayed) {
  auto s = open_spool();
  outbox_options options;
  options.window = 8;
  auto box = make_outbox(*s, options);
  publisher.connected_ = true;
  box->on_connected();
  seal_n(*box, 6);
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
    const decoded d = decode(p);
    resent.push_back(d.seq);
    EXPECT_TRUE(d.replayed) << d.seq;
  }
  EXPECT_EQ(resent, (std::vector<std::uint64_t>{2, 4, 5, 6}));
}

TEST_F(outbox_test, messages_sealed_during_an_outage_are_backlog_and_live_ones_go_first_after_it) {
  auto s = open_spool();
  outbox_options options;
  options.window = 4;
  options.backfill_share = 0.5;
  auto box = make_outbox(*s, options);
  seal_n(*box, 10);  // broker away: all of it is backlog
  EXPECT_TRUE(publisher.log.empty());
  publisher.connected_ = true;
  box->on_connected();
  // The backlog may use only its share of the window...
  EXPECT_EQ(publisher.log.size(), 2u);
  // ...so live messages go straight out beside it.
  seal_n(*box, 2);
  ASSERT_EQ(publisher.log.size(), 4u);
  EXPECT_TRUE(decode(publisher.log[0]).replayed);
  EXPECT_TRUE(decode(publisher.log[1]).replayed);
  EXPECT_EQ(decode(publisher.log[2]).seq, 11u);
  EXPECT_FALSE(decode(publisher.log[2]).replayed);
  EXPECT_EQ(decode(publisher.log[3]).seq, 12u);
  for (int round = 0; round < 10 && !publisher.unacked.empty(); ++round) ack_all(*box);
  std::map<std::uint64_t, int> sent;
  for (const auto& p : publisher.log) ++sent[decode(p).seq];
  EXPECT_EQ(sent.size(), 12u);
  for (const auto& [seq, times] : sent) EXPECT_EQ(times, 1) << seq;
  EXPECT_EQ(s->stats().unacked_messages, 0u);
}

TEST_F(outbox_test, without_a_spool_a_full_memory_store_drops_the_oldest_and_reports_exact_ranges) {
  store::memory_store memory(3, 1u << 20);
  auto box = make_outbox(memory);
  seal_n(*box, 7);  // disconnected: only the newest three fit
  ASSERT_EQ(box->dropped().ranges().size(), 1u);
  EXPECT_EQ(box->dropped().ranges()[0].first, 1u);
  EXPECT_EQ(box->dropped().ranges()[0].last, 4u);
  EXPECT_EQ(box->memory_only(), 3u);
  publisher.connected_ = true;
  box->on_connected();
  ASSERT_EQ(publisher.log.size(), 3u);
  EXPECT_EQ(decode(publisher.log[0]).seq, 5u);
  EXPECT_TRUE(decode(publisher.log[0]).replayed) << "sealed while the broker was away";
}

TEST_F(outbox_test, sync_always_publishes_nothing_before_its_fdatasync) {
  auto s = open_spool();
  outbox_options options;
  options.sync = config::sync_mode::always;
  auto box = make_outbox(*s, options);
  // Checked at the moment of each publish: the sync thread may well finish a message's
  // fdatasync before the next seal, and then publishing it at once is right.
  std::vector<std::uint64_t> published_before_durable;
  publisher.answer = [&](std::uint64_t seq) {
    if (seq > s->synced_through()) published_before_durable.push_back(seq);
    return transport::publish_outcome::ok;
  };
  publisher.connected_ = true;
  box->on_connected();
  seal_n(*box, 3);
  // The sync thread completes and posts back into the loop.
  ASSERT_TRUE(plant::test::wait_until(
      [&] {
        run_loop();
        return publisher.log.size() == 3;
      },
      5s));
  EXPECT_GE(s->synced_through(), 3u);
  EXPECT_TRUE(published_before_durable.empty()) << "published before it was durable";
}

// A power cut loses the ack record's unsynced writes, so numbering after it resumes
// above the reservation the disk holds: a burst that outruns the reservation waits
// for the round that extends it, and no seq is published unreserved.
TEST_F(outbox_test, nothing_is_published_beyond_the_seqs_a_synced_ack_record_reserves) {
  auto s = open_spool();
  outbox_options options;
  options.window = 100000;
  auto box = make_outbox(*s, options);
  const auto published_unreserved = record_unreserved_publishes(*s);
  publisher.connected_ = true;
  box->on_connected();
  const std::uint64_t reserved_at_start = s->disk().floor_on_disk();
  ASSERT_GT(reserved_at_start, 1u) << "recovery reserves seqs before anything is published";
  seal_n(*box, 2000);  // far past the first reservation
  ASSERT_TRUE(plant::test::wait_until(
      [&] {
        run_loop();
        return publisher.log.size() == 2000;
      },
      5s));
  EXPECT_TRUE(published_unreserved->empty()) << published_unreserved->size() << " seqs published unreserved, first "
                                             << (published_unreserved->empty() ? 0 : published_unreserved->front());
  EXPECT_GT(s->disk().floor_on_disk(), 2000u);
}

// D4: a message the spool could not take (here: over its record limit; in the
// field: a full disk) lives in memory. Its seq is reserved in the ack record
// before it may be published, so a restart never hands the seq out again.
TEST_F(outbox_test, a_message_only_memory_holds_goes_out_once_its_seq_is_reserved_on_disk) {
  std::uint64_t memory_seq = 0;
  {
    auto s = open_spool(64ull << 20, 1 << 20, 1000, 1u << 20, 64u << 20);
    outbox_options options;
    options.max_message_bytes = 32u << 20;  // past the spool's 16 MiB record limit
    auto box = make_outbox(*s, options);
    const auto published_unreserved = record_unreserved_publishes(*s);
    publisher.connected_ = true;
    box->on_connected();
    seal_n(*box, 2);
    const seal_result big = seal(*box, 17u << 20);
    ASSERT_EQ(big.where, store::durability::memory);
    memory_seq = big.seq;
    auto published = [&] {
      for (const auto& p : publisher.log) {
        if (p.tag == memory_seq) return true;
      }
      return false;
    };
    ASSERT_TRUE(plant::test::wait_until(
        [&] {
          run_loop();
          return published();
        },
        5s));
    EXPECT_GT(s->disk().floor_on_disk(), memory_seq);
    EXPECT_TRUE(published_unreserved->empty()) << "published before its seq was reserved";
    // The process dies before the broker acknowledges anything.
  }
  auto s = open_spool();
  auto box = make_outbox(*s);
  EXPECT_GT(box->next_seq(), memory_seq) << "a seq a consumer may have seen was handed out again";
  // And the next run says what became of it: only memory had it.
  EXPECT_TRUE(box->dropped().contains(memory_seq));
  EXPECT_FALSE(box->dropped().contains(memory_seq - 1)) << "seq " << memory_seq - 1 << " is on disk";
}

TEST_F(outbox_test, the_bound_drops_whole_segments_and_reports_only_what_is_not_still_deliverable) {
  // Two messages of memory and a small cache: most of what the bound removes is gone for good.
  auto tiny = open_spool(16 * 1024, 4 * 1024, 2, 2048);
  outbox_options box_options;
  box_options.queue_max_messages = 2;
  auto box = make_outbox(*tiny, box_options);
  for (int i = 0; i < 200; ++i) seal(*box, 300);
  EXPECT_LE(tiny->disk().disk_bytes(), 16u * 1024 + 4 * 1024);
  ASSERT_GT(box->dropped().count(), 0u);
  EXPECT_EQ(box->dropped().ranges().front().first, 1u) << "the oldest go first";
  // Everything not dropped is delivered once the broker is back.
  publisher.connected_ = true;
  box->on_connected();
  for (int round = 0; round < 500 && !publisher.unacked.empty(); ++round) ack_all(*box);
  std::set<std::uint64_t> delivered;
  for (const auto& p : publisher.log) delivered.insert(decode(p).seq);
  EXPECT_EQ(delivered.size() + box->dropped().count(), 200u);
  for (auto seq : delivered) EXPECT_FALSE(box->dropped().contains(seq)) << seq;
}

// D1: a publish that fails because the connection just died (Paho -3) used to put
// the message back and pick it again at once, for ever: the loop never reached the
// connection_lost event queued behind it. A retry must stop the pump.
TEST_F(outbox_test, a_publish_the_connection_cannot_take_stops_the_pump_until_the_next_connect) {
  auto s = open_spool();
  auto box = make_outbox(*s);
  publisher.connected_ = true;
  box->on_connected();
  seal_n(*box, 3);
  ASSERT_EQ(publisher.log.size(), 3u);
  // The connection dies; Paho says "disconnected" to every publish, but the
  // connection_lost event has not been delivered yet.
  publisher.answer = [](std::uint64_t) { return publish_outcome::retry; };
  const std::uint64_t before = publisher.attempts;
  seal_n(*box, 5);
  EXPECT_LE(publisher.attempts - before, 1u) << "retried a publish the connection refused";
  EXPECT_EQ(box->counters().publish_errors, 1u);
  // Then the event arrives and a new connection takes everything, each message once.
  publisher.answer = nullptr;
  box->on_connection_lost();
  box->on_connected();
  for (int round = 0; round < 10 && !publisher.unacked.empty(); ++round) ack_all(*box);
  std::set<std::uint64_t> delivered;
  for (const auto& p : publisher.log) delivered.insert(decode(p).seq);
  EXPECT_EQ(delivered, (std::set<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(box->dropped().count(), 0u);
}

TEST_F(outbox_test, a_message_the_client_refuses_for_good_is_reported_dropped_and_the_rest_flows) {
  auto s = open_spool();
  auto box = make_outbox(*s);
  publisher.connected_ = true;
  box->on_connected();
  publisher.answer = [](std::uint64_t tag) { return tag == 2 ? publish_outcome::drop : publish_outcome::ok; };
  seal_n(*box, 3);
  EXPECT_EQ(box->dropped().ranges(), (std::vector<seq_range>{{2, 2}}));
  EXPECT_EQ(box->counters().refused, 1u);
  std::vector<std::uint64_t> sent;
  for (const auto& p : publisher.log) sent.push_back(p.tag);
  EXPECT_EQ(sent, (std::vector<std::uint64_t>{1, 3}));
}

TEST_F(outbox_test, a_message_over_max_message_bytes_is_refused_at_sealing_and_reported) {
  store::memory_store memory(1000, 8u << 20);
  outbox_options options;
  options.max_message_bytes = 4096;
  auto box = make_outbox(memory, options);
  EXPECT_EQ(seal(*box, 5000).where, store::durability::dropped);
  EXPECT_EQ(seal(*box, 10).where, store::durability::memory);
  EXPECT_EQ(box->dropped().ranges(), (std::vector<seq_range>{{1, 1}}));
}

TEST_F(outbox_test, safety_is_reported_when_synced_or_acknowledged_and_loss_when_dropped) {
  auto s = open_spool();
  auto box = make_outbox(*s);
  std::vector<std::string> events;
  const seal_result first = seal(*box);
  EXPECT_EQ(first.where, store::durability::durable);
  box->when_safe(first.seq, first.seq, [&](bool safe) { events.push_back(safe ? "safe" : "lost"); });
  EXPECT_TRUE(events.empty()) << "not synced yet";
  // The group commit timer asks for the sync; the worker answers on the loop.
  ASSERT_TRUE(plant::test::wait_until(
      [&] {
        run_loop();
        return !events.empty();
      },
      5s));
  EXPECT_EQ(events, (std::vector<std::string>{"safe"}));

  // Memory only: safe when the broker acknowledges it, lost when the memory store drops it.
  store::memory_store memory(1, 1u << 20);
  auto mbox = make_outbox(memory);
  const seal_result a = seal(*mbox);
  mbox->when_safe(a.seq, a.seq, [&](bool safe) { events.push_back(safe ? "a safe" : "a lost"); });
  const seal_result b = seal(*mbox);  // pushes a out of the one-message store
  EXPECT_EQ(events.back(), "a lost");
  mbox->when_safe(b.seq, b.seq, [&](bool safe) { events.push_back(safe ? "b safe" : "b lost"); });
  publisher.connected_ = true;
  mbox->on_connected();
  ack_all(*mbox);
  EXPECT_EQ(events.back(), "b safe");
}

// D17: messages only memory held were dropped at a stop without a word.
TEST_F(outbox_test, at_a_stop_what_only_memory_holds_is_reported_dropped) {
  store::memory_store memory(100, 1u << 20);
  auto box = make_outbox(memory);
  seal_n(*box, 4);
  publisher.connected_ = true;
  box->on_connected();
  box->on_delivered(1);
  box->on_delivered(2);
  EXPECT_EQ(box->give_up_memory_only("stopping"), 2u);
  EXPECT_EQ(box->dropped().ranges(), (std::vector<seq_range>{{3, 4}}));
  EXPECT_EQ(box->memory_only(), 0u);
}


// MQTT 5 refusals: what the broker will never take is dropped and reported; the
// rest is held in the store and sent again after a pause, in order.
TEST_F(outbox_test, a_refused_message_is_held_then_resent_and_a_final_refusal_is_reported_dropped) {
  manual_clock clock;
  scoped_clock use(clock);
  auto s = open_spool();
  outbox_options options;
  options.window = 8;
  options.refusal_min_delay = std::chrono::seconds(2);
  options.refusal_max_delay = std::chrono::seconds(2);
  auto box = make_outbox(*s, options);
  publisher.connected_ = true;
  box->on_connected();
  seal_n(*box, 3);
  ASSERT_EQ(publisher.take_unacked(), (std::vector<std::uint64_t>{1, 2, 3}));
  box->on_delivered(1);
  box->on_refused(2, refusal_for(0x87));  // not authorized: held
  box->on_refused(3, refusal_for(0x95));  // packet too large: never
  EXPECT_EQ(box->last_refusal(), refusal_for(0x87).reason);
  EXPECT_EQ(box->counters().broker_refusals, 2u);
  EXPECT_EQ(box->dropped().count(), 1u);
  EXPECT_TRUE(box->dropped().contains(3));
  // Held: a new message waits too, and nothing goes out until the pause ends.
  const std::size_t sent_before = publisher.log.size();
  seal_n(*box, 1);
  run_loop();
  EXPECT_EQ(publisher.log.size(), sent_before);
  clock.advance(std::chrono::milliseconds(2100));
  run_loop();
  std::vector<std::uint64_t> resent = publisher.take_unacked();
  std::sort(resent.begin(), resent.end());
  EXPECT_EQ(resent, (std::vector<std::uint64_t>{2, 4}));
  for (auto seq : resent) box->on_delivered(seq);
  EXPECT_EQ(box->last_refusal(), "");
  EXPECT_EQ(s->stats().unacked_messages, 0u);
  EXPECT_EQ(box->dropped().count(), 1u);
}

TEST_F(outbox_test, the_brokers_receive_maximum_and_packet_size_bound_the_window_and_messages) {
  auto s = open_spool();
  outbox_options options;
  options.window = 64;
  options.max_message_bytes = 64 * 1024;
  auto box = make_outbox(*s, options);
  seal(*box, 3000);  // sealed before the broker's limit was known
  publisher.connected_ = true;
  box->set_broker_limits(5, 2048);
  EXPECT_EQ(box->window(), 5u);
  EXPECT_EQ(box->max_message_bytes(), 2048u);
  box->on_connected();
  // Over this broker's limit: reported, not sent to be refused.
  EXPECT_TRUE(box->dropped().contains(1));
  seal_n(*box, 20);
  EXPECT_EQ(box->in_flight(), 5u);
  EXPECT_EQ(seal(*box, 4000).where, store::durability::dropped);
  // A broker without limits: the configured ones again.
  box->set_broker_limits(65535, 0);
  EXPECT_EQ(box->window(), 64u);
  EXPECT_EQ(box->max_message_bytes(), 64u * 1024);
}

TEST(publish_refusal, only_what_the_same_bytes_can_never_pass_is_final) {
  for (int final_code : {0x90, 0x95, 0x99}) EXPECT_TRUE(refusal_for(final_code).permanent) << final_code;
  for (int held_code : {0x80, 0x83, 0x87, 0x91, 0x97}) EXPECT_FALSE(refusal_for(held_code).permanent) << held_code;
  EXPECT_NE(refusal_for(0x87).reason.find("not authorized"), std::string::npos);
  EXPECT_NE(refusal_for(0x95).reason.find("too large"), std::string::npos);
  EXPECT_EQ(refusal_for(0x97).reason, "quota exceeded");
}

TEST(payload_limit, leaves_room_for_the_publish_header_on_the_longest_topic) {
  const auto topics = encoding::make_topics("plant/v1", "site", "agent");
  EXPECT_EQ(app::payload_limit_for(0, topics), 0u);
  const std::size_t limit = app::payload_limit_for(16384, topics);
  EXPECT_EQ(limit, 16384u - (13 + topics.telemetry.size()));
  EXPECT_EQ(app::payload_limit_for(10, topics), 1u);
}

}  // namespace
}  // namespace plant::transport
