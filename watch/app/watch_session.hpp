#pragma once
/// One plant-watch run: the main thread's event loop (Asio), the broker
/// connection and its retries, the hand-over queue, and the output modes.
#include <cstdio>
#include <memory>
#include <string>

#include "watch/app/watch_options.hpp"

namespace plant::watch {

class watch_session {
 public:
  /// A run with validated options; `password` was read from --password-file. Writes to `out` and `err`.
  watch_session(watch_options options, std::string password, std::FILE* out, std::FILE* err);
  ~watch_session();
  watch_session(const watch_session&) = delete;
  watch_session& operator=(const watch_session&) = delete;

  /// Runs until --count, --duration, SIGINT or SIGTERM (or stdout closes); returns the exit code.
  /// Throws std::runtime_error when the MQTT client cannot be created.
  int run();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/// "plant-watch-<host>-<pid>": unique enough for a clean session.
std::string default_client_id();

}  // namespace plant::watch
