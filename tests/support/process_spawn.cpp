#include "tests/support/process_spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace plant::test {

std::string exit_status::describe() const {
  std::string text;
  if (exited) {
    text = "exit code " + std::to_string(code);
  } else if (signal == 0) {
    text = "unknown exit status (the process was reaped elsewhere)";
  } else {
    const char* name = ::sigabbrev_np(signal);
    text = "signal " + std::to_string(signal) + " (" + (name != nullptr ? name : "?") + ")";
  }
  if (killed_after_timeout) text += ", killed with SIGKILL after SIGTERM timed out";
  return text;
}

exit_status exit_status::from_wait_status(int status) {
  exit_status result;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

namespace detail {

namespace {

// What the child writes into the error pipe when it cannot get as far as exec().
struct child_failure {
  int stage;
  int error;
};
constexpr int stage_chdir = 1;
constexpr int stage_dup = 2;
constexpr int stage_exec = 3;

std::vector<std::string> merged_environment(const std::vector<std::pair<std::string, std::string>>& additions) {
  // std::map keeps the child's environment free of duplicate names, which getenv
  // implementations resolve differently.
  std::map<std::string, std::string> variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const auto equals = text.find('=');
    if (equals == std::string::npos) continue;
    variables[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [name, value] : additions) variables[name] = value;
  std::vector<std::string> result;
  result.reserve(variables.size());
  for (const auto& [name, value] : variables) result.push_back(name + "=" + value);
  return result;
}

std::string find_program(const std::string& program, const std::vector<std::string>& environment,
                         std::string& error) {
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) != 0) {
      error = "cannot start '" + program + "': " + std::strerror(errno);
      return {};
    }
    return program;
  }
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& entry : environment) {
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  }
  // Daemons such as mosquitto live in sbin, which a non-root PATH often lacks.
  const std::string search = path + ":/usr/local/sbin:/usr/sbin:/sbin";
  std::size_t begin = 0;
  while (begin <= search.size()) {
    const std::size_t end = std::min(search.find(':', begin), search.size());
    const std::string dir = search.substr(begin, end - begin);
    if (!dir.empty()) {
      const std::string candidate = dir + "/" + program;
      struct stat info {};
      if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    begin = end + 1;
  }
  error = "cannot start '" + program + "': not found in PATH (" + path + ")";
  return {};
}

// Only async-signal-safe calls from here on: the test process may have threads.
[[noreturn]] void run_child(const char* program, char* const* argv, char* const* envp, const char* working_dir,
                            const int (&fds)[3], int error_fd) {
  ::setpgid(0, 0);
  // Dispositions set to SIG_IGN and the signal mask survive exec(); the child must
  // start with the defaults so that SIGTERM and SIGPIPE behave as in production.
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int signo : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
    ::sigaction(signo, &defaults, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  child_failure failure{0, 0};
  for (int target = 0; target < 3 && failure.stage == 0; ++target) {
    if (fds[target] == target) {
      // dup2 onto itself would keep FD_CLOEXEC and exec() would close the stream.
      if (::fcntl(target, F_SETFD, 0) != 0) failure = {stage_dup, errno};
    } else if (::dup2(fds[target], target) < 0) {
      failure = {stage_dup, errno};
    }
  }
  if (failure.stage == 0 && working_dir != nullptr && ::chdir(working_dir) != 0) failure = {stage_chdir, errno};
  if (failure.stage == 0) {
    ::execve(program, argv, envp);
    failure = {stage_exec, errno};
  }
  ssize_t written;
  do {
    written = ::write(error_fd, &failure, sizeof failure);
  } while (written < 0 && errno == EINTR);
  ::_exit(127);
}

}  // namespace

spawn_outcome spawn_process(const spawn_request& request) {
  spawn_outcome outcome;
  if (request.argv.empty()) {
    outcome.error = "cannot start a process: empty argv";
    return outcome;
  }
  const std::vector<std::string> environment = merged_environment(request.env);
  const std::string program = find_program(request.argv[0], environment, outcome.error);
  if (program.empty()) return outcome;

  std::vector<char*> argv;
  for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  const int dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (dev_null < 0) {
    outcome.error = std::string("cannot open /dev/null: ") + std::strerror(errno);
    return outcome;
  }
  const int fds[3] = {request.stdin_fd >= 0 ? request.stdin_fd : dev_null,
                      request.stdout_fd >= 0 ? request.stdout_fd : dev_null,
                      request.stderr_fd >= 0 ? request.stderr_fd : dev_null};
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    outcome.error = std::string("cannot create a pipe: ") + std::strerror(errno);
    ::close(dev_null);
    return outcome;
  }

  const pid_t pid = ::fork();
  if (pid == 0) {
    run_child(program.c_str(), argv.data(), envp.data(),
              request.working_dir.empty() ? nullptr : request.working_dir.c_str(), fds, error_pipe[1]);
  }
  const int fork_error = errno;
  ::close(error_pipe[1]);
  ::close(dev_null);
  if (pid < 0) {
    ::close(error_pipe[0]);
    outcome.error = "cannot start '" + program + "': fork: " + std::strerror(fork_error);
    return outcome;
  }
  // Both sides call setpgid so that the group exists before either of us relies on it;
  // EACCES here only means the child has already exec'd.
  ::setpgid(pid, pid);

  // The pipe is closed by a successful exec() (O_CLOEXEC), so EOF means "running".
  child_failure failure{0, 0};
  ssize_t got;
  do {
    got = ::read(error_pipe[0], &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    reap(pid);
    std::string what = "exec";
    if (failure.stage == stage_chdir) what = "chdir to '" + request.working_dir + "'";
    if (failure.stage == stage_dup) what = "redirecting its output";
    outcome.error = "cannot start '" + program + "': " + what + ": " + std::strerror(failure.error);
    return outcome;
  }
  outcome.pid = pid;
  return outcome;
}

bool try_reap(pid_t pid, exit_status& status) {
  int raw = 0;
  pid_t rc;
  do {
    rc = ::waitpid(pid, &raw, WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc == pid) {
    status = exit_status::from_wait_status(raw);
    return true;
  }
  if (rc < 0) {
    // ECHILD: someone else reaped it (a SIGCHLD handler set to SIG_IGN does that);
    // the real status is lost, so say so instead of pretending it still runs.
    status = exit_status{};
    return true;
  }
  return false;
}

exit_status reap(pid_t pid) {
  int raw = 0;
  pid_t rc;
  do {
    rc = ::waitpid(pid, &raw, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc == pid) return exit_status::from_wait_status(raw);
  return exit_status{};
}

}  // namespace detail
}  // namespace plant::test
