#pragma once
/// Waiting on a condition with a deadline, the only way tests wait for real
/// processes: no fixed sleeps.
///
///   PLANT_ASSERT_EVENTUALLY(broker.log_text().find("New client") != std::string::npos, 5s)
///       << "log: " << broker.log_text();
///
/// fails after 5 s with "timed out after 5000 ms waiting for: <the condition as written>"
/// followed by the streamed text (evaluated only on failure).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>

namespace plant::test {

/// Polls `predicate` every `period` until it returns true (-> true) or `timeout`
/// has passed (-> false); the predicate is always tried once more at the deadline.
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds period = std::chrono::milliseconds(20));

/// wait_until as an assertion: on timeout the failure names `what` and the timeout.
testing::AssertionResult eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                                    const std::string& what);

}  // namespace plant::test

/// Fatal assertion that `condition` becomes true within `timeout`; accepts `<< extra context`.
#define PLANT_ASSERT_EVENTUALLY(condition, timeout)                                                     \
  switch (0)                                                                                            \
  case 0:                                                                                               \
  default:                                                                                              \
    if (const ::testing::AssertionResult plant_eventually_result = ::plant::test::eventually(          \
            [&]() -> bool { return static_cast<bool>(condition); }, (timeout), #condition)) {           \
    } else                                                                                              \
      GTEST_FATAL_FAILURE_(plant_eventually_result.message())

/// Non-fatal variant of PLANT_ASSERT_EVENTUALLY.
#define PLANT_EXPECT_EVENTUALLY(condition, timeout)                                                     \
  switch (0)                                                                                            \
  case 0:                                                                                               \
  default:                                                                                              \
    if (const ::testing::AssertionResult plant_eventually_result = ::plant::test::eventually(          \
            [&]() -> bool { return static_cast<bool>(condition); }, (timeout), #condition)) {           \
    } else                                                                                              \
      GTEST_NONFATAL_FAILURE_(plant_eventually_result.message())
