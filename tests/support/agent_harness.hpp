#pragma once
/// Runs the real plant-agent and plant-watch binaries for integration tests:
/// writes a config into a temp dir, starts the process with its output in
/// files, and offers the waits those tests need.
#include <chrono>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::test {

/// A minimal valid agent config: [agent] with `id`, `site`, `state_dir`, and
/// [mqtt] with `url`; `extra` is appended verbatim (more keys, sources).
std::string agent_config_text(const std::string& id, const std::string& site, const std::string& state_dir,
                              const std::string& url, const std::string& mqtt_extra = "",
                              const std::string& extra = "");

/// One plant-agent process.
class agent_process {
 public:
  /// Writes `config_text` to `<dir>/<name>.toml`.
  agent_process(const temp_dir& dir, std::string name, const std::string& config_text);
  /// Starts plant-agent --config FILE plus `args`.
  testing::AssertionResult start(const std::vector<std::string>& args = {});
  /// Later starts run the agent as `user` (group nogroup) through setpriv: needs root.
  void run_as(const std::string& user) { user_ = user; }
  /// Later starts add (or replace) this environment variable.
  void set_env(const std::string& name, const std::string& value) { env_.emplace_back(name, value); }
  /// The agent's log (stderr).
  std::string log() const { return process_.stderr_text(); }
  const std::string& config_path() const { return config_path_; }
  child_process& process() { return process_; }
  /// Waits until the log contains `text`.
  testing::AssertionResult wait_for_log(const std::string& text, std::chrono::milliseconds timeout);

 private:
  const temp_dir& dir_;
  std::string name_;
  std::string config_path_;
  std::string user_;
  std::vector<std::pair<std::string, std::string>> env_;
  child_process process_;
};

/// One plant-watch process; `args` are passed as given after --url.
class watch_process {
 public:
  watch_process(const temp_dir& dir, std::string name);
  testing::AssertionResult start(const std::string& url, const std::vector<std::string>& args);
  std::string output() const { return process_.stdout_text(); }
  std::string errors() const { return process_.stderr_text(); }
  child_process& process() { return process_; }
  /// The JSON lines printed so far.
  std::vector<std::string> json() const;
  /// The JSON lines printed so far whose "kind" is `kind` (telemetry, status, alert).
  std::vector<std::string> of_kind(const std::string& kind) const;
  /// The `{"audit":...}` line for `agent`, empty when not (yet) printed.
  std::string audit_line(const std::string& agent) const;

 private:
  const temp_dir& dir_;
  std::string name_;
  child_process process_;
};

/// Runs `plant-agent args...` to completion (e.g. --check-config) and returns its result.
struct agent_command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};
agent_command_result run_agent(const std::vector<std::string>& args, std::chrono::milliseconds timeout);

}  // namespace plant::test
