#pragma once
/// Sparkplug B 3.0 topics: spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]
/// and the host's spBv1.0/STATE/<host_id>. Pure: built and parsed here for the
/// agent (which publishes them) and plant-watch (which reads them).
#include <optional>
#include <string>
#include <string_view>

namespace plant::sparkplug {

/// The namespace level every Sparkplug B topic starts with.
inline constexpr std::string_view topic_namespace = "spBv1.0";

enum class message_type { nbirth, ndeath, ndata, ncmd, dbirth, ddeath, ddata, dcmd, state };

/// "NBIRTH", "DDATA", "STATE", ...
std::string_view to_string(message_type type);
/// True for the device-level types (DBIRTH, DDEATH, DDATA, DCMD).
bool is_device_message(message_type type);

struct topic {
  message_type type = message_type::ndata;
  std::string group_id;      ///< empty for STATE
  std::string edge_node_id;  ///< the host id for STATE
  std::string device_id;     ///< device messages only
};

/// The topic string for `t`.
std::string format_topic(const topic& t);
/// Parses a Sparkplug B topic; nullopt for anything else (another namespace, an unknown
/// message type, a missing or extra level).
std::optional<topic> parse_topic(std::string_view text);

/// The host application's STATE topic.
std::string state_topic(const std::string& host_id);

}  // namespace plant::sparkplug
