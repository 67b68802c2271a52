#include "common/http/query_string.hpp"

namespace plant::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' is a space only in the query (form encoding).
bool decode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return false;  // NUL has no business in a name or a time
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

std::string known_list(const std::vector<std::string>& known) {
  if (known.empty()) return "this path takes no parameters";
  std::string out = "known: ";
  for (std::size_t i = 0; i < known.size(); ++i) out += (i ? ", " : "") + known[i];
  return out;
}

}  // namespace

std::string target_path(std::string_view target) {
  const auto q = target.find('?');
  std::string path;
  if (!decode(target.substr(0, q), false, path)) return "";
  return path;
}

parsed_target parse_target(std::string_view target, const std::vector<std::string>& known) {
  parsed_target out;
  const auto q = target.find('?');
  if (!decode(target.substr(0, q), false, out.path)) {
    out.error = "the path has bad percent-encoding";
    return out;
  }
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name, value;
    if (!decode(pair.substr(0, eq), true, name) ||
        !decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true, value)) {
      out.error = "parameter '" + std::string(pair.substr(0, std::min<std::size_t>(eq, 64))) +
                  "': bad percent-encoding";
      return out;
    }
    bool is_known = false;
    for (const auto& k : known) is_known = is_known || k == name;
    if (!is_known) {
      out.error = "unknown parameter '" + name.substr(0, 64) + "' (" + known_list(known) + ")";
      return out;
    }
    if (!out.params.emplace(name, value).second) {
      out.error = "parameter '" + name + "' is given twice";
      return out;
    }
  }
  return out;
}

}  // namespace plant::http
