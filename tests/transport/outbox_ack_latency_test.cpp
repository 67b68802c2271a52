// The outbox's publish-to-acknowledgement histogram: one observation per
// acknowledged message, none for sends a dropped connection lost.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "agent/transport/outbox.hpp"

namespace plant::transport {
namespace {

class counting_publisher final : public message_publisher {
 public:
  bool connected() const override { return connected_; }
  bool publish(const std::string&, std::string, int, bool, std::uint64_t tag) override {
    if (!connected_) return false;
    sent.push_back(tag);
    return true;
  }
  bool connected_ = true;
  std::vector<std::uint64_t> sent;
};

TEST(outbox_ack_latency, each_acknowledgement_is_observed_once_and_lost_sends_are_not) {
  boost::asio::io_context io;
  counting_publisher publisher;
  outbox box(io, outbox_options{}, nullptr, publisher, encoding::make_topics("p", "s", "a"));
  box.on_connected();
  for (int i = 0; i < 3; ++i) box.submit(encoding::stream::telemetry, "payload", 1000);
  ASSERT_EQ(publisher.sent, (std::vector<std::uint64_t>{1, 2, 3}));
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
  ASSERT_EQ(publisher.sent.back(), 3u);
  box.on_delivered(3);
  const auto& latency = box.ack_latency();
  EXPECT_EQ(latency.count(), 3u);
  EXPECT_EQ(latency.cumulative(latency_histogram::buckets - 1), 3u);
  EXPECT_EQ(box.counters().acked, 3u);
}

}  // namespace
}  // namespace plant::transport
