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
#include "tests/support/http_probe.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

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

// One register instance with its own state dir, API port and client id.
struct register_instance {
  register_instance(const temp_dir& dir, const std::string& name, const std::string& broker_url,
                    const std::string& database_url, const std::string& extra = "")
      : port(free_tcp_port()),
        process(dir, name, register_config_text(dir.file(name + "-state"), broker_url, database_url, port, name,
                                                extra)) {}
  std::uint16_t port;
  register_process process;

  std::string get(const std::string& path) const {
    auto reply = http_get(port, path, std::chrono::seconds(10));
    return reply ? reply->body : std::string();
  }
  int status(const std::string& path) const {
    auto reply = http_get(port, path, std::chrono::seconds(10));
    return reply ? reply->status : 0;
  }
  testing::AssertionResult start_and_wait() {
    auto started = process.start();
    if (!started) return started;
    return wait_until([&] { return status("/healthz") == 200; }, std::chrono::seconds(20))
               ? testing::AssertionSuccess()
               : testing::AssertionFailure() << "register never became healthy: " << get("/healthz") << "\n"
                                             << process.log();
  }
};

// The broker, the database and a temp dir for everything else.
struct central_stack {
  central_stack() : dir("central") {}
  testing::AssertionResult start() {
    auto pg_started = pg.start();
    if (!pg_started) return pg_started;
    return broker.start();
  }
  temp_dir dir;
  postgres_server pg;
  mosquitto_broker broker;
};

/// The elements of a top-level JSON array, each as its own text ("" items for "[]").
std::vector<std::string> json_array_items(const std::string& text);
/// The value text of `key` at the top level of a JSON object ("" when absent).
std::string json_member(const std::string& object, const std::string& key);
/// A JSON string's text without its quotes (escapes are left as they are); other values as given.
inline std::string unquoted(const std::string& json_text) {
  return json_text.size() >= 2 && json_text.front() == '"' ? json_text.substr(1, json_text.size() - 2) : json_text;
}

}  // namespace plant::test
