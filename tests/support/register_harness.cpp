#include "tests/support/register_harness.hpp"

#include <cstdlib>

#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

#if !defined(PLANT_REGISTER_BIN)
#error "tests/support needs PLANT_REGISTER_BIN (set by tests/CMakeLists.txt)"
#endif

namespace plant::test {

std::string register_binary() {
  // As for agent_binary(): scripts/test points this at a sanitizer build.
  const char* given = std::getenv("PLANT_REGISTER_BIN");
  return given != nullptr && *given != '\0' ? given : PLANT_REGISTER_BIN;
}

std::string register_config_text(const std::string& state_dir, const std::string& broker_url,
                                 const std::string& database_url, std::uint16_t http_port,
                                 const std::string& client_id, const std::string& extra) {
  return "[register]\nstate_dir = \"" + state_dir + "\"\n\n[mqtt]\nurl = \"" + broker_url + "\"\nclient_id = \"" +
         client_id + "\"\nreconnect_min_delay = \"100ms\"\nreconnect_max_delay = \"1s\"\n\n[database]\nurl = \"" +
         database_url + "\"\nretry_max_delay = \"1s\"\n\n[http]\nlisten = \"127.0.0.1:" + std::to_string(http_port) +
         "\"\n" + extra + "\n";
}

register_process::register_process(const temp_dir& dir, std::string name, const std::string& config_text)
    : dir_(dir), name_(std::move(name)), config_path_(dir.file(name_ + ".toml")) {
  write_file(config_path_, config_text);
}

testing::AssertionResult register_process::start(const std::vector<std::string>& args) {
  process_spec spec;
  spec.argv = {register_binary(), "--config", config_path_};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output_dir = dir_.path();
  spec.name = name_;
  return process_.start(spec);
}

testing::AssertionResult register_process::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
  if (wait_until([&] { return log().find(text) != std::string::npos; }, timeout)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "register log never showed '" << text << "'; log:\n" << log();
}

namespace {

// The end of the JSON value starting at `i` (one past it).
std::size_t value_end(const std::string& t, std::size_t i) {
  int depth = 0;
  bool in_string = false;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    } else if (c == ',' && depth == 0) {
      return i;
    }
  }
  return i;
}

std::size_t skip_space(const std::string& t, std::size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\t' || t[i] == '\r')) ++i;
  return i;
}

}  // namespace

std::vector<std::string> json_array_items(const std::string& text) {
  std::vector<std::string> items;
  std::size_t i = skip_space(text, 0);
  if (i >= text.size() || text[i] != '[') return items;
  i = skip_space(text, i + 1);
  while (i < text.size() && text[i] != ']') {
    const std::size_t end = value_end(text, i);
    items.push_back(text.substr(i, end - i));
    i = skip_space(text, end);
    if (i < text.size() && text[i] == ',') i = skip_space(text, i + 1);
  }
  return items;
}

std::string json_member(const std::string& object, const std::string& key) {
  std::size_t i = skip_space(object, 0);
  if (i >= object.size() || object[i] != '{') return "";
  i = skip_space(object, i + 1);
  while (i < object.size() && object[i] == '"') {
    const std::size_t name_end = value_end(object, i);
    const std::string name = object.substr(i + 1, name_end - i - 2);
    i = skip_space(object, name_end);
    if (i >= object.size() || object[i] != ':') return "";
    i = skip_space(object, i + 1);
    const std::size_t end = value_end(object, i);
    if (name == key) return object.substr(i, end - i);
    i = skip_space(object, end);
    if (i < object.size() && object[i] == ',') i = skip_space(object, i + 1);
  }
  return "";
}

}  // namespace plant::test
