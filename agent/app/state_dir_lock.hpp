#pragma once
/// One agent per state directory. Two agents on one state_dir would reuse each
/// other's sequence numbers, fight over the CSV seen-state and the MQTT client
/// id; the second one must not start. The lock is an flock on
/// `<state_dir>/plant-agent.lock`, which also holds the owner's pid so the
/// refusal can name it. The kernel drops the lock when the process dies, so a
/// crash never leaves a stale lock behind.
#include <string>

namespace plant::app {

class state_dir_lock {
 public:
  /// Creates `state_dir` if needed and takes the lock. Throws startup_error when another
  /// process holds it (naming its pid) or when the directory cannot be written (naming the fix).
  explicit state_dir_lock(const std::string& state_dir);
  ~state_dir_lock();
  state_dir_lock(const state_dir_lock&) = delete;
  state_dir_lock& operator=(const state_dir_lock&) = delete;

  /// The lock file.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace plant::app
