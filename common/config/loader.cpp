#include "common/config/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <toml++/toml.h>

#include "common/config/overrides.hpp"
#include "common/config/reader.hpp"
#include "common/core/text.hpp"

namespace plant::config {
namespace {

void collect(const table_value& table, std::vector<std::string>& lines) {
  const section_spec& spec = *table.spec;
  for (std::size_t i = 0; i < spec.keys.size(); ++i) {
    const key_spec& key = spec.keys[i];
    const key_value& v = table.values[i];
    if (!v.has) continue;  // an optional key without a value
    if (key.type == value_type::table || key.type == value_type::table_array) {
      for (const table_value& nested : v.tables) collect(nested, lines);
    } else {
      lines.push_back((table.path.empty() ? key.name : table.path + "." + key.name) + "=" + render_value(key, v));
    }
  }
}

// FNV-1a over text fed in pieces: the hash of the pieces' concatenation.
struct fnv1a_64 {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  void add(std::string_view text) {
    for (char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ull;
    }
  }
};

std::string hex_of(std::uint64_t hash) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

// The line and column (1-based, columns in characters) of byte `offset`.
position position_of(std::string_view text, std::size_t offset, const std::string& display_name) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return position{display_name, line, column};
}

// Debian's toml++ 3.3.0 reaches TOML_UNREACHABLE (an abort in debug builds,
// undefined behaviour in release ones) on some malformed input, such as bytes
// that are not UTF-8 and a '[' followed by NUL. TOML forbids both anyway, so
// they are refused here, located, before the parser sees them.
bool refuse_unparsable_bytes(std::string_view text, const std::string& display_name, diagnostic_sink& sink) {
  const std::size_t nul = text.find('\0');
  const std::size_t bad = first_invalid_utf8(text);
  if (nul == std::string_view::npos && bad == std::string_view::npos) return false;
  if (nul < bad) {
    sink.error(position_of(text, nul, display_name), "", "NUL byte: a config file must be UTF-8 text");
  } else {
    sink.error(position_of(text, bad, display_name), "", "invalid UTF-8: a config file must be UTF-8 text");
  }
  return true;
}

document_result finish(diagnostic_sink& sink, const std::string& display_name) {
  document_result result;
  result.errors = sink.take_errors();
  result.warnings = sink.take_warnings();
  result.display_name = display_name;
  return result;
}

}  // namespace

std::string render_value(const key_spec& key, const key_value& v) {
  switch (key.type) {
    case value_type::boolean: return v.boolean ? "true" : "false";
    case value_type::integer: return std::to_string(v.integer);
    case value_type::number: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", v.number);
      return buffer;
    }
    case value_type::duration: return format_duration(v.duration);
    case value_type::size: return format_size(v.bytes);
    case value_type::string_list: {
      std::string out = "[";
      for (const std::string& item : v.list) out += (out.size() > 1 ? "," : "") + toml_quote(item);
      return out + "]";
    }
    case value_type::state_map: {
      std::string out = "{";
      for (const auto& [number, state] : v.states)
        out += (out.size() > 1 ? "," : "") + std::to_string(number) + "=" + toml_quote(state);
      return out + "}";
    }
    default: return toml_quote(v.text);
  }
}

std::vector<std::string> effective_lines(const table_value& root) {
  std::vector<std::string> lines;
  collect(root, lines);
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string config_hash(const table_value& root) {
  // The lines are hashed as they are, not joined first: at 1,000 points the
  // joined text was another megabyte at the agent's peak.
  fnv1a_64 hash;
  for (const std::string& line : effective_lines(root)) {
    hash.add(line);
    hash.add("\n");
  }
  return hex_of(hash.hash);
}

document_result load_document_text(std::string_view toml_text, const section_spec& spec,
                                   const std::string& display_name, const std::vector<std::string>& overrides,
                                   const std::string& base_dir) {
  diagnostic_sink sink;
  if (refuse_unparsable_bytes(toml_text, display_name, sink)) return finish(sink, display_name);
  toml::table document;
  try {
    document = toml::parse(toml_text, std::string(display_name));
  } catch (const toml::parse_error& e) {
    // Past a syntax error toml++ has no document, so there is nothing more to check.
    position at = locate(e.source());
    at.file = display_name;
    sink.error(at, "", std::string(e.description()));
    return finish(sink, display_name);
  }
  apply_overrides(document, overrides, sink);
  table_value root = read_document(document, spec, display_name, base_dir, sink);
  document_result result = finish(sink, display_name);
  if (result.errors.empty()) result.root = std::move(root);
  return result;
}

document_result load_document_file(const std::string& path, const section_spec& spec,
                                   const std::vector<std::string>& overrides) {
  std::string text;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  int error = file == nullptr ? errno : 0;
  if (file != nullptr) {
    errno = 0;
    char buffer[65536];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
    if (std::ferror(file)) error = errno != 0 ? errno : EIO;
    std::fclose(file);
  }
  if (error != 0) {
    document_result result;
    result.display_name = path;
    result.errors.push_back(
        diagnostic{path, 0, 0, "", "cannot read '" + path + "': " + std::strerror(error), severity::error});
    return result;
  }
  const std::filesystem::path absolute = std::filesystem::absolute(path).lexically_normal();
  document_result result = load_document_text(text, spec, path, overrides, absolute.parent_path().string());
  result.absolute_path = absolute.string();
  return result;
}

}  // namespace plant::config
