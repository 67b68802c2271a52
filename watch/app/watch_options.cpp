#include "watch/app/watch_options.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include "common/core/closest_match.hpp"
#include "common/core/file_access.hpp"
#include "common/core/units.hpp"

namespace plant::watch {

namespace {

struct option_spec {
  std::string_view name;        // with the leading "--"
  std::string_view value_name;  // empty for a flag
  std::string_view help;
  bool repeatable = false;
};

// The one table: parsing, suggestions and --help all come from it.
constexpr std::array<option_spec, 22> option_table{{
    {"--url", "URL", "broker address, tcp://host:port or ssl://host:port (default tcp://localhost:1883)"},
    {"--username", "USER", "MQTT user name"},
    {"--password-file", "FILE", "read the MQTT password from FILE (one trailing newline is stripped)"},
    {"--ca-file", "FILE", "CA certificates (PEM) to verify the broker's certificate with"},
    {"--cert-file", "FILE", "client certificate (PEM) for mutual TLS"},
    {"--key-file", "FILE", "private key (PEM) of --cert-file"},
    {"--insecure", "", "do not verify the broker's certificate (the link is still encrypted)"},
    {"--prefix", "PREFIX", "topic prefix the agents publish under (default plant/v1)"},
    {"--topic", "FILTER", "subscribe to FILTER instead of PREFIX/# (repeatable)", true},
    {"--qos", "N", "subscription QoS: 0, 1 or 2 (default 1)"},
    {"--client-id", "ID", "MQTT client id (default plant-watch-<host>-<pid>)"},
    {"--persistent", "", "keep the session on the broker while away (clean_session=false); needs --client-id"},
    {"--json", "", "print one JSON object per message (with --shortages: one per shortage, at exit)"},
    {"--audit", "", "check sequence numbers per agent; print one JSON audit line per agent at exit"},
    {"--shortages", "", "show materials running short across plants and who has a surplus"},
    {"--sparkplug", "", "read Sparkplug B edge nodes (subscribe to spBv1.0/# unless --topic is given)"},
    {"--count", "N", "stop after N received messages"},
    {"--duration", "D", "stop after D (500ms, 10s, 2m, 1h)"},
    {"--refresh", "D", "redraw the table every D (default 1s)"},
    {"--config", "FILE", "take broker settings and topic prefix from an agent config (flags win)"},
    {"--help", "", "show this help and exit"},
    {"-h", "", "same as --help"},
}};

const option_spec* find_option(std::string_view name) {
  for (const auto& spec : option_table) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// The closest option name for a typo, or "" when nothing is close: a unique
// prefix ("--dur") or at most two edits away, and never most of the word.
std::string_view suggest(std::string_view name) {
  const option_spec* prefix_match = nullptr;
  int prefix_matches = 0;
  if (name.size() >= 4) {
    for (const auto& spec : option_table) {
      if (spec.name.size() > name.size() && spec.name.substr(0, name.size()) == name) {
        prefix_match = &spec;
        ++prefix_matches;
      }
    }
  }
  if (prefix_matches == 1) return prefix_match->name;
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& spec : option_table) {
    if (spec.name == "-h") continue;
    const std::size_t d = edit_distance(name, spec.name);
    if (d < best_distance) {
      best_distance = d;
      best = spec.name;
    }
  }
  if (best_distance <= 2 && best_distance * 2 < best.size() - 2) return best;
  return {};
}

bool parse_unsigned(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// "tcp://host[:port]" or "ssl://host[:port]"; Paho would accept more schemes,
// but the agent only speaks these two and a typo should not reach the network.
bool valid_url(const std::string& url) {
  std::string_view rest;
  if (url.rfind("tcp://", 0) == 0 || url.rfind("ssl://", 0) == 0) {
    rest = std::string_view(url).substr(6);
  } else {
    return false;
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos || rest.find(' ') != std::string_view::npos) {
    return false;
  }
  std::string_view host = rest;
  std::string_view port;
  if (rest.front() == '[') {  // [IPv6]:port
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    host = rest.substr(0, close + 1);
    const std::string_view tail = rest.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != ':') return false;
      port = tail.substr(1);
      if (port.empty()) return false;
    }
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (host.empty()) return false;
  if (!port.empty()) {
    std::uint64_t number = 0;
    if (!parse_unsigned(port, number) || number == 0 || number > 65535) return false;
  }
  return true;
}

// An MQTT subscription filter: '#' only as the whole last level, '+' only as a whole level.
std::string filter_problem(std::string_view filter) {
  if (filter.empty()) return "the filter is empty";
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = filter.find('/', start);
    const std::string_view level =
        filter.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (level.find('#') != std::string_view::npos && (level != "#" || slash != std::string_view::npos)) {
      return "'#' must be a whole level and the last one";
    }
    if (level.find('+') != std::string_view::npos && level != "+") return "'+' must be a whole level";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

bool valid_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() == '/' || prefix.back() == '/') return false;
  return prefix.find_first_of("#+") == std::string_view::npos;
}

std::string usage_error(const std::string& message) { return "plant-watch: " + message; }

}  // namespace

bool parse_positive_duration(std::string_view text, std::chrono::milliseconds& out, std::string& error) {
  // The config's own grammar, so "1h30m" means the same here as in a config file.
  const auto parsed = plant::parse_duration(text, error);
  if (!parsed) return false;
  if (parsed->count() == 0) {
    error = "it must be more than 0";
    return false;
  }
  out = *parsed;
  return true;
}

std::string help_text() {
  std::string out =
      "Usage: plant-watch [options]\n"
      "\n"
      "Subscribes to the MQTT broker and shows what plant-agents publish: a live\n"
      "table (default), JSON lines (--json), a sequence audit (--audit) or the\n"
      "cross-plant shortage board (--shortages).\n"
      "\n"
      "Options:\n";
  std::size_t width = 0;
  for (const auto& spec : option_table) {
    width = std::max(width, spec.name.size() + (spec.value_name.empty() ? 0 : spec.value_name.size() + 1));
  }
  for (const auto& spec : option_table) {
    std::string left(spec.name);
    if (!spec.value_name.empty()) left += " " + std::string(spec.value_name);
    left.resize(width, ' ');
    out += "  " + left + "  " + std::string(spec.help) + "\n";
  }
  out +=
      "\n"
      "Exit status: 0 when stopped by --count, --duration, SIGINT or SIGTERM; 2 for a usage error.\n";
  return out;
}

namespace {

/// Stores one option's value in `o`; returns the usage error, or "" when it is fine.
std::string apply_option(std::string_view n, const std::string& value, watch_options& o) {
  const std::string bad_value = "'" + value + "'";
  if (n == "--url") {
    o.url = value;
  } else if (n == "--username") {
    o.username = value;
  } else if (n == "--password-file") {
    o.password_file = value;
  } else if (n == "--ca-file") {
    o.ca_file = value;
  } else if (n == "--cert-file") {
    o.cert_file = value;
  } else if (n == "--key-file") {
    o.key_file = value;
  } else if (n == "--insecure") {
    o.insecure = true;
  } else if (n == "--prefix") {
    o.prefix = value;
  } else if (n == "--topic") {
    const std::string problem = filter_problem(value);
    if (!problem.empty()) return "--topic: invalid filter " + bad_value + ": " + problem;
    o.topics.push_back(value);
  } else if (n == "--qos") {
    if (value != "0" && value != "1" && value != "2") return "--qos: expected 0, 1 or 2, got " + bad_value;
    o.qos = value[0] - '0';
  } else if (n == "--client-id") {
    if (value.empty()) return "--client-id: must not be empty";
    o.client_id = value;
  } else if (n == "--persistent") {
    o.persistent = true;
  } else if (n == "--json") {
    o.json = true;
  } else if (n == "--audit") {
    o.audit = true;
  } else if (n == "--shortages") {
    o.shortages = true;
  } else if (n == "--sparkplug") {
    o.sparkplug = true;
  } else if (n == "--count") {
    if (!parse_unsigned(value, o.count) || o.count == 0)
      return "--count: expected a whole number above 0, got " + bad_value;
  } else if (n == "--duration" || n == "--refresh") {
    std::chrono::milliseconds d{0};
    std::string why;
    if (!parse_positive_duration(value, d, why)) {
      return std::string(n) + ": expected a duration like 500ms, 10s, 2m or 1h30m, got " + bad_value + " (" + why +
             ")";
    }
    if (n == "--refresh" && d < std::chrono::milliseconds(100)) return "--refresh: must be at least 100ms, got " + bad_value;
    (n == "--duration" ? o.duration : o.refresh) = d;
  } else if (n == "--config") {
    o.config_file = value;
  }
  return {};
}

/// Where the URL and prefix in use came from, for error messages.
struct origins {
  std::string url = "--url";
  std::string prefix = "--prefix";
};

/// --config fills in only what the command line left open; returns the usage error or "".
std::string import_agent_config(watch_options& o, const std::set<std::string_view>& given,
                                const connection_importer& importer, origins& from) {
  if (o.config_file.empty()) return {};
  if (!importer) return "--config is not supported by this build";
  const connection_import imported = importer(o.config_file);
  if (!imported.connection) return "cannot use --config " + o.config_file + ":\n" + imported.error;
  const imported_connection& c = *imported.connection;
  const auto take = [&](std::string_view flag, std::string& field, const std::string& from_config) {
    if (given.count(flag) == 0 && !from_config.empty()) field = from_config;
  };
  take("--url", o.url, c.url);
  take("--username", o.username, c.username);
  take("--password-file", o.password_file, c.password_file);
  take("--ca-file", o.ca_file, c.ca_file);
  take("--cert-file", o.cert_file, c.cert_file);
  take("--key-file", o.key_file, c.key_file);
  take("--prefix", o.prefix, c.topic_prefix);
  if (given.count("--insecure") == 0) o.insecure = !c.tls_verify;
  // An agent that speaks Sparkplug is read as Sparkplug.
  if (c.sparkplug) o.sparkplug = true;
  if (given.count("--url") == 0) from.url = "mqtt.url from " + o.config_file;
  if (given.count("--prefix") == 0) from.prefix = "mqtt.topic_prefix from " + o.config_file;
  return {};
}

/// Options that are fine alone but not together; returns the usage error or "".
std::string check_combination(const watch_options& o, const std::set<std::string_view>& given, const origins& from) {
  if (!valid_url(o.url)) return from.url + ": expected tcp://host:port or ssl://host:port, got '" + o.url + "'";
  if (!valid_prefix(o.prefix)) {
    return from.prefix + ": expected topic levels like plant/v1 without wildcards, got '" + o.prefix + "'";
  }
  if (o.persistent && o.client_id.empty()) {
    return "--persistent needs --client-id (the broker keeps the session under that id)";
  }
  if (!o.password_file.empty() && o.username.empty()) {
    return "--password-file needs --username (MQTT sends no password without a user name)";
  }
  if (!o.key_file.empty() && o.cert_file.empty()) return "--key-file needs --cert-file";
  // TLS flags on a plain-TCP URL mean the user expects encryption they would
  // not get; settings inherited from --config are left alone (the agent's concern).
  if (o.url.rfind("tcp://", 0) == 0) {
    for (std::string_view flag : {"--ca-file", "--cert-file", "--key-file", "--insecure"}) {
      if (given.count(flag) != 0) return std::string(flag) + " needs an ssl:// URL, got '" + o.url + "'";
    }
  }
  return {};
}

}  // namespace

parse_result parse_command_line(const std::vector<std::string>& args, const connection_importer& importer) {
  parse_result result;
  watch_options& o = result.options;
  std::set<std::string_view> given;  // option names seen, to refuse repeats and to let flags beat --config

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      result.error = usage_error("unexpected argument '" + arg + "'; see plant-watch --help");
      return result;
    }
    const std::size_t equals = arg.find('=');
    const std::string_view name = std::string_view(arg).substr(0, equals);
    const option_spec* spec = find_option(name);
    if (spec == nullptr) {
      const std::string_view hint = suggest(name);
      const std::string advice =
          hint.empty() ? "; see plant-watch --help" : "; did you mean '" + std::string(hint) + "'?";
      result.error = usage_error("unknown option '" + std::string(name) + "'" + advice);
      return result;
    }
    if (spec->name == "--help" || spec->name == "-h") {
      result.help = true;
      return result;
    }
    if (!spec->repeatable && !given.insert(spec->name).second) {
      result.error = usage_error("option '" + std::string(spec->name) + "' given more than once");
      return result;
    }
    given.insert(spec->name);
    std::string value;
    if (spec->value_name.empty()) {
      if (equals != std::string::npos) {
        result.error = usage_error("option '" + std::string(spec->name) + "' takes no value");
        return result;
      }
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
      value = args[++i];
    } else {
      // A following "--flag" is far more likely a forgotten value than a value.
      result.error = usage_error("option '" + std::string(spec->name) + "' needs a value (" +
                                 std::string(spec->value_name) + ")");
      return result;
    }
    if (std::string problem = apply_option(spec->name, value, o); !problem.empty()) {
      result.error = usage_error(problem);
      return result;
    }
  }

  origins from;
  std::string problem = import_agent_config(o, given, importer, from);
  if (problem.empty()) problem = check_combination(o, given, from);
  if (!problem.empty()) {
    result.error = usage_error(problem);
    return result;
  }
  if (o.topics.empty()) o.topics.push_back(o.sparkplug ? "spBv1.0/#" : o.prefix + "/#");
  return result;
}

std::string read_password_file(const std::string& path, std::string& password) {
  const std::string problem = read_secret_file(path, password);
  return problem.empty() ? problem : "plant-watch: --password-file " + path + ": " + problem;
}

}  // namespace plant::watch
