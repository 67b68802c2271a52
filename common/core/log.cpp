#include "common/core/log.hpp"

#include "common/core/text.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace plant::log {

namespace {

std::atomic<int> current_level{static_cast<int>(level::info)};
std::atomic<std::uint64_t> suppressed_lines{0};
std::mutex output_mutex;

// journald understands "<N>" syslog priorities at the start of a line; a plain
// terminal is better served by a timestamp.
bool under_journald() {
  static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  return journald;
}

const char* level_name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

int syslog_priority(level l) {
  switch (l) {
    case level::debug: return 7;
    case level::info: return 6;
    case level::warn: return 4;
    case level::error: return 3;
  }
  return 6;
}

}  // namespace

void set_level(level l) { current_level.store(static_cast<int>(l)); }

bool enabled(level l) { return static_cast<int>(l) >= current_level.load(std::memory_order_relaxed); }

std::uint64_t suppressed_total() { return suppressed_lines.load(); }

void write(level l, std::string_view component, std::string_view instance, std::string_view message) {
  if (!enabled(l)) return;
  std::string line;
  line.reserve(message.size() + component.size() + instance.size() + 48);
  if (under_journald()) {
    line += '<';
    line += static_cast<char>('0' + syslog_priority(l));
    line += '>';
  } else {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[64];  // sized for any int the format could take, so -Wformat-truncation is satisfied
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
    line += stamp;
  }
  line += level_name(l);
  line += " [";
  line += component;
  if (!instance.empty()) {
    line += ':';
    line += instance;
  }
  line += "] ";
  // One event, one short line: newlines would split it in journald, control
  // characters (a NUL, a terminal escape) must not reach a terminal raw, and a
  // message quoting outside input (a 1 MiB CSV header) is cut.
  line += escape_for_display(message, max_message_bytes);
  line += '\n';
  std::lock_guard<std::mutex> lock(output_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

logger::logger(std::string component, std::string instance)
    : component_(std::move(component)), instance_(std::move(instance)) {}

void logger::debug(std::string_view message) const { write(level::debug, component_, instance_, message); }
void logger::info(std::string_view message) const { write(level::info, component_, instance_, message); }
void logger::warn(std::string_view message) const { write(level::warn, component_, instance_, message); }
void logger::error(std::string_view message) const { write(level::error, component_, instance_, message); }

void logger::limited(level l, std::string_view key, std::string_view message) {
  if (!enabled(l)) return;
  auto now = std::chrono::steady_clock::now();
  auto found = repeats_.find(std::string(key));
  if (found == repeats_.end()) {
    // Bounded: forgetting old keys only means one extra line gets printed.
    if (repeats_.size() >= max_tracked_keys) repeats_.clear();
    repeats_.emplace(std::string(key), repeat_state{now, 0});
    write(l, component_, instance_, message);
    return;
  }
  repeat_state& state = found->second;
  if (now - state.last_printed < window_) {
    ++state.suppressed;
    suppressed_lines.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (state.suppressed > 0) {
    std::string with_count(message);
    with_count += " (" + std::to_string(state.suppressed) + " similar messages suppressed)";
    write(l, component_, instance_, with_count);
  } else {
    write(l, component_, instance_, message);
  }
  state.last_printed = now;
  state.suppressed = 0;
}

}  // namespace plant::log
