#include "common/sparkplug/sparkplug_topic.hpp"

#include <array>
#include <utility>
#include <vector>

namespace plant::sparkplug {
namespace {

constexpr std::array<std::pair<message_type, std::string_view>, 9> type_names{{
    {message_type::nbirth, "NBIRTH"},
    {message_type::ndeath, "NDEATH"},
    {message_type::ndata, "NDATA"},
    {message_type::ncmd, "NCMD"},
    {message_type::dbirth, "DBIRTH"},
    {message_type::ddeath, "DDEATH"},
    {message_type::ddata, "DDATA"},
    {message_type::dcmd, "DCMD"},
    {message_type::state, "STATE"},
}};

std::vector<std::string_view> split_levels(std::string_view text) {
  std::vector<std::string_view> levels;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = text.find('/', start);
    levels.push_back(text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return levels;
    start = slash + 1;
  }
}

}  // namespace

std::string_view to_string(message_type type) {
  for (const auto& [t, name] : type_names)
    if (t == type) return name;
  return "UNKNOWN";
}

bool is_device_message(message_type type) {
  return type == message_type::dbirth || type == message_type::ddeath || type == message_type::ddata ||
         type == message_type::dcmd;
}

std::string format_topic(const topic& t) {
  if (t.type == message_type::state) return state_topic(t.edge_node_id);
  std::string out(topic_namespace);
  out += '/';
  out += t.group_id;
  out += '/';
  out += to_string(t.type);
  out += '/';
  out += t.edge_node_id;
  if (is_device_message(t.type)) {
    out += '/';
    out += t.device_id;
  }
  return out;
}

std::string state_topic(const std::string& host_id) {
  return std::string(topic_namespace) + "/STATE/" + host_id;
}

std::optional<topic> parse_topic(std::string_view text) {
  const std::vector<std::string_view> levels = split_levels(text);
  if (levels.size() < 3 || levels[0] != topic_namespace) return std::nullopt;
  for (std::string_view level : levels)
    if (level.empty()) return std::nullopt;
  topic t;
  if (levels[1] == "STATE") {
    if (levels.size() != 3) return std::nullopt;
    t.type = message_type::state;
    t.edge_node_id = std::string(levels[2]);
    return t;
  }
  if (levels.size() < 4) return std::nullopt;
  bool known = false;
  for (const auto& [type, name] : type_names) {
    if (name == levels[2] && type != message_type::state) {
      t.type = type;
      known = true;
    }
  }
  if (!known) return std::nullopt;
  if (levels.size() != (is_device_message(t.type) ? 5u : 4u)) return std::nullopt;
  t.group_id = std::string(levels[1]);
  t.edge_node_id = std::string(levels[3]);
  if (is_device_message(t.type)) t.device_id = std::string(levels[4]);
  return t;
}

}  // namespace plant::sparkplug
