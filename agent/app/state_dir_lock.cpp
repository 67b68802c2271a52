#include "agent/app/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "agent/app/application.hpp"
#include "common/core/file_access.hpp"

namespace plant::app {

namespace {


// "pid 1234 (plant-agent)" from the lock file's content and /proc, or "" when unknown.
std::string describe_holder(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return "";
  const long pid = std::strtol(text, nullptr, 10);
  if (pid <= 0) return "";
  std::string out = "pid " + std::to_string(pid);
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (std::getline(comm, name) && !name.empty()) out += " (" + name + ")";
  return out;
}

std::string access_fix(const std::string& dir) { return "make it writable by this user, e.g. " + chown_command(dir); }

}  // namespace

state_dir_lock::state_dir_lock(const std::string& state_dir) : path_(state_dir + "/plant-agent.lock") {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    throw startup_error("agent.state_dir: cannot create " + state_dir + ": " + ec.message() + "; " +
                        access_fix(std::filesystem::path(state_dir).parent_path().string()));
  }
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd_ < 0) {
    const int error = errno;
    throw startup_error("agent.state_dir: cannot open " + path_ + ": " + errno_text(error) + "; " +
                        access_fix(state_dir));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = describe_holder(fd_);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw startup_error("agent.state_dir " + state_dir + " is in use by another plant-agent" +
                          (holder.empty() ? "" : " (" + holder + ")") +
                          "; each agent needs a state directory of its own (set agent.state_dir)");
    }
    throw startup_error("agent.state_dir: cannot lock " + path_ + ": " + errno_text(error));
  }
  // Ours now: leave our pid for the next one to name.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock holds without the pid; a second agent is still refused, just less precisely.
  }
}

state_dir_lock::~state_dir_lock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace plant::app
