// config/plant-agent.toml is generated from the schema; these tests keep it exact and loadable.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config/agent_schema.hpp"
#include "agent/config/config_loader.hpp"
#include "agent/sources/csv/csv_settings.hpp"
#include "agent/sources/modbus/modbus_settings.hpp"
#include "agent/sources/simulator/simulator_settings.hpp"

#ifndef PLANT_SOURCE_DIR
#error "PLANT_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

namespace plant::config {
namespace {

const std::string reference_path = std::string(PLANT_SOURCE_DIR) + "/config/plant-agent.toml";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> texts(const std::vector<diagnostic>& list) {
  std::vector<std::string> out;
  for (const diagnostic& d : list) out.push_back(d.to_string());
  return out;
}

// Removes the leading "# " from every line of the example blocks (everything after the last "# ----" rule).
std::string uncomment_examples(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::size_t start = 0;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind("# ----", 0) == 0) start = i + 1;
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const bool strip = i >= start && lines[i].rfind("# ", 0) == 0;
    out += (strip ? lines[i].substr(2) : lines[i]) + "\n";
  }
  return out;
}

TEST(reference_config, file_equals_the_rendered_schema) {
  // If this fails after a schema change: regenerate config/plant-agent.toml from render_agent_reference().
  EXPECT_EQ(read_file(reference_path), render_agent_reference());
}

TEST(reference_config, loads_without_errors) {
  const load_result r = load_config_file(reference_path);
  EXPECT_EQ(texts(r.errors), std::vector<std::string>{});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->agent.id, "gateway-1");
  EXPECT_EQ(r.config->agent.site, "plant-1");
  EXPECT_EQ(texts(r.warnings), std::vector<std::string>{reference_path +
                                                        ":1:1: warning: no sources configured; the agent will only "
                                                        "publish its status"});
}

TEST(reference_config, uncommented_examples_load_without_errors) {
  const std::string text = uncomment_examples(render_agent_reference());
  const load_result r = load_config_text(text, "uncommented.toml");
  EXPECT_EQ(texts(r.errors), std::vector<std::string>{});
  EXPECT_EQ(texts(r.warnings), std::vector<std::string>{});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->sources_of<sources::simulator_settings>().size(), 1u);
  const auto csv = r.config->sources_of<sources::csv_settings>();
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[0].kind, sources::csv_kind::stock);
  EXPECT_EQ(csv[1].kind, sources::csv_kind::receipts);
  EXPECT_EQ(csv[2].kind, sources::csv_kind::demand);
  const auto modbus = r.config->sources_of<sources::modbus_settings>();
  EXPECT_EQ(modbus.size(), 2u);
  ASSERT_EQ(r.config->materials.size(), 2u);
  EXPECT_FALSE(r.config->materials[0].service_level.has_value());
  EXPECT_EQ(r.config->materials[1].service_level, std::optional<double>(0.95));
  ASSERT_FALSE(modbus.empty());
  ASSERT_FALSE(modbus[0].lines.empty());
  EXPECT_TRUE(modbus[0].lines[0].state && modbus[0].lines[0].good_count && modbus[0].lines[0].reject_count);
}

TEST(reference_config, uncommented_examples_name_every_key_of_the_schema) {
  const std::string text = uncomment_examples(render_agent_reference());
  std::set<std::string> missing;
  std::function<void(const section_spec&, const std::string&)> visit = [&](const section_spec& spec,
                                                                          const std::string& prefix) {
    for (const key_spec& key : spec.keys) {
      if (key.section != nullptr) {
        visit(*key.section, prefix + key.name + ".");
        if (&spec == &agent_root_section() || key.type == value_type::table_array) continue;
      }
      // Written as a key: at the start of a line or inside an inline table.
      const std::string written = key.name + " = ";
      bool found = false;
      for (auto pos = text.find(written); pos != std::string::npos && !found; pos = text.find(written, pos + 1))
        found = pos == 0 || text[pos - 1] == '\n' || text[pos - 1] == ' ';
      if (!found) missing.insert(prefix + key.name);
    }
  };
  visit(agent_root_section(), "");
  missing.erase("source");  // [source] only holds the arrays of tables
  EXPECT_EQ(missing, std::set<std::string>{});
}

}  // namespace
}  // namespace plant::config
