#include "tests/support/mosquitto_broker.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <sstream>

#include "tests/support/binaries.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {

namespace {

constexpr std::chrono::seconds start_deadline{10};
constexpr int port_attempts = 3;

std::string current_user() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry != nullptr ? entry->pw_name : "";
}

}  // namespace

broker_tls broker_tls::from(const test_pki& pki, bool require_certificate) {
  return broker_tls{pki.ca_cert, pki.server_cert, pki.server_key, require_certificate};
}

mosquitto_broker::mosquitto_broker(broker_options options)
    : dir_("plant-mosquitto"), options_(std::move(options)), port_(free_tcp_port()) {}

std::string mosquitto_broker::url() const {
  return std::string(options_.tls ? "ssl" : "tcp") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> mosquitto_broker::client_args() const {
  std::vector<std::string> args = {"-h", host(), "-p", std::to_string(port_)};
  if (options_.tls) args.insert(args.end(), {"--cafile", options_.tls->cafile});
  return args;
}

std::string mosquitto_broker::log_text() const { return read_file(log_path()); }

bool mosquitto_broker::has_subscription(const std::string& client_id, const std::string& topic_filter) const {
  // Mosquitto logs a subscription as "<time>: <client id> <qos> <filter>".
  const std::string log = log_text();
  for (const char* qos : {"0", "1", "2"}) {
    if (log.find(": " + client_id + " " + qos + " " + topic_filter + "\n") != std::string::npos) return true;
  }
  return false;
}

bool mosquitto_broker::running() { return process_.running(); }

std::string mosquitto_broker::config_text() const {
  std::ostringstream conf;
  conf << "# written by plant::test::mosquitto_broker\n";
  // Started as root, mosquitto would switch to the 'mosquitto' user, which cannot
  // enter our 0700 temp dir; naming the current user keeps it as it is.
  const std::string user = current_user();
  if (!user.empty()) conf << "user " << user << "\n";
  conf << "per_listener_settings false\n";
  if (!options_.users.empty()) {
    conf << "allow_anonymous false\n";
    conf << "password_file " << password_file() << "\n";
  } else {
    conf << "allow_anonymous " << (options_.allow_anonymous ? "true" : "false") << "\n";
  }
  if (options_.persistence) {
    conf << "persistence true\n";
    // The trailing slash matters: mosquitto appends the file name to it as is.
    conf << "persistence_location " << dir_.path() << "/\n";
    conf << "persistence_file mosquitto.db\n";
    conf << "autosave_interval " << options_.autosave_interval_s << "\n";
  } else {
    conf << "persistence false\n";
  }
  conf << "max_inflight_messages " << options_.max_inflight_messages << "\n";
  conf << "max_queued_messages " << options_.max_queued_messages << "\n";
  conf << "log_dest file " << log_path() << "\n";
  // `subscribe` lets tests wait until a client's subscription is in place
  // (has_subscription) instead of guessing, since clients do not say so on stdout.
  conf << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\n";
  if (std::getenv("PLANT_BROKER_DEBUG")) conf << "log_type debug\n";
  conf << "log_timestamp_format %Y-%m-%dT%H:%M:%S\n";
  conf << "connection_messages true\n";
  for (const auto& line : options_.extra_config) conf << line << "\n";
  conf << "listener " << port_ << " 127.0.0.1\n";
  if (options_.tls) {
    conf << "cafile " << options_.tls->cafile << "\n";
    conf << "certfile " << options_.tls->certfile << "\n";
    conf << "keyfile " << options_.tls->keyfile << "\n";
    conf << "require_certificate " << (options_.tls->require_certificate ? "true" : "false") << "\n";
    if (options_.tls->use_identity_as_username) conf << "use_identity_as_username true\n";
  }
  return conf.str();
}

testing::AssertionResult mosquitto_broker::write_password_file() {
  bool first = true;
  for (const auto& user : options_.users) {
    std::vector<std::string> args = {"mosquitto_passwd", "-b"};
    if (first) args.push_back("-c");
    args.insert(args.end(), {password_file(), user.name, user.password});
    const command_result result = run_command(args, std::chrono::seconds(10));
    if (!result.ok()) return testing::AssertionFailure() << "mosquitto_broker: " << result.describe();
    first = false;
  }
  return testing::AssertionSuccess();
}

std::string mosquitto_broker::diagnostics() const {
  std::ostringstream text;
  text << "\n--- " << config_path() << " ---\n" << read_file(config_path());
  text << "--- " << log_path() << " ---\n" << log_text();
  text << "--- mosquitto stderr ---\n" << process_.stderr_text();
  return text.str();
}

testing::AssertionResult mosquitto_broker::start() {
  if (process_.running()) return testing::AssertionFailure() << "mosquitto_broker::start: already running";
  if (!started_once_ && !options_.users.empty()) {
    if (auto made = write_password_file(); !made) return made;
  }
  for (int attempt = 1;; ++attempt) {
    testing::AssertionResult started = start_once();
    if (started) {
      started_once_ = true;
      return started;
    }
    // free_tcp_port() can race with another process taking the port; before the
    // first successful start nobody depends on the port yet, so take another one.
    const bool port_taken = log_text().find("Address already in use") != std::string::npos ||
                            process_.stderr_text().find("Address already in use") != std::string::npos;
    if (started_once_ || !port_taken || attempt == port_attempts) return started;
    port_ = free_tcp_port();
  }
}

testing::AssertionResult mosquitto_broker::start_once() {
  if (port_ == 0) return testing::AssertionFailure() << "mosquitto_broker: no free TCP port on 127.0.0.1";
  if (auto written = write_file(config_path(), config_text()); !written) return written;
  // Only the log written by this run counts: the file is appended across restarts.
  const std::size_t log_offset = log_text().size();
  process_spec spec;
  spec.argv = {mosquitto_binary(), "-c", config_path()};
  spec.output_dir = dir_.path();
  spec.name = "mosquitto";
  if (auto spawned = process_.start(spec); !spawned) return spawned;

  bool exited = false;
  const bool ready = wait_until(
      [&] {
        if (!process_.running()) {
          exited = true;
          return true;
        }
        const std::string log = log_text();
        return log.size() > log_offset && log.find(" running", log_offset) != std::string::npos &&
               tcp_port_accepts(port_);
      },
      start_deadline, std::chrono::milliseconds(10));
  if (ready && !exited) return testing::AssertionSuccess();
  std::string why = exited ? "mosquitto exited with " + process_.status()->describe()
                           : "mosquitto did not accept connections on 127.0.0.1:" + std::to_string(port_) +
                                 " within " + std::to_string(start_deadline.count()) + " s";
  process_.kill9();
  return testing::AssertionFailure() << "mosquitto_broker::start: " << why << diagnostics();
}

testing::AssertionResult mosquitto_broker::stop(std::chrono::milliseconds timeout) {
  if (!process_.running()) {
    return testing::AssertionFailure() << "mosquitto_broker::stop: not running"
                                       << (process_.status() ? " (it ended with " + process_.status()->describe() + ")"
                                                             : std::string());
  }
  process_.signal(SIGCONT);  // a suspend()ed broker would not see SIGTERM
  const exit_status status = process_.terminate_and_wait(timeout);
  if (status.success()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "mosquitto_broker::stop: mosquitto ended with " << status.describe()
                                     << diagnostics();
}

testing::AssertionResult mosquitto_broker::restart() {
  if (auto stopped = stop(); !stopped) return stopped;
  return start();
}

exit_status mosquitto_broker::kill9() { return process_.kill9(); }

bool mosquitto_broker::suspend() { return process_.signal(SIGSTOP); }

bool mosquitto_broker::resume() { return process_.signal(SIGCONT); }

bool mosquitto_broker::reload() { return process_.signal(SIGHUP); }

}  // namespace plant::test
