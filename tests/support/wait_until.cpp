#include "tests/support/wait_until.hpp"

#include <thread>

namespace plant::test {

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds period) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (predicate()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // Never sleep past the deadline, so a short timeout is honoured; the final
    // check then happens at (not after) the deadline.
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(period, deadline - now));
  }
}

testing::AssertionResult eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                                    const std::string& what) {
  if (wait_until(predicate, timeout)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "timed out after " << timeout.count() << " ms waiting for: " << what;
}

}  // namespace plant::test
