#include "agent/config/config_loader.hpp"

#include "agent/config/agent_schema.hpp"
#include "common/config/loader.hpp"

namespace plant::config {

namespace {

load_result from_document(document_result document, const std::string& source_path) {
  load_result result;
  result.errors = std::move(document.errors);
  result.warnings = std::move(document.warnings);
  if (!document.root) return result;
  result.config = make_agent_config(*document.root, source_path);
  result.tree = std::make_shared<const table_value>(std::move(*document.root));
  return result;
}

}  // namespace

agent_config make_agent_config(const table_value& tree, const std::string& source_path) {
  agent_config config;
  store_section(tree, &config);
  config.source_path = source_path;
  config.hash = config_hash(tree);
  return config;
}

load_result load_config_text(std::string_view toml_text, const std::string& display_name,
                             const std::vector<std::string>& overrides, const std::string& base_dir) {
  return from_document(load_document_text(toml_text, agent_root_section(), display_name, overrides, base_dir),
                       display_name);
}

load_result load_config_file(const std::string& path, const std::vector<std::string>& overrides) {
  document_result document = load_document_file(path, agent_root_section(), overrides);
  const std::string source_path = document.absolute_path.empty() ? path : document.absolute_path;
  return from_document(std::move(document), source_path);
}

}  // namespace plant::config
