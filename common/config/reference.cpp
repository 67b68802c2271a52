#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include "common/config/reference.hpp"

namespace plant::config {
namespace {

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// "Required. One of: a, b." / "Range: 1s..1h." — generated, so the docs cannot drift from the rules.
std::string constraints(const key_spec& key) {
  std::string out;
  if (key.required) out += "Required.";
  if (!key.choices.empty() && key.type != value_type::state_map)
    out += std::string(out.empty() ? "" : " ") + "One of: " + list(key.choices) + ".";
  if (key.min && key.max) out += std::string(out.empty() ? "" : " ") + "Range: " + describe_range(key) + ".";
  else if (key.min || key.max) {
    std::string range = describe_range(key);
    range[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(range[0])));
    out += std::string(out.empty() ? "" : " ") + range + ".";
  }
  if (key.reload == reload_policy::reconnect) out += std::string(out.empty() ? "" : " ") + "SIGHUP applies it by reconnecting.";
  if (key.reload == reload_policy::restart) out += std::string(out.empty() ? "" : " ") + "Needs a restart.";
  if (!key.aliases.empty()) out += std::string(out.empty() ? "" : " ") + "Formerly " + list(key.aliases) + ".";
  return out;
}

// Help lines with the constraints appended to the last one.
std::vector<std::string> help_lines(const key_spec& key) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= key.help.size() && !key.help.empty()) {
    const auto end = key.help.find('\n', start);
    lines.push_back(key.help.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  const std::string extra = constraints(key);
  if (!extra.empty()) {
    if (lines.empty()) lines.push_back(extra);
    else lines.back() += " " + extra;
  }
  return lines;
}

void comment_block(std::string& out, const std::string& prefix, const std::string& text) {
  if (text.empty()) return;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find('\n', start);
    out += prefix + text.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

bool has_plain_keys(const section_spec& spec) {
  return std::any_of(spec.keys.begin(), spec.keys.end(),
                     [](const key_spec& k) { return k.type != value_type::table_array; });
}

void render_section(std::string& out, const section_spec& spec) {
  out += "\n";
  comment_block(out, "# ", spec.help);
  out += "[" + spec.name + "]\n";
  for (const key_spec& key : spec.keys) {
    out += "\n";
    for (const std::string& line : help_lines(key)) out += "# " + line + "\n";
    out += key.name + " = " + (key.default_value.empty() ? key.example : key.default_value) + "\n";
  }
}

using example_values = std::vector<std::pair<std::string, std::string>>;

std::string example_text(const key_spec& key, const example_values& values) {
  for (const auto& [name, text] : values)
    if (name == key.name) return text;
  return key.example.empty() ? key.default_value : key.example;
}

// The values an example gives for the blocks nested under `child`: "child.key" -> "key".
example_values nested_values(const example_values& values, const std::string& child) {
  example_values out;
  for (const auto& [name, text] : values)
    if (name.size() > child.size() && name.compare(0, child.size(), child) == 0 && name[child.size()] == '.')
      out.emplace_back(name.substr(child.size() + 1), text);
  return out;
}

bool shows(const example_spec& example, const key_spec& key) {
  return example.keys.empty() || std::find(example.keys.begin(), example.keys.end(), key.name) != example.keys.end();
}

// The keys of an inline-table schema (a Modbus point), listed once before the blocks that use it.
void render_inline_section_doc(std::string& out, const section_spec& spec) {
  out += "\n";
  comment_block(out, "# # ", spec.help);
  std::size_t width = 0;
  for (const key_spec& key : spec.keys) width = std::max(width, key.name.size());
  for (const key_spec& key : spec.keys) {
    std::string text;
    for (const std::string& line : help_lines(key)) text += (text.empty() ? "" : " ") + line;
    out += "# #   " + key.name + std::string(width + 2 - key.name.size(), ' ') + text + "\n";
  }
}

void render_examples(std::string& out, const section_spec& spec, bool parent_help, const example_values& inherited,
                     std::set<const section_spec*>& documented) {
  const std::vector<example_spec> examples =
      spec.examples.empty() ? std::vector<example_spec>{example_spec{"", {}, {}, true}} : spec.examples;
  for (std::size_t e = 0; e < examples.size(); ++e) {
    const example_spec& example = examples[e];
    example_values values = inherited;
    values.insert(values.end(), example.values.begin(), example.values.end());
    const bool help = parent_help && example.with_help;
    out += "\n";
    if (help && e == 0) comment_block(out, "# # ", spec.help);
    comment_block(out, "# # ", example.note);
    out += "# [[" + spec.name + "]]\n";
    for (const key_spec& key : spec.keys) {
      if (key.type == value_type::table_array || !shows(example, key)) continue;
      if (help)
        for (const std::string& line : help_lines(key)) out += "# # " + line + "\n";
      out += "# " + key.name + " = " + example_text(key, values) + "\n";
    }
    for (const key_spec& key : spec.keys) {
      if (key.type != value_type::table_array || !shows(example, key)) continue;
      if (help) {
        for (const key_spec& nested : key.section->keys) {
          if (nested.type == value_type::table && documented.insert(nested.section).second)
            render_inline_section_doc(out, *nested.section);
        }
      }
      render_examples(out, *key.section, help, nested_values(values, key.name), documented);
    }
  }
}

void render_repeatable(std::string& out, const section_spec& spec, std::set<const section_spec*>& documented) {
  for (const key_spec& key : spec.keys) {
    if (key.type == value_type::table_array) render_examples(out, *key.section, true, {}, documented);
    else if (key.type == value_type::table && !has_plain_keys(*key.section)) render_repeatable(out, *key.section, documented);
  }
}

}  // namespace

std::string render_reference(const section_spec& root, std::string_view intro, std::string_view examples_banner) {
  std::string out(intro);
  for (const key_spec& key : root.keys)
    if (key.type == value_type::table && has_plain_keys(*key.section)) render_section(out, *key.section);
  out += "\n";
  out += examples_banner;
  std::set<const section_spec*> documented;
  render_repeatable(out, root, documented);
  return out;
}

}  // namespace plant::config
