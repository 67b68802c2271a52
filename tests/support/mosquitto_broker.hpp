#pragma once
/// A real Mosquitto 2.0 broker for one test, configured from scratch in its own
/// temp dir: a loopback listener on a free port, persistence (so stop()/start()
/// keeps persistent sessions and their queued QoS 1 messages; SIGTERM makes
/// mosquitto save its database), a log file, and optionally a password file and TLS.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

namespace plant::test {

/// TLS on the broker's listener; the files are PEM paths.
struct broker_tls {
  /// The CA that clients' certificates must chain to (and that clients use to check the broker).
  std::string cafile;
  /// The broker's certificate.
  std::string certfile;
  /// The broker's private key.
  std::string keyfile;
  /// Mutual TLS: clients must present a certificate signed by `cafile`.
  bool require_certificate = false;
  /// The client certificate's CN becomes the user name (shown in the log as u'CN'); needs require_certificate.
  bool use_identity_as_username = false;

  /// The server side of `pki` (its CA, server cert and key).
  static broker_tls from(const test_pki& pki, bool require_certificate = false);
};

/// A user in the broker's password file.
struct broker_user {
  /// The MQTT user name.
  std::string name;
  /// Its password, in clear (hashed by mosquitto_passwd).
  std::string password;
};

struct broker_options {
  /// Ignored (always false) when `users` is not empty.
  bool allow_anonymous = true;
  /// When not empty, a password file is made with mosquitto_passwd and anonymous clients are refused.
  std::vector<broker_user> users;
  /// TLS on the listener when set.
  std::optional<broker_tls> tls;
  /// Persistent sessions and retained messages survive stop()/start().
  bool persistence = true;
  /// Seconds between database saves; 1 keeps a kill9() from losing much. 0 = only on exit.
  int autosave_interval_s = 1;
  /// Outgoing QoS 1/2 messages in flight per client (mosquitto's default is 20; 0 = no limit).
  unsigned max_inflight_messages = 20;
  /// QoS 1/2 messages queued per client beyond those in flight. Mosquitto's default (1000)
  /// would drop most of what a persistent session collects in a long test; 0 would mean
  /// unlimited, which mosquitto discourages, so the default is a bound above any test's needs.
  unsigned max_queued_messages = 200000;
  /// Lines appended verbatim to the generated config (global options, before the listener).
  std::vector<std::string> extra_config;
};

class mosquitto_broker {
 public:
  /// Picks a free port and a temp dir; nothing runs until start().
  explicit mosquitto_broker(broker_options options = {});
  /// Kills the broker if it still runs; the temp dir goes with it (see PLANT_KEEP_TMP).
  ~mosquitto_broker() = default;
  mosquitto_broker(const mosquitto_broker&) = delete;
  mosquitto_broker& operator=(const mosquitto_broker&) = delete;

  /// Writes the config, starts mosquitto and waits (at most 10 s) until the listener accepts
  /// TCP connections; a failure includes mosquitto's log and stderr.
  testing::AssertionResult start();
  /// SIGTERM (mosquitto then saves its database) and waits for a clean exit.
  testing::AssertionResult stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// stop() then start() on the same port, with the same database (after kill9(), call start()).
  testing::AssertionResult restart();
  /// Crash: SIGKILL, nothing saved since the last autosave.
  exit_status kill9();
  /// SIGSTOP: the broker keeps its sockets but answers nothing (a hung broker).
  bool suspend();
  /// SIGCONT after suspend().
  bool resume();
  /// SIGHUP: mosquitto reloads its config, password file and ACL file.
  bool reload();
  /// True while the broker process runs.
  bool running();

  /// The listener's port (the same across restarts).
  std::uint16_t port() const { return port_; }
  /// Always "127.0.0.1".
  std::string host() const { return "127.0.0.1"; }
  /// "tcp://127.0.0.1:PORT", or "ssl://127.0.0.1:PORT" with TLS.
  std::string url() const;
  /// `-h 127.0.0.1 -p PORT`, plus `--cafile CA` with TLS: the start of a mosquitto_pub/sub command.
  std::vector<std::string> client_args() const;
  /// True once the log shows `client_id` subscribing to exactly `topic_filter` (in any run so far).
  bool has_subscription(const std::string& client_id, const std::string& topic_filter) const;
  /// Everything mosquitto has logged, over all runs.
  std::string log_text() const;
  /// The broker's temp dir (config, log, database, process output).
  const std::string& dir() const { return dir_.path(); }
  /// The generated mosquitto.conf.
  std::string config_path() const { return dir_.file("mosquitto.conf"); }
  /// The log file.
  std::string log_path() const { return dir_.file("mosquitto.log"); }
  /// The password file (exists only when users were given).
  std::string password_file() const { return dir_.file("passwd"); }

 private:
  testing::AssertionResult start_once();
  testing::AssertionResult write_password_file();
  std::string config_text() const;
  std::string diagnostics() const;

  temp_dir dir_;  // declared first: destroyed after the process is gone
  broker_options options_;
  std::uint16_t port_ = 0;
  bool started_once_ = false;
  child_process process_;
};

}  // namespace plant::test
