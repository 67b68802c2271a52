// The outbox's publish-to-acknowledgement histogram: one observation per
// acknowledged message, none for sends a dropped connection lost.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "agent/store/memory_store.hpp"
#include "agent/transport/outbox.hpp"
#include "tests/support/capture_publisher.hpp"

namespace plant::transport {
namespace {

TEST(outbox_ack_latency, each_acknowledgement_is_observed_once_and_lost_sends_are_not) {
  boost::asio::io_context io;
  test::capture_publisher publisher;
  publisher.connected_ = true;
  store::memory_store memory(1000, 1u << 20);
  outbox box(io, outbox_options{}, memory, publisher, encoding::make_topics("p", "s", "a"));
  box.on_connected();
  for (int i = 0; i < 3; ++i) box.seal(encoding::stream::telemetry, [](std::uint64_t) { return "payload"; }, 1000);
  ASSERT_EQ(publisher.unacked, (std::vector<std::uint64_t>{1, 2, 3}));
  box.on_delivered(1);
  box.on_delivered(2);
  box.on_delivered(2);  // a duplicate acknowledgement is not a second observation
  EXPECT_EQ(box.ack_latency().count(), 2u);

  publisher.connected_ = false;
  box.on_connection_lost();
  box.on_delivered(3);  // late, from the old connection: nothing in flight any more
  EXPECT_EQ(box.ack_latency().count(), 2u);

  publisher.connected_ = true;
  box.on_connected();
  ASSERT_EQ(publisher.log.back().tag, 3u);
  box.on_delivered(3);
  const auto& latency = box.ack_latency();
  EXPECT_EQ(latency.count(), 3u);
  EXPECT_EQ(latency.cumulative(latency_histogram::buckets - 1), 3u);
  EXPECT_EQ(box.counters().acked, 3u);
}

}  // namespace
}  // namespace plant::transport
