#include "agent/config/config_loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <toml++/toml.h>

#include "agent/config/config_overrides.hpp"
#include "agent/config/config_reader.hpp"

namespace plant::config {
namespace {

std::string render(const key_spec& key, const key_value& v) {
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

void collect(const table_value& table, std::vector<std::string>& lines) {
  const section_spec& spec = *table.spec;
  for (std::size_t i = 0; i < spec.keys.size(); ++i) {
    const key_spec& key = spec.keys[i];
    const key_value& v = table.values[i];
    if (!v.has) continue;  // an optional key without a value
    if (key.type == value_type::table || key.type == value_type::table_array) {
      for (const table_value& nested : v.tables) collect(nested, lines);
    } else {
      lines.push_back((table.path.empty() ? key.name : table.path + "." + key.name) + "=" + render(key, v));
    }
  }
}

std::string fnv1a_64_hex(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

load_result finish(diagnostic_sink& sink) {
  load_result result;
  result.errors = sink.take_errors();
  result.warnings = sink.take_warnings();
  return result;
}

// The canonical "path=value" lines (sorted, '\n'-terminated) of the effective config: defaults,
// resolved paths and normalised URLs included, so equal behaviour means an equal hash.
std::string effective_config_text(const table_value& root) {
  std::vector<std::string> lines;
  collect(root, lines);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

}  // namespace

load_result load_config_text(std::string_view toml_text, const std::string& display_name,
                             const std::vector<std::string>& overrides, const std::string& base_dir) {
  diagnostic_sink sink;
  toml::table document;
  try {
    document = toml::parse(toml_text, std::string(display_name));
  } catch (const toml::parse_error& e) {
    // Past a syntax error toml++ has no document, so there is nothing more to check.
    position at = locate(e.source());
    at.file = display_name;
    sink.error(at, "", std::string(e.description()));
    return finish(sink);
  }
  apply_overrides(document, overrides, sink);
  const table_value root = read_document(document, display_name, base_dir, sink);
  load_result result = finish(sink);
  if (!result.errors.empty()) return result;
  agent_config config;
  store_section(root, &config);
  config.source_path = display_name;
  config.hash = fnv1a_64_hex(effective_config_text(root));
  result.config = std::move(config);
  return result;
}

load_result load_config_file(const std::string& path, const std::vector<std::string>& overrides) {
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
    load_result result;
    result.errors.push_back(diagnostic{path, 0, 0, "", "cannot read '" + path + "': " + std::strerror(error), severity::error});
    return result;
  }
  const std::filesystem::path absolute = std::filesystem::absolute(path).lexically_normal();
  load_result result = load_config_text(text, path, overrides, absolute.parent_path().string());
  if (result.config) result.config->source_path = absolute.string();
  return result;
}

}  // namespace plant::config
