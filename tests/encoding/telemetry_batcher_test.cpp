#include "agent/encoding/telemetry_batcher.hpp"

#include <gtest/gtest.h>

#include "agent/encoding/envelope.hpp"
#include "agent/encoding/topics.hpp"
#include "plant/v1/plant.pb.h"

namespace plant::encoding {
namespace {

sample stock(const std::string& name, double quantity, epoch_ms source_time, epoch_ms receive_time) {
  sample s;
  s.kind = sample::kind_t::stock;
  s.name = name;
  s.quantity = quantity;
  s.unit = "kg";
  s.location = "store-1";
  s.source_time = source_time;
  s.receive_time = receive_time;
  return s;
}

TEST(telemetry_batcher, seals_samples_with_identity_seq_and_relative_times) {
  telemetry_batcher batcher({"gw-1", "site-a"});
  sample line;
  line.kind = sample::kind_t::line;
  line.name = "press-3";
  line.state = line_state::starved;
  line.good_count = 1234567;
  line.reject_count = 89;
  line.good_rate = 42.5;
  line.q = quality::stale;
  line.source_time = 1'700'000'000'000;
  line.receive_time = 1'700'000'000'250;
  batcher.add(line, "plc-1");
  batcher.add(stock("steel-coil-1.2", 5120.5, 1'699'999'999'000, 1'700'000'000'300), "wms");
  batcher.add(stock("resin", 12.0, 1'700'000'000'100, 1'700'000'000'400), "plc-1");
  EXPECT_EQ(batcher.size(), 3u);

  v1::Envelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(batcher.seal(17, 1'700'000'001'000)));
  EXPECT_TRUE(batcher.empty());
  EXPECT_EQ(envelope.agent(), "gw-1");
  EXPECT_EQ(envelope.site(), "site-a");
  EXPECT_EQ(envelope.seq(), 17u);
  EXPECT_FALSE(envelope.replayed());
  EXPECT_EQ(envelope.created_at(), 1'700'000'001'000);
  const auto& batch = envelope.telemetry();
  ASSERT_EQ(batch.sources_size(), 2);
  EXPECT_EQ(batch.sources(0), "plc-1");
  EXPECT_EQ(batch.sources(1), "wms");
  ASSERT_EQ(batch.lines_size(), 1);
  const auto& l = batch.lines(0);
  EXPECT_EQ(l.line(), "press-3");
  EXPECT_EQ(l.state(), v1::LINE_STATE_STARVED);
  EXPECT_EQ(l.good_count(), 1234567u);
  EXPECT_EQ(l.reject_count(), 89u);
  EXPECT_DOUBLE_EQ(l.good_rate(), 42.5);
  EXPECT_EQ(l.quality(), v1::QUALITY_STALE);
  EXPECT_EQ(batch.base_time() + l.source_time(), line.source_time);
  EXPECT_EQ(batch.base_time() + l.receive_time(), line.receive_time);
  ASSERT_EQ(batch.stocks_size(), 2);
  EXPECT_EQ(batch.stocks(0).material(), "steel-coil-1.2");
  EXPECT_EQ(batch.base_time() + batch.stocks(0).source_time(), 1'699'999'999'000);
  EXPECT_EQ(batch.stocks(0).source(), 1u);
  EXPECT_EQ(batch.stocks(1).source(), 0u);
  EXPECT_EQ(batch.stocks(1).location(), "store-1");
}

TEST(telemetry_batcher, the_next_batch_starts_clean) {
  telemetry_batcher batcher({"a", "s"});
  batcher.add(stock("m1", 1, 1000, 1000), "src-a");
  batcher.seal(1, 1000);
  batcher.add(stock("m2", 2, 5000, 5000), "src-b");
  v1::Envelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(batcher.seal(2, 5000)));
  ASSERT_EQ(envelope.telemetry().sources_size(), 1);
  EXPECT_EQ(envelope.telemetry().sources(0), "src-b");
  ASSERT_EQ(envelope.telemetry().stocks_size(), 1);
  EXPECT_EQ(envelope.telemetry().base_time(), 5000);
}

TEST(telemetry_batcher, a_sample_costs_a_few_bytes_on_the_wire) {
  telemetry_batcher batcher({"gateway-1", "plant-1"});
  for (int i = 0; i < 1000; ++i) {
    batcher.add(stock("material-" + std::to_string(i % 100), 1000.0 + i, 1'700'000'000'000 + i, 1'700'000'000'000 + i),
                "sim");
  }
  auto bytes = batcher.seal(1, 1'700'000'001'000);
  // name (~14) + double (9) + unit/location (~15) + two short deltas + source index
  EXPECT_LT(bytes.size() / 1000.0, 50.0) << bytes.size();
}

TEST(telemetry_batcher, seal_within_keeps_what_does_not_fit_for_the_next_seq) {
  telemetry_batcher batcher({"gw-1", "site-a"});
  sample line;
  line.kind = sample::kind_t::line;
  line.name = "press-1";
  line.receive_time = line.source_time = 1'700'000'000'000;
  batcher.add(line, "plc");
  for (int i = 0; i < 200; ++i) batcher.add(stock("material-" + std::to_string(i), i, 1'700'000'000'000 + i, 1'700'000'000'500 + i), i % 2 ? "wms" : "plc");
  const std::size_t limit = 1500;
  std::vector<std::string> materials;
  std::uint64_t seq = 1;
  int lines = 0;
  while (!batcher.empty()) {
    const std::size_t waiting = batcher.size();
    const std::string bytes = batcher.seal_within(seq, 2'000'000'000'000, limit);
    EXPECT_LE(bytes.size() + 2, limit) << "seq " << seq;
    v1::Envelope envelope;
    ASSERT_TRUE(envelope.ParseFromString(bytes));
    EXPECT_EQ(envelope.seq(), seq);
    const auto& batch = envelope.telemetry();
    lines += batch.lines_size();
    for (const auto& s : batch.stocks()) {
      materials.push_back(s.material());
      // Times and sources survive the cut: still relative to the first sample's base.
      const int i = std::stoi(s.material().substr(9));
      EXPECT_EQ(batch.base_time() + s.source_time(), 1'700'000'000'000 + i);
      EXPECT_EQ(batch.sources(static_cast<int>(s.source())), i % 2 ? "wms" : "plc");
    }
    EXPECT_EQ(batcher.size(), waiting - static_cast<std::size_t>(batch.lines_size() + batch.stocks_size()));
    ++seq;
  }
  EXPECT_GT(seq, 5u);
  EXPECT_EQ(lines, 1);
  ASSERT_EQ(materials.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(materials[static_cast<std::size_t>(i)], "material-" + std::to_string(i));
  // One sample over the limit still goes out alone rather than looping.
  batcher.add(stock(std::string(3000, 'x'), 1, 1, 1), "plc");
  EXPECT_GT(batcher.seal_within(seq, 1, limit).size(), limit);
  EXPECT_TRUE(batcher.empty());
}

TEST(telemetry_batcher, after_a_cut_the_bound_still_bounds_the_rest) {
  telemetry_batcher batcher({"gw-1", "site-a"});
  for (int i = 0; i < 100; ++i) batcher.add(stock("m" + std::to_string(i), i, 1000 + i, 2000 + i), "plc");
  batcher.seal_within(1, 5000, 800);
  ASSERT_FALSE(batcher.empty());
  const std::size_t bound = batcher.bytes_bound();
  EXPECT_LE(batcher.seal(2, 5000).size() + 2, bound);
}

TEST(envelope, mark_replayed_sets_the_flag_without_re_encoding) {
  telemetry_batcher batcher({"a", "s"});
  batcher.add(stock("m", 1, 1000, 1000), "src");
  std::string bytes = batcher.seal(9, 1000);
  std::string original = bytes;
  mark_replayed(bytes);
  EXPECT_EQ(bytes.substr(0, original.size()), original);
  v1::Envelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(bytes));
  EXPECT_TRUE(envelope.replayed());
  EXPECT_EQ(envelope.seq(), 9u);
  EXPECT_EQ(envelope.telemetry().stocks_size(), 1);
}

TEST(topics, follow_prefix_site_agent) {
  auto topics = make_topics("plant/v1", "plant-7", "gw-2");
  EXPECT_EQ(topics.telemetry, "plant/v1/plant-7/gw-2/telemetry");
  EXPECT_EQ(topics.alerts, "plant/v1/plant-7/gw-2/alerts");
  EXPECT_EQ(topics.status, "plant/v1/plant-7/gw-2/status");
  EXPECT_TRUE(retained(stream::alert));
  EXPECT_FALSE(retained(stream::telemetry));
}

}  // namespace
}  // namespace plant::encoding
