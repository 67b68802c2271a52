#pragma once
/// A real process started by a test (mosquitto, plant-agent, plant-watch, socat):
/// its stdout and stderr go to files so the test can read them while it runs, it
/// gets its own process group, and whatever still runs when the object dies is
/// killed with SIGKILL and reaped.
///
/// Output goes to a file, so the child's stdio is block-buffered unless it flushes:
/// a program whose lines a test waits for must flush per line (or be run under
/// `stdbuf -oL`). mosquitto_sub flushes each message but not its -d debug lines;
/// wait for a subscription with mosquitto_broker::has_subscription instead.
#include <sys/types.h>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process_spawn.hpp"

namespace plant::test {

/// What child_process::start runs.
struct process_spec {
  /// The program and its arguments; argv[0] is searched in PATH (plus the sbin dirs) unless it has a '/'.
  std::vector<std::string> argv;
  /// Variables added to (or replacing those of) the test's environment.
  std::vector<std::pair<std::string, std::string>> env;
  /// The child's working directory; empty keeps the test's.
  std::string working_dir;
  /// Where `<name>.stdout` and `<name>.stderr` are written (required).
  std::string output_dir;
  /// The file stem; empty means the basename of argv[0]. A taken name gets a `.2`, `.3`... suffix.
  std::string name;
};

class child_process {
 public:
  child_process() = default;
  /// Kills the process group with SIGKILL if the process was not reaped yet, then reaps it.
  ~child_process();
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Starts the process; fails with the reason when the program is missing or exec() fails.
  testing::AssertionResult start(const process_spec& spec);

  /// The process id (also its process group id); -1 before start().
  pid_t pid() const { return pid_; }
  /// True while the process has not ended; reaps it when it has.
  bool running();
  /// Sends `signo` to the process itself (not its group); false if it has ended.
  bool signal(int signo);
  /// SIGKILL to the whole process group, then reaps the process; returns how it ended.
  exit_status kill9();
  /// SIGTERM, then waits up to `timeout`; after that SIGKILL to the group (noted in the status).
  exit_status terminate_and_wait(std::chrono::milliseconds timeout);
  /// Waits up to `timeout` for the process to end; nullopt if it still runs.
  std::optional<exit_status> wait(std::chrono::milliseconds timeout);
  /// How the process ended, once it has been seen to end.
  const std::optional<exit_status>& status() const { return status_; }

  /// Everything the process has written to stdout so far.
  std::string stdout_text() const;
  /// Everything the process has written to stderr so far.
  std::string stderr_text() const;
  /// The file receiving stdout.
  const std::string& stdout_path() const { return stdout_path_; }
  /// The file receiving stderr.
  const std::string& stderr_path() const { return stderr_path_; }
  /// "name (pid N)", for failure messages.
  std::string describe() const;

 private:
  void release();

  pid_t pid_ = -1;
  std::string name_;
  std::string stdout_path_;
  std::string stderr_path_;
  std::optional<exit_status> status_;
};

}  // namespace plant::test
