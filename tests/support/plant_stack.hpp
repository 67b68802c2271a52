#pragma once
/// The stack most integration tests stand up: a real Mosquitto, and a
/// persistent `plant-watch --json --audit` session subscribed before any agent
/// publishes, so its audit line at the end is the proof of what arrived. The
/// agents themselves vary per test and are started by it (agent_process).
#include <chrono>
#include <string>
#include <vector>

#include "tests/support/agent_harness.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::test {

class plant_stack {
 public:
  /// `name` names the temp dir and the audit session's client id.
  explicit plant_stack(const std::string& name, broker_options options = {});

  /// Starts the broker and the audit session and waits until it has subscribed;
  /// `watch_args` are added to the watch's (credentials, for a broker with users).
  testing::AssertionResult start(std::chrono::seconds watch_duration = std::chrono::seconds(600),
                                 const std::vector<std::string>& watch_args = {});

  temp_dir& dir() { return dir_; }
  mosquitto_broker& broker() { return broker_; }
  watch_process& watch() { return watch_; }
  /// `<dir>/state`, the agents' state_dir.
  std::string state_dir() const { return dir_.file("state"); }

  /// How many status lines the watch has printed: pass it to drained_since() to
  /// wait for a drain reported after this moment.
  std::size_t status_mark() const;
  /// True when an online status printed after the first `mark` status lines
  /// reports an empty backlog, or one whose oldest message is under a second old:
  /// the agent has delivered everything that waited (what is live is in flight).
  /// Older lines and Last Wills (which carry no backlog) do not count.
  bool drained_since(std::size_t mark) const;

  /// Stops `agent` with SIGTERM (failing the test if that takes over `stop_timeout`),
  /// waits for its offline status, ends the watch and returns the audit line for
  /// `agent_id` (empty when the watch printed none).
  std::string finish_and_audit(agent_process& agent, const std::string& agent_id,
                               std::chrono::milliseconds stop_timeout = std::chrono::seconds(20));

 private:
  temp_dir dir_;
  mosquitto_broker broker_;
  std::string client_id_;
  watch_process watch_;
};

}  // namespace plant::test
