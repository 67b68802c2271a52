#include "agent/config/agent_schema.hpp"

#include <algorithm>

#include "common/config/checks.hpp"
#include "common/config/mqtt_keys.hpp"

namespace plant::config {

namespace {

const char* const intro =
    "# plant-agent configuration reference\n"
    "#\n"
    "# Every key is listed with its default value and what it does. Durations are\n"
    "# strings such as \"250ms\", \"5s\", \"2m\", \"2h\", \"7d\" or \"1h30m\"; sizes are strings\n"
    "# such as \"512KiB\", \"64MiB\" or \"1GiB\" (KB, MB and GB are powers of 1000).\n"
    "# Relative paths are resolved against the directory of this file. Unknown keys\n"
    "# are errors. Any key can be overridden with --set key.path=value, e.g.\n"
    "# --set mqtt.qos=0 or --set source.simulator.0.speed=10 (blocks count from 0).\n";

const char* const examples_banner =
    "# ---------------------------------------------------------------------------\n"
    "# Sources and materials\n"
    "#\n"
    "# These sections repeat: one [[source.simulator]], [[source.csv]] or\n"
    "# [[source.modbus]] block per source (names unique across all sources) and\n"
    "# one [[material]] block per material. The examples below are commented out;\n"
    "# remove the leading \"# \" from a block's lines to use it.\n"
    "# ---------------------------------------------------------------------------\n";


std::string check_not_empty(std::string& text) {
  if (text.empty()) return "must not be empty (\"\" would put state in the working directory)";
  return "";
}

// [spool]: segment_bytes <= max_bytes.
void check_spool(table_value& values, diagnostic_sink& sink) {
  const key_value& max_bytes = values.get("max_bytes");
  const key_value& segment = values.get("segment_bytes");
  if (!max_bytes.has || !segment.has || segment.bytes <= max_bytes.bytes) return;
  const bool blame_segment = segment.present || !max_bytes.present;
  sink.error(blame_segment ? where_written(segment, values) : where_written(max_bytes, values),
             path_of(values, blame_segment ? "segment_bytes" : "max_bytes"),
             "segment_bytes (" + format_size(segment.bytes) + ") must not be larger than max_bytes (" +
                 format_size(max_bytes.bytes) + ")");
}

// [mqtt]: the shared connection checks, plus the one hazard of QoS 2 under 3.1.1.
void check_agent_mqtt(table_value& values, diagnostic_sink& sink) {
  check_mqtt_connection(values, sink);
  const key_value& protocol = values.get("protocol");
  const key_value& qos = values.get("qos");
  const key_value& inflight = values.get("max_inflight");
  // Mosquitto's default max_inflight_messages: the QoS 2 messages a client may have unreleased.
  constexpr std::int64_t common_broker_quota = 20;
  if (protocol.has && protocol.text == "3.1.1" && qos.has && qos.integer == 2 && inflight.has &&
      inflight.integer > common_broker_quota) {
    sink.warning(where_written(inflight, values), path_of(values, "max_inflight"),
                 std::to_string(inflight.integer) +
                     " with qos = 2 over MQTT 3.1.1: a broker that allows fewer unreleased QoS 2 messages (Mosquitto's "
                     "max_inflight_messages, 20 by default) drops the rest while acknowledging them; use protocol = "
                     "\"5\" (the broker then says its limit) or max_inflight = 20 or less");
  }
}

// The whole file: unique source names across kinds, unique line ids and materials,
// kinds compiled out of this build, and a warning when nothing is configured.
void check_root(table_value& values, diagnostic_sink& sink) {
  std::vector<named_at> names, materials, lines;
  bool any_source = false;
  const key_value& source = values.get("source");
  if (source.has && !source.tables.empty()) {
    const table_value& s = source.tables.front();
    for (const sources::source_kind& kind : sources::source_kinds()) {
      const key_value& blocks = s.get(kind.name);
      collect_names(blocks, "name", names);
      any_source = any_source || !blocks.tables.empty();
      for (const table_value& block : blocks.tables) {
        if (kind.make == nullptr) {
          sink.error(block.at, block.path,
                     "this plant-agent was built without " + std::string(kind.name) + " sources (CMake option " +
                         std::string(kind.cmake_option) + "=OFF); rebuild with -D" + std::string(kind.cmake_option) +
                         "=ON");
        }
        if (block.spec->find("line") != nullptr) collect_names(block.get("line"), "id", lines);
      }
    }
  }
  report_duplicates(names, "source name", sink);
  report_duplicates(lines, "line id", sink);
  collect_names(values.get("material"), "id", materials);
  report_duplicates(materials, "material", sink);
  if (!any_source) sink.warning(values.at, "", "no sources configured; the agent will only publish its status");
}

// [source] has no struct of its own: every kind's blocks land in agent_config::sources,
// in file order across kinds, so sources start (and are listed) as written.
void store_sources(void* target, const key_spec&, const key_value& v) {
  if (!v.has || v.tables.empty()) return;
  std::vector<std::pair<position, sources::configured_source>> found;
  const table_value& source = v.tables.front();
  for (const sources::source_kind& kind : sources::source_kinds()) {
    for (const table_value& block : source.get(kind.name).tables)
      found.emplace_back(block.at, sources::configured_source{&kind, kind.read(block)});
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return comes_before(a.first, b.first); });
  auto& config = *static_cast<agent_config*>(target);
  for (auto& entry : found) config.sources.push_back(std::move(entry.second));
}

struct agent_sections {
  section_spec agent, mqtt, spool, health, sparkplug, shortage, source, material, root;
  agent_sections();
};

using vt = value_type;

// [agent]
section_spec agent_spec() {
  section_spec s;
  s.name = "agent";
  s.help = "Who this agent is; id and site become MQTT topic levels.";
  s.keys = {
      make_key("id", vt::string).req().checked(check_name).example_value(quoted("gateway-1"))
          .describe("Name of this gateway, unique within its site.").stored(store<&agent_section::id>)
          .on_reload_restart(),
      make_key("site", vt::string).req().checked(check_name).example_value(quoted("plant-1"))
          .describe("Name of the plant or site.").stored(store<&agent_section::site>).on_reload_restart(),
      make_key("state_dir", vt::path).def(quoted("/var/lib/plant-agent")).checked(check_not_empty)
          .describe("Directory for the spool and other state; one agent per directory (it is locked).")
          .stored(store<&agent_section::state_dir>).on_reload_restart(),
      make_key("log_level", vt::choice).def(quoted("info")).one_of({"debug", "info", "warn", "error"})
          .describe("Least severe level that is logged.").stored(store<&agent_section::level>),
      make_key("heartbeat_interval", vt::duration).def(quoted("30s")).range("1s", "1h")
          .describe("How often the agent publishes its own status.")
          .stored(store<&agent_section::heartbeat_interval>),
  };
  return s;
}

// [mqtt]
section_spec mqtt_spec() {
  section_spec s;
  s.name = "mqtt";
  s.help = "The MQTT broker the agent publishes to.";
  s.check = check_agent_mqtt;
  s.keys = mqtt_connection_keys<mqtt_section>("\"\" = \"plant-agent-<site>-<id>\".");
  for (auto key : {
           make_key("qos", vt::integer).def("1").range("0", "2")
               .describe("QoS of telemetry messages.").stored(store<&mqtt_section::qos>),
           make_key("protocol", vt::choice).def(quoted("auto")).one_of({"auto", "5", "3.1.1"})
               .describe("MQTT version: 5 makes the broker say when it drops a message (ACL, size, quota) and "
                         "what it accepts; \"auto\" = 5, or 3.1.1 when the broker refuses 5.")
               .stored(store<&mqtt_section::protocol>).on_reload_reconnect(),
           make_key("format", vt::choice).def(quoted("plant")).one_of({"plant", "sparkplug"})
               .describe("What the agent publishes on this connection: \"plant\" = plant.v1 envelopes under "
                         "topic_prefix; \"sparkplug\" = Sparkplug B 3.0 only (spBv1.0/..., see [sparkplug]).")
               .stored(store<&mqtt_section::format>).on_reload_restart(),
           make_key("publish_interval", vt::duration).def(quoted("1s")).range("10ms", "1h")
               .describe("How long samples are batched before publishing.")
               .stored(store<&mqtt_section::publish_interval>),
           make_key("max_batch", vt::integer).def("1000").range("1", "100000")
               .describe("Samples per telemetry message.").stored(store<&mqtt_section::max_batch>),
           make_key("max_inflight", vt::integer).def("64").range("1", "32767")
               .describe("Messages sent but not yet acknowledged.").stored(store<&mqtt_section::max_inflight>)
               .on_reload_reconnect(),
           make_key("queue_max_messages", vt::integer).def("1000").range("1", "1000000")
               .describe("Messages held in memory when the spool is off or cannot write; past it the oldest are "
                         "dropped (reported).")
               .stored(store<&mqtt_section::queue_max_messages>),
           make_key("max_message_bytes", vt::size).def(quoted("256KiB")).range("4KiB", "15MiB")
               .describe("Largest MQTT payload sent; telemetry batches are split below it (set it below the "
                         "broker's message_size_limit).")
               .stored(store<&mqtt_section::max_message_bytes>),
           make_key("shutdown_timeout", vt::duration).def(quoted("5s")).range("0s", "5m")
               .describe("On stop, wait this long for acknowledgements.")
               .stored(store<&mqtt_section::shutdown_timeout>),
       })
    s.keys.push_back(std::move(key));
  return s;
}

// [spool]
section_spec spool_spec() {
  section_spec s;
  s.name = "spool";
  s.help = "The on-disk spool: messages survive broker outages and restarts.";
  s.check = check_spool;
  s.keys = {
      make_key("enabled", vt::boolean).def("true").describe("false = unacknowledged messages live only in memory (queue_max_messages), lost on restart.")
          .stored(store<&spool_section::enabled>).on_reload_restart(),
      make_key("sync", vt::choice).def(quoted("batch")).one_of({"always", "batch", "never"})
          .describe("always = fdatasync before each message is published, batch = at most every sync_interval, never = leave it to the OS.")
          .stored(store<&spool_section::sync>),
      make_key("sync_interval", vt::duration).def(quoted("1s")).range("1ms", "10s")
          .describe("The batch window for sync = \"batch\": a message is fdatasynced at most this long after it was spooled, unless the broker acknowledged it first (then never).").stored(store<&spool_section::sync_interval>),
      make_key("max_bytes", vt::size).def(quoted("256MiB")).range("64KiB", "")
          .describe("Disk space the spool may use; the oldest segments go first.")
          .stored(store<&spool_section::max_bytes>),
      make_key("max_age", vt::duration).def(quoted("7d")).range("1s", "")
          .describe("Messages older than this are dropped.").stored(store<&spool_section::max_age>),
      make_key("segment_bytes", vt::size).def(quoted("16MiB")).range("4KiB", "1GiB")
          .describe("Size of one spool file; at most max_bytes.").stored(store<&spool_section::segment_bytes>),
      make_key("backfill_share", vt::number).def("0.5").range("0.05", "1.0")
          .describe("Share of the in-flight window the backlog may use after an outage; live messages always get the rest.")
          .stored(store<&spool_section::backfill_share>),
  };
  return s;
}

// [health]
section_spec health_spec() {
  section_spec s;
  s.name = "health";
  s.help = "The local health endpoint.";
  s.keys = {
      make_key("listen", vt::string).def(quoted("")).checked(check_listen)
          .describe("\"host:port\" to serve /healthz, e.g. \"127.0.0.1:9464\"; \"\" = off.")
          .stored(store<&health_section::listen>).on_reload_restart(),
      make_key("max_backlog_age", vt::duration).def(quoted("5m"))
          .describe("Unhealthy when the oldest unpublished message is older than this.")
          .stored(store<&health_section::max_backlog_age>),
  };
  return s;
}

// [sparkplug]
// Sparkplug ids are topic levels of their own (spBv1.0/<group>/NBIRTH/<node>).
std::string check_sparkplug_id(std::string& text) {
  for (unsigned char c : text) {
    if (c == '/' || c == '+' || c == '#')
      return quote(text) + " must not contain '/', '+' or '#' (it is a Sparkplug topic level)";
    if (c < 0x20 || c == 0x7f) return quote(text) + " must not contain control characters";
  }
  return "";
}

section_spec sparkplug_spec() {
  section_spec s;
  s.name = "sparkplug";
  s.help = "Sparkplug B 3.0 identity and host gating, used when mqtt.format = \"sparkplug\".";
  s.keys = {
      make_key("group_id", vt::string).def(quoted("")).checked(check_sparkplug_id).example_value(quoted("plant-1"))
          .describe("Sparkplug group id; \"\" = agent.site.").stored(store<&sparkplug_section::group_id>)
          .on_reload_restart(),
      make_key("edge_node_id", vt::string).def(quoted("")).checked(check_sparkplug_id)
          .example_value(quoted("gateway-1"))
          .describe("Sparkplug edge node id, unique in the group; \"\" = agent.id.")
          .stored(store<&sparkplug_section::edge_node_id>).on_reload_restart(),
      make_key("primary_host_id", vt::string).def(quoted("")).checked(check_sparkplug_id)
          .example_value(quoted("scada-host"))
          .describe("Publish only while this host application's spBv1.0/STATE/<id> says online, holding "
                    "data in the spool meanwhile (sent later as is_historical); \"\" = no gating.")
          .stored(store<&sparkplug_section::primary_host_id>).on_reload_restart(),
  };
  return s;
}

// [shortage]
section_spec shortage_spec() {
  section_spec s;
  s.name = "shortage";
  s.help = "Shortage estimation for the [[material]] entries.";
  s.keys = {
      make_key("enabled", vt::boolean).def("true").describe("Estimate and publish shortages.")
          .stored(store<&shortage_section::enabled>),
      make_key("margin", vt::duration).def(quoted("8h"))
          .describe("Low when stock runs out within lead_time + margin.").stored(store<&shortage_section::margin>),
      make_key("rate_half_life", vt::duration).def(quoted("2h")).range("1m", "30d")
          .describe("How fast the consumption rate adapts.").stored(store<&shortage_section::rate_half_life>),
      make_key("surplus_margin", vt::number).def("0.2").range("0", "10")
          .describe("Surplus when stock > reorder_point * (1 + surplus_margin).")
          .stored(store<&shortage_section::surplus_margin>),
      make_key("late_grace", vt::duration).def(quoted("4h")).range("0s", "30d")
          .describe("An open receipt past its due time with no delivery seen is late: it raises low at once when "
                    "the stock needs it, and still counts in the projection for this long, then no more.")
          .stored(store<&shortage_section::late_grace>),
  };
  return s;
}

// [source]: one table array per source kind, from the registry
section_spec source_spec() {
  section_spec s;
  s.name = "source";
  for (const sources::source_kind& kind : sources::source_kinds())
    s.keys.push_back(make_key(std::string(kind.name), vt::table_array).of(kind.schema()));
  return s;
}

// [[material]]
// A safety stock is either given or computed from the service level, not both.
void check_material(table_value& values, diagnostic_sink& sink) {
  const key_value& level = values.get("service_level");
  const key_value& fixed = values.get("safety_stock");
  if (level.present && fixed.present)
    sink.error(level.key_at, values.path + ".service_level",
               "set either safety_stock or service_level (which computes the safety stock), not both");
  const key_value& sd = values.get("lead_time_sd");
  if (sd.present && !level.present)
    sink.warning(sd.key_at, values.path + ".lead_time_sd", "has no effect without service_level");
}

section_spec material_spec() {
  section_spec s;
  s.name = "material";
  s.help = "A material the shortage board watches; stock comes from any source that reports it.";
  s.keys = {
      make_key("id", vt::string).req().checked(check_name).example_value(quoted("steel-coil"))
          .describe("Material id, unique; becomes an MQTT topic level.").stored(store<&material_config::id>),
      make_key("unit", vt::string).def(quoted("")).example_value(quoted("kg"))
          .describe("Unit of the quantities below.").stored(store<&material_config::unit>),
      make_key("safety_stock", vt::number).def("0.0").range("0", "").example_value("500.0")
          .describe("Stock that must never be used up.").stored(store<&material_config::safety_stock>),
      make_key("reorder_point", vt::number).range("0", "").example_value("2000.0")
          .describe("Order at this level; optional.").stored(store<&material_config::reorder_point>),
      make_key("lead_time", vt::duration).req().range("1ms", "").example_value(quoted("3d"))
          .describe("Time from order to delivery.").stored(store<&material_config::lead_time>),
      make_key("lines", vt::string_list).def("[]").checked(check_name).example_value("[\"line-1\"]")
          .describe("Ids of the lines that consume it.").stored(store<&material_config::lines>),
      make_key("margin", vt::duration).example_value(quoted("8h"))
          .describe("Overrides shortage.margin for this material; optional.")
          .stored(store<&material_config::margin>),
      make_key("critical_horizon", vt::duration).example_value(quoted("1d"))
          .describe("Critical when stock runs out within this; optional, default lead_time.")
          .stored(store<&material_config::critical_horizon>),
      make_key("service_level", vt::number).range("0.5", "0.9999").example_value("0.95")
          .describe("Safety stock from variability instead of a fixed safety_stock: z(service_level) * "
                    "sqrt(LT * sd_rate^2 + rate^2 * lead_time_sd^2), hours and units per hour; optional.")
          .stored(store<&material_config::service_level>),
      make_key("lead_time_sd", vt::duration).def(quoted("0s")).example_value(quoted("8h"))
          .describe("Standard deviation of the lead time, for service_level.")
          .stored(store<&material_config::lead_time_sd>),
  };
  s.check = check_material;
  s.examples = {
      config::example_spec{"",
                           {"id", "unit", "safety_stock", "reorder_point", "lead_time", "lines", "margin",
                            "critical_horizon"},
                           {},
                           true},
      config::example_spec{"A safety stock from the variability of consumption and of the lead time\n"
                           "instead of a fixed one (see the README, Shortage detection).",
                           {"id", "unit", "reorder_point", "lead_time", "service_level", "lead_time_sd"},
                           {{"id", quoted("resin")}},
                           true},
  };
  return s;
}

agent_sections::agent_sections()
    : agent(agent_spec()),
      mqtt(mqtt_spec()),
      spool(spool_spec()),
      health(health_spec()),
      sparkplug(sparkplug_spec()),
      shortage(shortage_spec()),
      source(source_spec()),
      material(material_spec()) {
  // The root refers to the sections above by address: they live as long as this object.
  root.name = "";
  root.check = check_root;
  root.keys = {
      make_key("agent", vt::table).def("{}").of(agent).stored(store<&agent_config::agent>),
      make_key("mqtt", vt::table).def("{}").of(mqtt).stored(store<&agent_config::mqtt>),
      make_key("spool", vt::table).def("{}").of(spool).stored(store<&agent_config::spool>),
      make_key("health", vt::table).def("{}").of(health).stored(store<&agent_config::health>),
      make_key("sparkplug", vt::table).def("{}").of(sparkplug).stored(store<&agent_config::sparkplug>),
      make_key("shortage", vt::table).def("{}").of(shortage).stored(store<&agent_config::shortage>),
      make_key("source", vt::table).def("{}").of(source).stored(store_sources),
      make_key("material", vt::table_array).of(material).stored(store<&agent_config::materials>),
  };
}

const agent_sections& sections() {
  static const agent_sections s;
  return s;
}

}  // namespace

const section_spec& agent_root_section() { return sections().root; }

std::string render_agent_reference() { return render_reference(agent_root_section(), intro, examples_banner); }

}  // namespace plant::config
