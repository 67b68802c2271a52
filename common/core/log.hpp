#pragma once
/// Logging to stderr, one line per event, with a `[component:instance]` prefix.
/// Under systemd (JOURNAL_STREAM set) lines carry sd-daemon `<N>` priority
/// prefixes instead of timestamps, so journald files them at the right level.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace plant::log {

enum class level : int { debug = 0, info = 1, warn = 2, error = 3 };

/// Longest message printed; longer ones are cut with "...".
inline constexpr std::size_t max_message_bytes = 4096;

/// Lines below this level are not printed.
void set_level(level l);
/// True when a line at `l` would be printed; check before building costly messages.
bool enabled(level l);
/// Prints one line; thread-safe.
void write(level l, std::string_view component, std::string_view instance, std::string_view message);
/// Lines suppressed by rate limiting since start, over all loggers.
std::uint64_t suppressed_total();

/// A component's logger. Repeats of the same rate-limited message are printed at
/// most once per window, and the next printed one says how many were suppressed,
/// so a dead device or a full disk cannot flood the journal.
class logger {
 public:
  explicit logger(std::string component, std::string instance = "");

  void debug(std::string_view message) const;
  void info(std::string_view message) const;
  void warn(std::string_view message) const;
  void error(std::string_view message) const;

  /// Prints `message` unless a message with the same `key` was printed within the window.
  void limited(level l, std::string_view key, std::string_view message);
  /// The window used by limited(); default 60 s.
  void set_window(std::chrono::steady_clock::duration window) { window_ = window; }

  const std::string& component() const { return component_; }
  const std::string& instance() const { return instance_; }

 private:
  struct repeat_state {
    std::chrono::steady_clock::time_point last_printed;
    std::uint64_t suppressed = 0;
  };
  static constexpr std::size_t max_tracked_keys = 256;

  std::string component_;
  std::string instance_;
  std::chrono::steady_clock::duration window_ = std::chrono::seconds(60);
  std::unordered_map<std::string, repeat_state> repeats_;
};

}  // namespace plant::log
