#include "tests/support/run_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace plant::test {

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::string command_result::describe() const {
  std::string text = "'" + command_line + "' -> ";
  if (timed_out) {
    text += "timed out";
  } else if (exit_code < 0) {
    text += "not started";
  } else {
    text += "exit code " + std::to_string(exit_code);
  }
  if (!stderr_text.empty()) text += "; stderr: " + stderr_text;
  if (!stdout_text.empty()) text += "; stdout: " + stdout_text;
  return text;
}

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const std::string& stdin_text) {
  command_result result;
  for (const auto& arg : argv) result.command_line += (result.command_line.empty() ? "" : " ") + arg;

  int in_pipe[2] = {-1, -1};
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.stderr_text = std::string("cannot create pipes: ") + std::strerror(errno);
    for (int* fd : {&in_pipe[0], &in_pipe[1], &out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1]}) close_fd(*fd);
    return result;
  }
  detail::spawn_request request;
  request.argv = argv;
  request.stdin_fd = in_pipe[0];
  request.stdout_fd = out_pipe[1];
  request.stderr_fd = err_pipe[1];
  const detail::spawn_outcome outcome = detail::spawn_process(request);
  close_fd(in_pipe[0]);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (outcome.pid < 0) {
    for (int* fd : {&in_pipe[1], &out_pipe[0], &err_pipe[0]}) close_fd(*fd);
    result.stderr_text = outcome.error;
    return result;
  }

  // Non-blocking stdin: a tool that stops reading must not block us past the deadline.
  ::fcntl(in_pipe[1], F_SETFL, ::fcntl(in_pipe[1], F_GETFL) | O_NONBLOCK);
  std::size_t written = 0;
  if (stdin_text.empty()) close_fd(in_pipe[1]);
  // A tool that exits without reading its input must not kill us with SIGPIPE.
  struct sigaction ignore {};
  struct sigaction previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
    const int ready = ::poll(fds, 3, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[65536];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        (i == 0 ? result.stdout_text : result.stderr_text).append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close_fd(i == 0 ? out_pipe[0] : err_pipe[0]);
      }
    }
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      const ssize_t put = ::write(in_pipe[1], stdin_text.data() + written, stdin_text.size() - written);
      if (put > 0) written += static_cast<std::size_t>(put);
      if ((put < 0 && errno != EINTR && errno != EAGAIN) || written == stdin_text.size()) close_fd(in_pipe[1]);
    }
  }
  for (int* fd : {&in_pipe[1], &out_pipe[0], &err_pipe[0]}) close_fd(*fd);
  ::sigaction(SIGPIPE, &previous, nullptr);

  if (result.timed_out) {
    ::kill(-outcome.pid, SIGKILL);
    detail::reap(outcome.pid);
    result.exit_code = -1;
    return result;
  }
  // Both streams are at EOF, so the tool is exiting or has handed them to a
  // daemon; the latter would block here, so the deadline still applies.
  exit_status status;
  while (!detail::try_reap(outcome.pid, status)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-outcome.pid, SIGKILL);
      detail::reap(outcome.pid);
      result.timed_out = true;
      return result;
    }
    ::usleep(1000);
  }
  result.exit_code = status.exited ? status.code : (status.signal > 0 ? 128 + status.signal : -1);
  return result;
}

}  // namespace plant::test
