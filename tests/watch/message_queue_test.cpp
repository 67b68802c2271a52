#include "watch/mqtt/message_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>


namespace plant::watch {
namespace {


received_message message_of(std::size_t bytes, const std::string& topic = "t") {
  received_message m;
  m.topic = topic;
  m.payload.assign(bytes, 'x');
  return m;
}

TEST(watch_message_queue, wakes_once_per_idle_to_busy_transition) {
  message_queue q(10, 1 << 20);
  EXPECT_TRUE(q.push(message_of(1)).wake);
  EXPECT_FALSE(q.push(message_of(1)).wake);
  EXPECT_FALSE(q.push(message_of(1)).wake);
  std::vector<received_message> out;
  EXPECT_TRUE(q.pop_batch(out, 2));  // one left: the drain stays scheduled
  EXPECT_EQ(out.size(), 2u);
  EXPECT_FALSE(q.push(message_of(1)).wake);
  EXPECT_FALSE(q.pop_batch(out, 10));  // empty now: idle again
  EXPECT_EQ(out.size(), 4u);
  EXPECT_TRUE(q.push(message_of(1)).wake);
}

TEST(watch_message_queue, drops_and_counts_when_full_by_count_or_bytes) {
  message_queue by_count(2, 1 << 20);
  EXPECT_TRUE(by_count.push(message_of(1)).accepted);
  EXPECT_TRUE(by_count.push(message_of(1)).accepted);
  EXPECT_FALSE(by_count.push(message_of(1)).accepted);
  EXPECT_EQ(by_count.dropped(), 1u);
  EXPECT_EQ(by_count.size(), 2u);

  message_queue by_bytes(100, 1000);
  EXPECT_TRUE(by_bytes.push(message_of(5000)).accepted);  // one oversized message still passes an empty queue
  EXPECT_FALSE(by_bytes.push(message_of(10)).accepted);
  std::vector<received_message> out;
  by_bytes.pop_batch(out, 10);
  EXPECT_TRUE(by_bytes.push(message_of(499)).accepted);
  EXPECT_TRUE(by_bytes.push(message_of(499)).accepted);
  EXPECT_FALSE(by_bytes.push(message_of(499)).accepted);
  EXPECT_EQ(by_bytes.dropped(), 2u);
}

TEST(watch_message_queue, keeps_order_across_threads) {
  message_queue q(100000, 1 << 30);
  constexpr int n = 20000;
  std::thread producer([&] {
    for (int i = 0; i < n; ++i) q.push(message_of(0, std::to_string(i)));
  });
  std::vector<received_message> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < static_cast<std::size_t>(n) && std::chrono::steady_clock::now() < deadline) {
    q.pop_batch(got, 256);
  }
  producer.join();
  q.pop_batch(got, n);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)].topic, std::to_string(i));
  EXPECT_EQ(q.dropped(), 0u);
}

}  // namespace
}  // namespace plant::watch
