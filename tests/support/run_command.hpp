#pragma once
/// Runs a short tool (openssl, mosquitto_pub, mosquitto_sub -C, curl) to completion
/// and captures its output.
#include <chrono>
#include <string>
#include <vector>

#include "tests/support/process_spawn.hpp"

namespace plant::test {

/// What run_command saw.
struct command_result {
  /// The exit code; 128 + signal if a signal ended it; -1 if it could not start or timed out.
  int exit_code = -1;
  /// Everything written to stdout.
  std::string stdout_text;
  /// Everything written to stderr (or why the program could not be started).
  std::string stderr_text;
  /// True when the timeout expired and the process group was killed.
  bool timed_out = false;

  /// True for exit code 0.
  bool ok() const { return exit_code == 0; }
  /// "'openssl req ...' -> exit code 1; stderr: ...", for failure messages.
  std::string describe() const;
  /// The command line, space-separated, for describe().
  std::string command_line;
};

/// Runs `argv` with stdin fed from `stdin_text`, waits at most `timeout`, then kills
/// the process group. The streams are read concurrently, so chatty tools cannot block.
/// Beware `mosquitto_pub -l` with large inputs: at EOF it disconnects before its
/// QoS 1 backlog is sent (100k lines delivered ~34k here, exit code 0; 50k were fine).
command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const std::string& stdin_text = {});

}  // namespace plant::test
