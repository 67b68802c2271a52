#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "tests/support/text_files.hpp"

namespace plant::test {

namespace {

std::string basename_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// O_EXCL picks a fresh pair of files, so a restarted process (the broker after
// restart()) never truncates what the earlier run wrote.
bool open_output_pair(const std::string& dir, const std::string& stem, int (&fds)[2], std::string (&paths)[2],
                      std::string& error) {
  for (int attempt = 1; attempt < 1000; ++attempt) {
    const std::string base = dir + "/" + stem + (attempt == 1 ? "" : "." + std::to_string(attempt));
    paths[0] = base + ".stdout";
    paths[1] = base + ".stderr";
    fds[0] = ::open(paths[0].c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fds[0] < 0) {
      if (errno == EEXIST) continue;
      error = "cannot create " + paths[0] + ": " + std::strerror(errno);
      return false;
    }
    fds[1] = ::open(paths[1].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fds[1] < 0) {
      error = "cannot create " + paths[1] + ": " + std::strerror(errno);
      ::close(fds[0]);
      return false;
    }
    return true;
  }
  error = "too many output files named " + dir + "/" + stem + ".*";
  return false;
}

}  // namespace

child_process::~child_process() { release(); }

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      name_(std::move(other.name_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)),
      status_(std::exchange(other.status_, std::nullopt)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    name_ = std::move(other.name_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

void child_process::release() {
  if (pid_ > 0 && !status_) kill9();
  pid_ = -1;
}

testing::AssertionResult child_process::start(const process_spec& spec) {
  if (pid_ > 0 && !status_) {
    return testing::AssertionFailure() << "child_process::start: " << describe() << " is still running";
  }
  if (spec.argv.empty()) return testing::AssertionFailure() << "child_process::start: empty argv";
  if (spec.output_dir.empty()) {
    return testing::AssertionFailure() << "child_process::start: no output_dir for '" << spec.argv[0] << "'";
  }
  pid_ = -1;
  status_.reset();
  name_ = spec.name.empty() ? basename_of(spec.argv[0]) : spec.name;

  int fds[2] = {-1, -1};
  std::string paths[2];
  std::string error;
  if (!open_output_pair(spec.output_dir, name_, fds, paths, error)) {
    return testing::AssertionFailure() << "cannot start '" << spec.argv[0] << "': " << error;
  }
  stdout_path_ = paths[0];
  stderr_path_ = paths[1];

  detail::spawn_request request;
  request.argv = spec.argv;
  request.env = spec.env;
  request.working_dir = spec.working_dir;
  request.stdout_fd = fds[0];
  request.stderr_fd = fds[1];
  const detail::spawn_outcome outcome = detail::spawn_process(request);
  ::close(fds[0]);
  ::close(fds[1]);
  if (outcome.pid < 0) return testing::AssertionFailure() << outcome.error;
  pid_ = outcome.pid;
  return testing::AssertionSuccess();
}

bool child_process::running() {
  if (pid_ <= 0 || status_) return false;
  exit_status ended;
  if (detail::try_reap(pid_, ended)) {
    status_ = ended;
    return false;
  }
  return true;
}

bool child_process::signal(int signo) {
  if (!running()) return false;
  return ::kill(pid_, signo) == 0;
}

exit_status child_process::kill9() {
  if (pid_ <= 0) return exit_status{};
  if (!status_) {
    // The group goes first, while the unreaped leader still pins the group id,
    // so grandchildren (a shell's children) cannot outlive the test.
    ::kill(-pid_, SIGKILL);
    status_ = detail::reap(pid_);
  }
  return *status_;
}

std::optional<exit_status> child_process::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Short polls first so that a quick exit is seen quickly; longer ones later
  // keep a long wait cheap on a 2-core machine.
  auto pause = std::chrono::milliseconds(1);
  while (running()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(10));
  }
  return status_;
}

exit_status child_process::terminate_and_wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status{};
  signal(SIGTERM);
  if (auto ended = wait(timeout)) return *ended;
  exit_status forced = kill9();
  forced.killed_after_timeout = true;
  status_ = forced;
  return forced;
}

std::string child_process::stdout_text() const { return stdout_path_.empty() ? std::string() : read_file(stdout_path_); }

std::string child_process::stderr_text() const { return stderr_path_.empty() ? std::string() : read_file(stderr_path_); }

std::string child_process::describe() const { return name_ + " (pid " + std::to_string(pid_) + ")"; }

}  // namespace plant::test
