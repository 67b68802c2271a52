#include "watch/reconnect_backoff.hpp"

#include <algorithm>

namespace plant::watch {

std::chrono::milliseconds reconnect_backoff::next() {
  const std::chrono::milliseconds delay = next_;
  // Doubling (rather than jitter) is enough here: one ops client does not
  // synchronise with a fleet, and predictable delays read better in the log.
  next_ = std::min(max_, next_ * 2);
  return delay;
}

}  // namespace plant::watch
