#pragma once
/// Delays between connection attempts: doubling from a minimum to a maximum,
/// back to the minimum after a success.
#include <chrono>

namespace plant::watch {

class reconnect_backoff {
 public:
  /// Delays run min, 2*min, 4*min, ... capped at max.
  reconnect_backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max), next_(min) {}
  /// The delay before the next attempt; each call doubles the following one.
  std::chrono::milliseconds next();
  /// Back to the minimum (after a successful connect).
  void reset() { next_ = min_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds next_;
};

}  // namespace plant::watch
