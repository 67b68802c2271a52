#include "common/config/reload.hpp"

#include <algorithm>
#include <map>

#include "common/config/loader.hpp"

namespace plant::config {

namespace {

std::map<std::string, std::string> as_map(const table_value& root) {
  std::map<std::string, std::string> out;
  for (const std::string& line : effective_lines(root)) {
    const auto eq = line.find('=');
    out.emplace(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

// "source.modbus[0].line" -> {"source", "modbus", "line"}: the schema path without indices.
std::vector<std::string> schema_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '.') {
      parts.push_back(part);
      part.clear();
    } else if (path[i] == '[') {
      i = path.find(']', i);
      if (i == std::string::npos) break;
    } else {
      part += path[i];
    }
  }
  return parts;
}

bool has_index(const std::string& path) { return path.find('[') != std::string::npos; }

// The key_value of a path made of plain tables only ("mqtt.url"), or nullptr.
key_value* locate_value(table_value& root, const std::string& path) {
  if (has_index(path)) return nullptr;
  const std::vector<std::string> parts = schema_path(path);
  table_value* table = &root;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const int index = table->spec->index_of(parts[i]);
    if (index < 0) return nullptr;
    key_value& value = table->values[static_cast<std::size_t>(index)];
    if (i + 1 == parts.size()) return &value;
    if (value.tables.empty()) return nullptr;
    table = &value.tables.front();
  }
  return nullptr;
}

}  // namespace

const key_spec* find_key(const section_spec& root, const std::string& path) {
  const section_spec* section = &root;
  const key_spec* key = nullptr;
  for (const std::string& part : schema_path(path)) {
    if (section == nullptr) return nullptr;
    key = section->find(part);
    if (key == nullptr) return nullptr;
    section = key->section;
  }
  return key;
}

bool reload_plan::any(reload_policy policy) const {
  return std::any_of(changes.begin(), changes.end(), [&](const key_change& c) { return c.policy == policy; });
}

bool reload_plan::touches(const std::string& prefix) const {
  return std::any_of(changes.begin(), changes.end(),
                     [&](const key_change& c) { return c.path.compare(0, prefix.size(), prefix) == 0; });
}

reload_plan plan_reload(const table_value& running, const table_value& next) {
  reload_plan plan;
  plan.merged = next;
  const auto before = as_map(running);
  const auto after = as_map(next);
  auto note = [&](const std::string& path, const std::string& was, const std::string& is) {
    const key_spec* key = find_key(*running.spec, path);
    key_change change{path, was, is, key != nullptr ? key->reload : reload_policy::live};
    if (change.policy == reload_policy::restart) {
      // Keep running with what is running: the merged tree gets the old value back.
      key_value* target = locate_value(plan.merged, path);
      const key_value* old_value = locate_value(const_cast<table_value&>(running), path);
      if (target != nullptr && old_value != nullptr) *target = *old_value;
    }
    plan.changes.push_back(std::move(change));
  };
  for (const auto& [path, value] : before) {
    auto found = after.find(path);
    if (found == after.end()) note(path, value, "");
    else if (found->second != value) note(path, value, found->second);
  }
  for (const auto& [path, value] : after)
    if (before.count(path) == 0) note(path, "", value);
  std::sort(plan.changes.begin(), plan.changes.end(),
            [](const key_change& a, const key_change& b) { return a.path < b.path; });
  return plan;
}

std::string describe(const key_change& change) {
  std::string text = change.path + ": ";
  if (change.before.empty()) {
    text += "added (" + change.after + ")";
  } else if (change.after.empty()) {
    text += "removed (was " + change.before + ")";
  } else {
    text += change.before + " -> " + change.after;
  }
  return text;
}

}  // namespace plant::config
