#include "tests/support/agent_harness.hpp"

#include "tests/support/binaries.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {

std::string agent_config_text(const std::string& id, const std::string& site, const std::string& state_dir,
                              const std::string& url, const std::string& mqtt_extra, const std::string& extra) {
  return "[agent]\nid = \"" + id + "\"\nsite = \"" + site + "\"\nstate_dir = \"" + state_dir +
         "\"\nheartbeat_interval = \"1s\"\n\n[mqtt]\nurl = \"" + url +
         "\"\nreconnect_min_delay = \"100ms\"\nreconnect_max_delay = \"1s\"\n" + mqtt_extra + "\n" + extra + "\n";
}

agent_process::agent_process(const temp_dir& dir, std::string name, const std::string& config_text)
    : dir_(dir), name_(std::move(name)), config_path_(dir.file(name_ + ".toml")) {
  write_file(config_path_, config_text);
}

testing::AssertionResult agent_process::start(const std::vector<std::string>& args) {
  process_spec spec;
  if (!user_.empty()) spec.argv = {"setpriv", "--reuid=" + user_, "--regid=nogroup", "--clear-groups"};
  spec.argv.insert(spec.argv.end(), {agent_binary(), "--config", config_path_});
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output_dir = dir_.path();
  spec.name = name_;
  spec.env = env_;
  return process_.start(spec);
}

testing::AssertionResult agent_process::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
  if (wait_until([&] { return log().find(text) != std::string::npos; }, timeout)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "agent log never showed '" << text << "'; log:\n" << log();
}

watch_process::watch_process(const temp_dir& dir, std::string name) : dir_(dir), name_(std::move(name)) {}

testing::AssertionResult watch_process::start(const std::string& url, const std::vector<std::string>& args) {
  process_spec spec;
  spec.argv = {watch_binary(), "--url", url};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output_dir = dir_.path();
  spec.name = name_;
  return process_.start(spec);
}

std::vector<std::string> watch_process::json() const { return json_lines(output()); }

std::vector<std::string> watch_process::of_kind(const std::string& kind) const {
  std::vector<std::string> found;
  for (const auto& line : json()) {
    if (json_string(line, "kind") == kind) found.push_back(line);
  }
  return found;
}

std::string watch_process::audit_line(const std::string& agent) const {
  for (const auto& line : json()) {
    if (line.rfind("{\"audit\":", 0) == 0 && json_string(line, "agent") == agent) return line;
  }
  return {};
}

agent_command_result run_agent(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{agent_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = run_command(argv, timeout);
  return agent_command_result{result.exit_code, result.stdout_text, result.stderr_text};
}

}  // namespace plant::test
