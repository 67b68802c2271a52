// Sources -> batches -> outbox on a manual clock: when a batch is sealed, how
// large it may be, and when a source learns that what it gave is safe.
#include "agent/app/telemetry_pipeline.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "agent/store/memory_store.hpp"
#include "plant/v1/plant.pb.h"
#include "tests/support/capture_publisher.hpp"

namespace plant::app {
namespace {

using namespace std::chrono_literals;

sample stock(std::size_t i, std::size_t name_bytes = 8) {
  sample s;
  s.kind = sample::kind_t::stock;
  s.name = "m" + std::to_string(i) + std::string(name_bytes, 'x');
  s.quantity = static_cast<double>(i);
  s.source_time = wall_clock_ms();
  s.receive_time = s.source_time;
  return s;
}

std::vector<sample> stocks(std::size_t count, std::size_t name_bytes = 8) {
  std::vector<sample> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(stock(i, name_bytes));
  return out;
}

class telemetry_pipeline_test : public ::testing::Test {
 protected:
  telemetry_pipeline_test() : use_(clock_) {}

  void make(batching limits, transport::outbox_options box_options = {}) {
    box_ = std::make_unique<transport::outbox>(io_, box_options, store_, publisher_,
                                               encoding::make_topics("p", "s", "a"));
    box_->resume_after_recovery({});
    pipeline_ = std::make_unique<telemetry_pipeline>(io_, *box_, encoding::envelope_identity{"a", "s"}, limits);
    pipeline_->start();
  }
  void advance(std::chrono::milliseconds d) {
    clock_.advance(d);
    io_.poll();
    io_.restart();
  }
  std::uint64_t sealed() const { return box_->counters().sealed; }

  manual_clock clock_;
  scoped_clock use_;
  boost::asio::io_context io_;
  store::memory_store store_{100000, 256u << 20};
  test::capture_publisher publisher_;
  std::unique_ptr<transport::outbox> box_;
  std::unique_ptr<telemetry_pipeline> pipeline_;
};

TEST_F(telemetry_pipeline_test, a_sample_waits_at_most_publish_interval_and_an_idle_pipeline_sets_no_timer) {
  make({1000, 1000ms, 256u << 10});
  // Nothing waiting: an hour passes without a single handler running.
  clock_.advance(1h);
  EXPECT_EQ(io_.poll(), 0u);
  io_.restart();
  auto batch = stocks(3);
  pipeline_->accept(batch, "sim");
  advance(999ms);
  EXPECT_EQ(sealed(), 0u);
  advance(1ms);
  EXPECT_EQ(sealed(), 1u);
  // The store's group commit for that message, and then quiet again.
  advance(1s);
  clock_.advance(1h);
  EXPECT_EQ(io_.poll(), 0u);
}

TEST_F(telemetry_pipeline_test, max_batch_seals_at_once_and_the_rest_waits_for_the_interval) {
  make({1000, 1000ms, 15u << 20});
  auto batch = stocks(2500);
  pipeline_->accept(batch, "sim");
  EXPECT_EQ(sealed(), 2u);
  advance(1000ms);
  EXPECT_EQ(sealed(), 3u);
  EXPECT_EQ(pipeline_->samples_in(), 2500u);
}

TEST_F(telemetry_pipeline_test, no_sealed_message_passes_max_message_bytes_even_when_resent_marked_replayed) {
  const std::size_t limit = 8 * 1024;
  transport::outbox_options box_options;
  box_options.max_message_bytes = limit;
  make({100000, 1000ms, limit}, box_options);
  auto batch = stocks(3000, 40);  // about 150 KiB of samples
  pipeline_->accept(batch, "sim");
  advance(1000ms);
  ASSERT_GT(sealed(), 10u);
  EXPECT_EQ(box_->dropped().count(), 0u) << "a batch was sealed over the limit";
  // Every message goes out from the backlog (sealed while disconnected), marked replayed.
  publisher_.connected_ = true;
  box_->on_connected();
  std::size_t samples = 0;
  for (int round = 0; round < 1000 && !publisher_.unacked.empty(); ++round) {
    for (auto seq : publisher_.take_unacked()) box_->on_delivered(seq);
  }
  for (const auto& sent : publisher_.log) {
    EXPECT_LE(sent.payload.size(), limit);
    v1::Envelope envelope;
    ASSERT_TRUE(envelope.ParseFromString(sent.payload));
    EXPECT_TRUE(envelope.replayed());
    samples += static_cast<std::size_t>(envelope.telemetry().stocks_size());
  }
  EXPECT_EQ(samples, 3000u);
}

TEST_F(telemetry_pipeline_test, a_broker_limit_stated_after_the_samples_came_splits_the_open_batch) {
  // Samples gathered before the CONNACK are cut for mqtt.max_message_bytes; the
  // broker then says 4 KiB. Nothing may be dropped: the open batch is split.
  make({100000, 1000ms, 256u << 10});
  auto batch = stocks(600, 20);  // about 25 KiB
  pipeline_->accept(batch, "sim");
  const std::size_t broker_limit = 4 * 1024;
  box_->set_broker_limits(20, broker_limit);
  advance(1000ms);
  EXPECT_EQ(box_->dropped().count(), 0u) << "a batch sealed before the limit was known was dropped";
  ASSERT_GT(sealed(), 5u);
  publisher_.connected_ = true;
  box_->on_connected();
  for (int round = 0; round < 1000 && !publisher_.unacked.empty(); ++round) {
    for (auto seq : publisher_.take_unacked()) box_->on_delivered(seq);
  }
  std::size_t samples = 0;
  std::uint64_t expected_seq = 1;
  for (const auto& sent : publisher_.log) {
    EXPECT_LE(sent.payload.size(), broker_limit);
    v1::Envelope envelope;
    ASSERT_TRUE(envelope.ParseFromString(sent.payload));
    EXPECT_EQ(envelope.seq(), expected_seq++);
    for (const auto& s : envelope.telemetry().stocks()) {
      EXPECT_EQ(s.material(), batch[samples].name) << "samples out of order or lost at a cut";
      ++samples;
    }
  }
  EXPECT_EQ(samples, 600u);
}

TEST_F(telemetry_pipeline_test, a_source_learns_its_samples_are_safe_only_when_they_are) {
  make({1000, 1000ms, 256u << 10});
  auto batch = stocks(5);
  pipeline_->accept(batch, "csv");
  std::vector<bool> answers;
  pipeline_->when_accepted_is_safe([&](bool safe) { answers.push_back(safe); });
  advance(1000ms);
  ASSERT_EQ(sealed(), 1u);
  EXPECT_TRUE(answers.empty()) << "memory only is not safe";
  publisher_.connected_ = true;
  box_->on_connected();
  for (auto seq : publisher_.take_unacked()) box_->on_delivered(seq);
  EXPECT_EQ(answers, std::vector<bool>{true});
  // Nothing accepted since: answered at once.
  pipeline_->when_accepted_is_safe([&](bool safe) { answers.push_back(safe); });
  EXPECT_EQ(answers, (std::vector<bool>{true, true}));
}

TEST_F(telemetry_pipeline_test, samples_held_back_by_report_by_exception_reach_the_observer_but_no_message) {
  make({1000, 1000ms, 256u << 10});
  std::vector<std::string> observed;
  pipeline_->set_observer([&](const sample& s, const std::string&) { observed.push_back(s.name); });
  auto held = stocks(3);
  for (auto& s : held) s.publish = false;
  pipeline_->accept(held, "plc");
  EXPECT_EQ(observed.size(), 3u) << "the shortage detector sees every sample";
  // An armed publish timer would run within this hour; nothing was to be published, so none is.
  clock_.advance(1h);
  EXPECT_EQ(io_.poll(), 0u) << "a timer was armed for samples that were all held back";
  io_.restart();
  EXPECT_EQ(sealed(), 0u);
  auto mixed = stocks(3);
  mixed[1].publish = false;
  pipeline_->accept(mixed, "plc");
  advance(1000ms);
  ASSERT_EQ(sealed(), 1u);
  EXPECT_EQ(observed.size(), 6u);
  publisher_.connected_ = true;
  box_->on_connected();
  ASSERT_EQ(publisher_.log.size(), 1u);
  v1::Envelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(publisher_.log[0].payload));
  ASSERT_EQ(envelope.telemetry().stocks_size(), 2);
  EXPECT_EQ(envelope.telemetry().stocks(0).material(), mixed[0].name);
  EXPECT_EQ(envelope.telemetry().stocks(1).material(), mixed[2].name);
}

}  // namespace
}  // namespace plant::app
