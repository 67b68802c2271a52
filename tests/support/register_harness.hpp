#pragma once
/// Runs the real plant-register binary for integration tests, and reads its
/// JSON API.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::test {

/// A register config: its own state_dir under `dir`, the broker, the database, the API port.
std::string register_config_text(const std::string& state_dir, const std::string& broker_url,
                                 const std::string& database_url, std::uint16_t http_port,
                                 const std::string& client_id, const std::string& extra = "");

/// Absolute path of the plant-register binary of this build.
std::string register_binary();

class register_process {
 public:
  /// Writes `config_text` to `<dir>/<name>.toml`.
  register_process(const temp_dir& dir, std::string name, const std::string& config_text);
  testing::AssertionResult start(const std::vector<std::string>& args = {});
  std::string log() const { return process_.stderr_text(); }
  child_process& process() { return process_; }
  const std::string& config_path() const { return config_path_; }
  testing::AssertionResult wait_for_log(const std::string& text, std::chrono::milliseconds timeout);

 private:
  const temp_dir& dir_;
  std::string name_;
  std::string config_path_;
  child_process process_;
};

/// The elements of a top-level JSON array, each as its own text ("" items for "[]").
std::vector<std::string> json_array_items(const std::string& text);
/// The value text of `key` at the top level of a JSON object ("" when absent).
std::string json_member(const std::string& object, const std::string& key);

}  // namespace plant::test
