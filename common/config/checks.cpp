#include "common/config/checks.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/core/clock.hpp"
#include "common/core/units.hpp"
#include "common/mqtt/tls_files.hpp"

namespace plant::config {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Parses "host[:port]" or "[v6]:port" after a scheme; `what` names the key in messages.
std::string split_host_port(std::string_view rest, std::string_view what, std::string& host,
                            std::optional<int>& port) {
  const std::string noun(what);
  if (rest.empty()) return noun + " has no host";
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos)
    return noun + " must not contain a path (" + quote(rest.substr(slash)) + ")";
  std::string_view port_text;
  bool has_port = false;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return noun + " has an unclosed '[' in its host";
    host = std::string(rest.substr(0, close + 1));
    const std::string inside(rest.substr(1, close - 1));
    in6_addr address6{};
    if (inet_pton(AF_INET6, inside.c_str(), &address6) != 1)
      return noun + " host " + quote(host) + " is not an IPv6 address";
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return noun + " has " + quote(after) + " after its host";
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos)
      return noun + " must put an IPv6 address in brackets, e.g. [::1]:1883";
    host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return noun + " has no host";
    for (char c : host)
      if (!is_ascii_alnum(c) && c != '.' && c != '-' && c != '_')
        return noun + " host " + quote(host) + " is not a host name or address";
  }
  if (has_port) {
    int value = 0;
    bool ok = !port_text.empty() && port_text.size() <= 5;
    for (char c : port_text) {
      if (c < '0' || c > '9') ok = false;
      else value = value * 10 + (c - '0');
    }
    if (!ok || value < 1 || value > 65535)
      return noun + " port " + quote(port_text) + " is not a number in 1..65535";
    port = value;
  }
  return "";
}

}  // namespace

// Accepts "scheme://host[:port]" and rewrites it with the port spelled out, so every
// consumer (and the config hash) sees one form.
std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string check_endpoint(std::string& text, std::string_view what, std::string_view scheme, int default_port) {
  std::string host;
  std::optional<int> port;
  std::string error = split_host_port(std::string_view(text).substr(scheme.size()), what, host, port);
  if (!error.empty()) return error;
  text = std::string(scheme) + host + ":" + std::to_string(port.value_or(default_port));
  return "";
}

std::string path_of(const table_value& values, std::string_view key) {
  return values.path.empty() ? std::string(key) : values.path + "." + std::string(key);
}

// Points the finding at the key the user wrote; falls back to the table header.
const position& where_written(const key_value& v, const table_value& values) {
  return v.present ? v.at : values.at;
}

void check_delay_order(table_value& values, diagnostic_sink& sink, std::string_view low_key, std::string_view high_key) {
  const key_value& low = values.get(low_key);
  const key_value& high = values.get(high_key);
  if (!low.has || !high.has || high.duration >= low.duration) return;
  const bool blame_high = high.present || !low.present;
  const std::string low_name(low_key), high_name(high_key);
  sink.error(blame_high ? where_written(high, values) : where_written(low, values),
             path_of(values, blame_high ? high_name : low_name),
             high_name + " (" + format_duration(high.duration) + ") must not be less than " + low_name + " (" +
                 format_duration(low.duration) + ")");
}

// "First defined" must mean first in the file, whatever kind of section it is in.
void report_duplicates(std::vector<named_at> items, std::string_view what, diagnostic_sink& sink) {
  std::stable_sort(items.begin(), items.end(),
                   [](const named_at& a, const named_at& b) { return comes_before(a.at, b.at); });
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (items[j].name == items[i].name) {
        sink.error(items[i].at, items[i].path,
                   "duplicate " + std::string(what) + " " + quote(items[i].name) + " (first defined at " +
                       to_string(items[j].at) + ")");
        break;
      }
    }
  }
}

void collect_names(const key_value& array, std::string_view key, std::vector<named_at>& out) {
  for (const table_value& t : array.tables) {
    const key_value& v = t.get(key);
    if (v.has) out.push_back(named_at{v.text, v.at, path_of(t, key)});
  }
}


// ---- text checks --------------------------------------------------------------

std::string check_name(std::string& text) {
  if (text.empty()) return "must not be empty";
  for (char c : text)
    if (!is_ascii_alnum(c) && c != '.' && c != '_' && c != '-')
      return quote(text) + " may only contain letters, digits, '.', '_' and '-'";
  return "";
}

std::string check_mqtt_url(std::string& text) {
  if (starts_with(text, "tcp://")) return check_endpoint(text, "url", "tcp://", 1883);
  if (starts_with(text, "ssl://")) return check_endpoint(text, "url", "ssl://", 8883);
  return "url must start with tcp:// or ssl://";
}

std::string check_listen(std::string& text) {
  if (text.empty()) return "";
  std::string host;
  std::optional<int> port;
  std::string error = split_host_port(text, "listen", host, port);
  if (!error.empty()) return error;
  if (!port) return "listen must be \"host:port\", e.g. \"127.0.0.1:9464\"";
  return "";
}

std::string check_topic_prefix(std::string& text) {
  if (text.empty()) return "topic_prefix must not be empty";
  if (text.find_first_of("+#") != std::string::npos) return "topic_prefix must not contain '+' or '#'";
  if (text.front() == '/' || text.back() == '/') return "topic_prefix must not start or end with '/'";
  if (text.find("//") != std::string::npos) return "topic_prefix must not contain an empty level ('//')";
  return "";
}

std::string check_delimiter(std::string& text) {
  if (text.size() == 1) return "";
  const bool non_ascii = std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  if (non_ascii) return "delimiter must be a single ASCII character, got " + quote(text);
  return "delimiter must be exactly one character, got " + quote(text);
}


// ---- shared section rules ------------------------------------------------------

void check_mqtt_connection(table_value& values, diagnostic_sink& sink) {
  check_delay_order(values, sink, "reconnect_min_delay", "reconnect_max_delay");
  const key_value& url = values.get("url");
  const bool tls = url.has && url.text.rfind("ssl://", 0) == 0;
  for (const char* key : {"password_file", "ca_file", "cert_file", "key_file"}) {
    const key_value& v = values.get(key);
    if (!v.has || v.text.empty()) continue;
    // Opened and closed, never read: the password must not end up in memory or logs here.
    const int fd = ::open(v.text.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      sink.error(v.at, path_of(values, key), "cannot read " + quote(v.text) + ": " + std::strerror(errno));
      continue;
    }
    struct stat st {};
    const bool stated = ::fstat(fd, &st) == 0;
    ::close(fd);
    if (stated && S_ISDIR(st.st_mode)) {
      sink.error(v.at, path_of(values, key), "cannot read " + quote(v.text) + ": " + std::strerror(EISDIR));
      continue;
    }
    if (stated && !S_ISREG(st.st_mode)) {
      // A FIFO or a device would be read without end before every connect.
      sink.error(v.at, path_of(values, key), quote(v.text) + " is not a regular file");
      continue;
    }
    if (!tls && url.has && std::string_view(key) != "password_file")
      sink.warning(v.at, path_of(values, key), "ignored: the url is tcp://; use ssl:// for TLS");
  }
  const key_value& cert = values.get("cert_file");
  const key_value& key = values.get("key_file");
  const bool has_cert = cert.has && !cert.text.empty();
  const bool has_key = key.has && !key.text.empty();
  if (has_cert && !has_key) sink.error(cert.at, path_of(values, "cert_file"), "cert_file needs key_file");
  if (has_key && !has_cert) sink.error(key.at, path_of(values, "key_file"), "key_file needs cert_file");
  if (tls && has_cert == has_key) {
    // What the files hold, said now rather than at the first failed handshake. Warnings:
    // the agent still starts and spools while a certificate is being replaced.
    const key_value& ca = values.get("ca_file");
    const mqtt_link::tls_files files =
        mqtt_link::read_tls_files(ca.has ? ca.text : "", has_cert ? cert.text : "", has_key ? key.text : "");
    for (const auto& f : files.files) {
      const key_value& where = values.get(f.key);
      if (!f.problem.empty()) {
        if (f.content_hash != 0) sink.warning(where.at, path_of(values, f.key), f.problem);
        continue;
      }
      const std::string expiry = mqtt_link::expiry_warning(f, wall_clock_ms(), mqtt_link::expiry_warning_window);
      if (!expiry.empty()) sink.warning(where.at, path_of(values, f.key), expiry);
    }
    if (const std::string minimum = mqtt_link::tls_minimum_problem(); !minimum.empty()) {
      sink.warning(url.at, path_of(values, "url"), "TLS connections are refused until " + minimum);
    }
  }
  const key_value& verify = values.get("tls_verify");
  if (tls && verify.has && !verify.boolean) {
    // Said at --check-config and at every start: a connection anyone on the path can intercept.
    sink.warning(where_written(verify, values), path_of(values, "tls_verify"),
                 "false: the broker's certificate and host name are not checked; anyone between the gateway and "
                 "the broker can read and change the data");
  }
}

}  // namespace plant::config
