#include "tests/support/postgres_server.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"

namespace plant::test {

namespace {

bool running_as_root() { return ::geteuid() == 0; }

}  // namespace

std::string postgres_bin_dir() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    if (std::filesystem::exists(bin / "initdb") && bin.string() > best) best = bin.string();
  }
  return best;
}

postgres_server::postgres_server() : dir_("pg"), port_(free_tcp_port()) {
  if (running_as_root()) {
    // The 'postgres' user must own the cluster folder (and be able to reach it).
    if (const passwd* pw = ::getpwnam("postgres")) {
      if (::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        // start() then fails with initdb's own message about the folder.
      }
    }
  }
}

postgres_server::~postgres_server() {
  if (running_) stop();
}

std::string postgres_server::run_as_owner(const std::vector<std::string>& argv, int& exit_code) const {
  std::vector<std::string> full;
  if (running_as_root()) full = {"runuser", "-u", "postgres", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  const command_result r = run_command(full, std::chrono::seconds(60));
  exit_code = r.exit_code;
  return r.describe();
}

std::string postgres_server::url() const { return "postgresql://plant@127.0.0.1:" + std::to_string(port_) + "/plant"; }

testing::AssertionResult postgres_server::start() {
  const std::string bin = postgres_bin_dir();
  if (bin.empty()) return testing::AssertionFailure() << "PostgreSQL is not installed (scripts/deps installs it)";
  const std::string data = dir_.path() + "/data";
  int code = 0;
  if (!initialized_) {
    // --no-sync and fsync=off: a test cluster need not survive a power cut of the test machine.
    const std::string out =
        run_as_owner({bin + "/initdb", "-D", data, "-A", "trust", "-U", "plant", "--no-sync", "-E", "UTF8"}, code);
    if (code != 0) return testing::AssertionFailure() << "initdb failed: " << out;
    initialized_ = true;
  }
  const std::string options = "-p " + std::to_string(port_) + " -k " + dir_.path() +
                              " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50";
  const std::string out = run_as_owner(
      {bin + "/pg_ctl", "-D", data, "-l", dir_.path() + "/server.log", "-o", options, "-w", "-t", "60", "start"},
      code);
  if (code != 0) return testing::AssertionFailure() << "pg_ctl start failed: " << out << "\n" << log_text();
  running_ = true;
  const command_result exists = run_command({"psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", std::to_string(port_),
                                             "-U", "plant", "-d", "postgres", "-c",
                                             "SELECT count(*) FROM pg_database WHERE datname = 'plant'"},
                                            std::chrono::seconds(30));
  if (!exists.ok()) return testing::AssertionFailure() << "psql failed: " << exists.describe();
  if (exists.stdout_text == "0\n") {
    const command_result r = run_command({"psql", "-X", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U",
                                          "plant", "-d", "postgres", "-c", "CREATE DATABASE plant"},
                                         std::chrono::seconds(30));
    if (!r.ok()) return testing::AssertionFailure() << "CREATE DATABASE failed: " << r.describe();
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult postgres_server::stop() {
  int code = 0;
  const std::string out =
      run_as_owner({postgres_bin_dir() + "/pg_ctl", "-D", dir_.path() + "/data", "-m", "fast", "-w", "stop"}, code);
  running_ = false;
  if (code != 0) return testing::AssertionFailure() << "pg_ctl stop failed: " << out;
  return testing::AssertionSuccess();
}

void postgres_server::kill9() {
  std::ifstream pid_file(dir_.path() + "/data/postmaster.pid");
  pid_t pid = 0;
  if (pid_file >> pid && pid > 0) ::kill(pid, SIGKILL);
  // The backends notice their postmaster is gone and exit; wait for the port to close.
  for (int i = 0; i < 200; ++i) {
    if (::kill(pid, 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  running_ = false;
}

std::string postgres_server::query(const std::string& sql) const {
  const command_result r = run_command({"psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U",
                                        "plant", "-d", "plant", "-v", "ON_ERROR_STOP=1", "-c", sql},
                                       std::chrono::seconds(60));
  if (!r.ok()) return "ERROR: " + r.stderr_text + r.stdout_text;
  return r.stdout_text;
}

std::string postgres_server::log_text() const { return read_file(dir_.path() + "/server.log"); }

}  // namespace plant::test
