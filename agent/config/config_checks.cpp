#include "agent/config/config_checks.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "agent/config/units.hpp"

namespace plant::config {
namespace {

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

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

// Accepts "scheme://host[:port]" and rewrites it with the port spelled out, so every
// consumer (and the config hash) sees one form.
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

void check_delay_order(table_value& values, diagnostic_sink& sink) {
  const key_value& low = values.get("reconnect_min_delay");
  const key_value& high = values.get("reconnect_max_delay");
  if (!low.has || !high.has || high.duration >= low.duration) return;
  const bool blame_high = high.present || !low.present;
  sink.error(blame_high ? where_written(high, values) : where_written(low, values),
             path_of(values, blame_high ? "reconnect_max_delay" : "reconnect_min_delay"),
             "reconnect_max_delay (" + format_duration(high.duration) + ") must not be less than reconnect_min_delay (" +
                 format_duration(low.duration) + ")");
}

struct named_at {
  std::string name;
  position at;
  std::string path;
};

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

// Type indices follow point_section()'s choices: bool int16 uint16 int32 uint32 int64 uint64 float32 float64.
int registers_of(std::int64_t type) {
  switch (type) {
    case 3: case 4: case 7: return 2;
    case 5: case 6: case 8: return 4;
    default: return 1;
  }
}

}  // namespace

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

std::string check_modbus_address(std::string& text) {
  if (starts_with(text, "tcp://")) return check_endpoint(text, "address", "tcp://", 502);
  if (starts_with(text, "rtu://")) {
    const std::string_view device = std::string_view(text).substr(6);
    if (device.size() < 2 || device.front() != '/')
      return "address needs a device path after rtu://, e.g. rtu:///dev/ttyUSB0";
    return "";
  }
  return "address must start with tcp:// or rtu://";
}

// ---- section checks ----------------------------------------------------------

void check_root(table_value& values, diagnostic_sink& sink) {
  std::vector<named_at> sources, materials, lines;
  bool any_source = false;
  const key_value& source = values.get("source");
  if (source.has && !source.tables.empty()) {
    const table_value& s = source.tables.front();
    for (const char* kind : {"simulator", "csv", "modbus"}) {
      collect_names(s.get(kind), "name", sources);
      any_source = any_source || !s.get(kind).tables.empty();
    }
    for (const table_value& m : s.get("modbus").tables) collect_names(m.get("line"), "id", lines);
  }
  report_duplicates(sources, "source name", sink);
  report_duplicates(lines, "line id", sink);
  collect_names(values.get("material"), "id", materials);
  report_duplicates(materials, "material", sink);
  if (!any_source) sink.warning(values.at, "", "no sources configured; the agent will only publish its status");
}

void check_mqtt(table_value& values, diagnostic_sink& sink) {
  check_delay_order(values, sink);
  const key_value& url = values.get("url");
  const bool tls = url.has && starts_with(url.text, "ssl://");
  for (const char* key : {"password_file", "ca_file", "cert_file", "key_file"}) {
    const key_value& v = values.get(key);
    if (!v.has || v.text.empty()) continue;
    // Opened and closed, never read: the password must not end up in memory or logs here.
    const int fd = ::open(v.text.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      sink.error(v.at, path_of(values, key), "cannot read " + quote(v.text) + ": " + std::strerror(errno));
      continue;
    }
    struct stat st {};
    const bool is_directory = ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    ::close(fd);
    if (is_directory) {
      sink.error(v.at, path_of(values, key), "cannot read " + quote(v.text) + ": " + std::strerror(EISDIR));
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
}

void check_spool(table_value& values, diagnostic_sink& sink) {
  const key_value& max_bytes = values.get("max_bytes");
  const key_value& segment = values.get("segment_bytes");
  if (!max_bytes.has || !segment.has || segment.bytes <= max_bytes.bytes) return;
  const bool blame_segment = segment.present || !max_bytes.present;
  sink.error(blame_segment ? where_written(segment, values) : where_written(max_bytes, values),
             path_of(values, blame_segment ? "segment_bytes" : "max_bytes"),
             "segment_bytes (" + format_size(segment.bytes) + ") must not be larger than max_bytes (" +
                 format_size(max_bytes.bytes) + ")");
}

void check_csv(table_value& values, diagnostic_sink& sink) {
  const key_value& directory = values.get("directory");
  const key_value& after = values.get("after");
  key_value& move_to = values.get("move_to");
  if (!after.has || !move_to.has) return;
  const bool moving = after.text == "move";
  if (moving && move_to.text.empty() && directory.has) {
    move_to.text = (std::filesystem::path(directory.text) / "done").lexically_normal().string();
  } else if (!moving && move_to.present && !move_to.text.empty()) {
    sink.warning(move_to.key_at, path_of(values, "move_to"), "ignored unless after = \"move\"");
  }
}

void check_modbus(table_value& values, diagnostic_sink& sink) {
  const key_value& address = values.get("address");
  if (address.has) {
    const bool rtu = starts_with(address.text, "rtu://");
    if (!rtu) {
      for (const char* key : {"baud", "parity", "data_bits", "stop_bits"}) {
        const key_value& v = values.get(key);
        if (v.present) sink.error(v.key_at, path_of(values, key), "only applies to rtu:// addresses");
      }
    }
    const key_value& unit_id = values.get("unit_id");
    if (rtu && unit_id.has && unit_id.integer > 247)
      sink.error(where_written(unit_id, values), path_of(values, "unit_id"),
                 std::to_string(unit_id.integer) + " is out of range 0..247 for rtu:// addresses");
  }
  const key_value& interval = values.get("interval");
  const key_value& timeout = values.get("timeout");
  if (interval.has && timeout.has && timeout.duration >= interval.duration) {
    const bool blame_timeout = timeout.present || !interval.present;
    sink.error(blame_timeout ? where_written(timeout, values) : where_written(interval, values),
               path_of(values, blame_timeout ? "timeout" : "interval"),
               "timeout (" + format_duration(timeout.duration) + ") must be less than interval (" +
                   format_duration(interval.duration) + ")");
  }
  check_delay_order(values, sink);

  const key_value& lines = values.get("line");
  const key_value& stocks = values.get("stock");
  if (lines.tables.empty() && stocks.tables.empty())
    sink.error(values.at, values.path, "needs at least one [[source.modbus.line]] or [[source.modbus.stock]]");

  // A point does not know what it is for; only state points may name their values.
  auto no_map = [&](const key_value& point) {
    if (!point.has || point.tables.empty()) return;
    const key_value& map = point.tables.front().get("map");
    if (map.present) sink.error(map.key_at, path_of(point.tables.front(), "map"), "map only applies to 'state' points");
  };
  for (const table_value& line : lines.tables) {
    no_map(line.get("good_count"));
    no_map(line.get("reject_count"));
  }
  for (const table_value& stock : stocks.tables) no_map(stock.get("quantity"));
}

void check_modbus_line(table_value& values, diagnostic_sink& sink) {
  if (!values.get("state").present && !values.get("good_count").present && !values.get("reject_count").present)
    sink.error(values.at, values.path, "needs at least one of state, good_count, reject_count");
}

void check_point(table_value& values, diagnostic_sink& sink) {
  const key_value& area = values.get("area");
  key_value& type = values.get("type");
  const key_value& address = values.get("address");
  if (!area.has) return;
  // Area indices follow point_section()'s choices: coil discrete input holding.
  const bool bit_area = area.integer <= 1;
  if (!type.present) {
    type.has = true;
    type.integer = bit_area ? 0 : 2;
    type.text = bit_area ? "bool" : "uint16";
  }
  if (!type.has) return;
  if (bit_area && type.integer != 0) {
    sink.error(type.at, path_of(values, "type"),
               "type " + quote(type.text) + " does not fit area " + quote(area.text) +
                   "; coil and discrete points are bool");
    return;
  }
  const key_value& order = values.get("order");
  if (order.present && order.has && registers_of(type.integer) < 2)
    sink.error(order.key_at, path_of(values, "order"), "order only applies to 32- and 64-bit types");
  const key_value& bit = values.get("bit");
  if (bit.present && bit.has && (bit_area || type.integer > 2))
    sink.error(bit.key_at, path_of(values, "bit"),
               "bit only applies to input and holding registers of type bool, int16 or uint16");
  if (address.has) {
    const int count = bit_area ? 1 : registers_of(type.integer);
    if (address.integer + count - 1 > 65535)
      sink.error(address.at, path_of(values, "address"),
                 "address " + std::to_string(address.integer) + " with type " + type.text + " (" +
                     std::to_string(count) + " registers) runs past 65535");
  }
}

}  // namespace plant::config
