#pragma once
/// fork/exec shared by child_process and run_command (not for direct use in tests).
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace plant::test {

/// How a finished process ended.
struct exit_status {
  /// True for a normal exit (then `code` is valid), false when a signal ended it.
  bool exited = false;
  /// The exit code for a normal exit; -1 otherwise.
  int code = -1;
  /// The signal that ended the process; 0 for a normal exit.
  int signal = 0;
  /// True when terminate_and_wait() had to send SIGKILL because SIGTERM was not enough.
  bool killed_after_timeout = false;

  /// True for a normal exit with code 0.
  bool success() const { return exited && code == 0; }
  /// "exit code 3" or "signal 9 (KILL)", plus a note about a forced kill.
  std::string describe() const;
  /// Decodes a waitpid() status.
  static exit_status from_wait_status(int status);
};

namespace detail {

/// What to start and where its standard streams go.
struct spawn_request {
  /// The program and its arguments; argv[0] is searched in PATH unless it has a '/'.
  std::vector<std::string> argv;
  /// Variables added to (or replacing those of) this process's environment.
  std::vector<std::pair<std::string, std::string>> env;
  /// The child's working directory; empty keeps ours.
  std::string working_dir;
  /// The descriptor that becomes the child's stdin; -1 means /dev/null.
  int stdin_fd = -1;
  /// The descriptor that becomes the child's stdout; -1 means /dev/null.
  int stdout_fd = -1;
  /// The descriptor that becomes the child's stderr; -1 means /dev/null.
  int stderr_fd = -1;
};

/// The result of spawn_process: a pid, or -1 and the reason.
struct spawn_outcome {
  /// The child's pid (also its process group id), or -1.
  pid_t pid = -1;
  /// Why it could not be started, naming the program.
  std::string error;
};

/// Starts the child in its own process group. Fails (with a message naming the
/// program) when the program is not found or exec() fails in the child.
spawn_outcome spawn_process(const spawn_request& request);

/// waitpid(pid, WNOHANG) with EINTR handled: true and `status` filled once the child has ended.
bool try_reap(pid_t pid, exit_status& status);
/// Blocking waitpid with EINTR handled.
exit_status reap(pid_t pid);

}  // namespace detail
}  // namespace plant::test
