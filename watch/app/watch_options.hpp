#pragma once
/// plant-watch's command line: a strict parser driven by one option table
/// (which also writes --help and the "did you mean" suggestions).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "watch/app/agent_config_import.hpp"

namespace plant::watch {

/// The validated settings of one plant-watch run.
struct watch_options {
  std::string url = "tcp://localhost:1883";  ///< tcp://host:port or ssl://host:port
  std::string username;                      ///< MQTT user name; empty = anonymous
  std::string password_file;                 ///< file holding the password
  std::string ca_file;                       ///< trust store for the broker's certificate
  std::string cert_file;                     ///< client certificate (mutual TLS)
  std::string key_file;                      ///< client key (mutual TLS)
  bool insecure = false;                     ///< do not verify the broker's certificate
  std::string prefix = "plant/v1";           ///< topic prefix
  std::vector<std::string> topics;           ///< filters; `<prefix>/#` unless given
  int qos = 1;                               ///< subscription QoS
  std::string client_id;                     ///< empty: plant-watch picks one
  bool persistent = false;                   ///< clean_session = false
  bool json = false;                         ///< --json
  bool audit = false;                        ///< --audit
  bool shortages = false;                    ///< --shortages
  bool sparkplug = false;                    ///< --sparkplug: read Sparkplug B (spBv1.0/#)
  std::uint64_t count = 0;                   ///< stop after this many deliveries; 0 = never
  std::chrono::milliseconds duration{0};     ///< stop after this long; 0 = never
  std::chrono::milliseconds refresh{1000};   ///< table redraw period
  std::string config_file;                   ///< --config FILE, for messages
};

/// What the command line asked for.
struct parse_result {
  watch_options options;  ///< valid when neither help nor error is set
  bool help = false;      ///< --help: print help_text() on stdout, exit 0
  std::string error;      ///< a usage error for stderr ("plant-watch: ..."), exit 2
};

/// Parses the arguments after argv[0]; `importer` reads --config (an error if it is empty and --config is given).
/// Flags given on the command line win over values from --config.
parse_result parse_command_line(const std::vector<std::string>& args, const connection_importer& importer = {});

/// The --help text: usage and every option with a one-line description.
std::string help_text();

/// Parses a duration as the config does ("500ms", "10s", "1h30m", "7d"); false with the reason for anything else or zero.
bool parse_positive_duration(std::string_view text, std::chrono::milliseconds& out, std::string& error);

/// Reads a password file, stripping one trailing line end; returns an error text ("" on success).
std::string read_password_file(const std::string& path, std::string& password);

}  // namespace plant::watch
