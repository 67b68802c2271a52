#include "common/wire/protobuf_logging.hpp"

#include <google/protobuf/stubs/logging.h>

#include <atomic>
#include <chrono>
#include <string>

#include "common/core/log.hpp"

namespace plant::wire {

namespace {

// At most one line a second: a stream of bad messages must not flood the journal.
std::atomic<std::int64_t> last_printed_ms{0};
std::atomic<std::uint64_t> suppressed{0};

void handle(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  std::int64_t last = last_printed_ms.load();
  if (now - last < 1000 || !last_printed_ms.compare_exchange_strong(last, now)) {
    suppressed.fetch_add(1);
    return;
  }
  std::string text = message + " (" + (file != nullptr ? file : "?") + ":" + std::to_string(line) + ")";
  if (const auto skipped = suppressed.exchange(0); skipped > 0) {
    text += " (" + std::to_string(skipped) + " similar messages suppressed)";
  }
  log::write(level >= google::protobuf::LOGLEVEL_ERROR ? log::level::error : log::level::warn, "protobuf", "", text);
}

}  // namespace

void route_protobuf_logs() { google::protobuf::SetLogHandler(handle); }

}  // namespace plant::wire
