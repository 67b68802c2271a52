#include "agent/config/config_schema.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <type_traits>

#include "agent/config/config_checks.hpp"
#include "agent/config/units.hpp"

namespace plant::config {

// ---- builder ---------------------------------------------------------------

key_spec make_key(std::string name, value_type type) {
  key_spec k;
  k.name = std::move(name);
  k.type = type;
  return k;
}

key_spec& key_spec::def(std::string toml_text) {
  default_value = std::move(toml_text);
  return *this;
}

key_spec& key_spec::req() {
  required = true;
  return *this;
}

namespace {

// Ranges are written in the key's own units so the schema reads like the docs.
double parse_bound(value_type type, std::string_view text) {
  std::string error;
  if (type == value_type::duration) {
    if (auto d = parse_duration(text, error)) return static_cast<double>(d->count());
  } else if (type == value_type::size) {
    if (auto s = parse_size(text, error)) return static_cast<double>(*s);
  } else {
    const std::string copy(text);
    char* end = nullptr;
    const double n = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() && *end == '\0') return n;
  }
  // The schema is fixed at compile time; a bad bound is a programming error caught by every test.
  throw std::logic_error("config schema: bad range bound '" + std::string(text) + "'");
}

}  // namespace

key_spec& key_spec::range(std::string_view low, std::string_view high) {
  if (!low.empty()) min = parse_bound(type, low);
  if (!high.empty()) max = parse_bound(type, high);
  return *this;
}

key_spec& key_spec::one_of(std::vector<std::string> values) {
  choices = std::move(values);
  return *this;
}

key_spec& key_spec::checked(text_check_fn fn) {
  check = fn;
  return *this;
}

key_spec& key_spec::of(const section_spec& nested) {
  section = &nested;
  return *this;
}

key_spec& key_spec::describe(std::string text) {
  help = std::move(text);
  return *this;
}

key_spec& key_spec::example_value(std::string toml_text) {
  example = std::move(toml_text);
  return *this;
}

key_spec& key_spec::stored(store_fn fn) {
  store = fn;
  return *this;
}

const key_spec* section_spec::find(std::string_view key) const {
  const int i = index_of(key);
  return i < 0 ? nullptr : &keys[static_cast<std::size_t>(i)];
}

int section_spec::index_of(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i].name == key) return static_cast<int>(i);
  return -1;
}

const key_value& table_value::get(std::string_view key) const {
  const int i = spec->index_of(key);
  if (i < 0) throw std::logic_error("config schema: no key '" + std::string(key) + "' in '" + spec->name + "'");
  return values[static_cast<std::size_t>(i)];
}

key_value& table_value::get(std::string_view key) {
  return const_cast<key_value&>(static_cast<const table_value&>(*this).get(key));
}

// ---- storing into the typed config ----------------------------------------

namespace {

template <class>
struct member_of;
template <class C, class T>
struct member_of<T C::*> {
  using owner = C;
  using type = T;
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T>
void assign(T& field, const key_spec& key, const key_value& v) {
  if constexpr (is_optional<T>::value) {
    field.emplace();
    assign(*field, key, v);
  } else if constexpr (std::is_same_v<T, bool>) {
    field = v.boolean;
  } else if constexpr (std::is_enum_v<T>) {
    // Enumerators are declared in the order of the key's choices.
    field = static_cast<T>(v.integer);
  } else if constexpr (std::is_same_v<T, char>) {
    field = v.text.empty() ? '\0' : v.text.front();
  } else if constexpr (std::is_integral_v<T>) {
    field = static_cast<T>(key.type == value_type::size ? v.bytes : static_cast<std::uint64_t>(v.integer));
  } else if constexpr (std::is_same_v<T, double>) {
    field = v.number;
  } else if constexpr (std::is_same_v<T, millis>) {
    field = v.duration;
  } else if constexpr (std::is_same_v<T, std::string>) {
    field = v.text;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    field = v.list;
  } else if constexpr (std::is_same_v<T, std::map<std::int64_t, std::string>>) {
    field = v.states;
  } else if constexpr (is_vector<T>::value) {
    for (const table_value& t : v.tables) {
      typename T::value_type item;
      store_section(t, &item);
      field.push_back(std::move(item));
    }
  } else {
    store_section(v.tables.front(), &field);
    if constexpr (std::is_same_v<T, modbus_point>) field.key_path = v.tables.front().path;
  }
}

template <auto member>
void store(void* target, const key_spec& key, const key_value& v) {
  if (!v.has) return;
  using m = member_of<decltype(member)>;
  assign(static_cast<typename m::owner*>(target)->*member, key, v);
}

// [source] has no struct of its own: its arrays are members of agent_config.
void store_flattened(void* target, const key_spec&, const key_value& v) {
  if (v.has && !v.tables.empty()) store_section(v.tables.front(), target);
}

void store_parity(void* target, const key_spec&, const key_value& v) {
  if (v.has) static_cast<modbus_source*>(target)->parity = "NEO"[v.integer];
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// ---- the schema -------------------------------------------------------------

struct schema {
  section_spec point, line, stock, simulator, csv, modbus, source, material;
  section_spec agent, mqtt, spool, health, shortage, root;

  schema();
  schema(const schema&) = delete;
  schema& operator=(const schema&) = delete;

 private:
  void define_points();
  void define_sources();
  void define_sections();
};

using vt = value_type;

schema::schema() {
  define_points();
  define_sources();
  define_sections();
}

// Modbus points, and the lines and stocks made of them.
void schema::define_points() {
  point.name = "point";
  point.help =
      "A point is an inline table naming one Modbus value, e.g.\n"
      "  { area = \"holding\", address = 102, type = \"uint32\", order = \"CDAB\" }\n"
      "Its keys:";
  point.check = check_point;
  point.keys = {
      make_key("area", vt::choice).req().one_of({"coil", "discrete", "input", "holding"})
          .describe("Register area.").stored(store<&modbus_point::area>),
      make_key("address", vt::integer).req().range("0", "65535")
          .describe("Zero-based address (coil or register number) as the PLC documents it.")
          .stored(store<&modbus_point::address>),
      make_key("type", vt::choice)
          .one_of({"bool", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"})
          .describe("Value type; default bool for coil/discrete, uint16 otherwise. Coil/discrete are always bool.")
          .stored(store<&modbus_point::type>),
      make_key("order", vt::choice).def(quoted("ABCD")).one_of({"ABCD", "CDAB", "BADC", "DCBA"})
          .describe("Byte order of 32- and 64-bit types (ABCD = big-endian words, CDAB = word-swapped).")
          .stored(store<&modbus_point::order>),
      make_key("bit", vt::integer).range("0", "15")
          .describe("Take one bit (0 = least significant) of an input or holding register.")
          .stored(store<&modbus_point::bit>),
      make_key("scale", vt::number).def("1.0").describe("value = raw * scale + offset.")
          .stored(store<&modbus_point::scale>),
      make_key("offset", vt::number).def("0.0").describe("Added after scale.")
          .stored(store<&modbus_point::offset>),
      make_key("map", vt::state_map).one_of(line_state_names())
          .describe("state points only: register value -> line state, e.g. { 0 = \"idle\", 1 = \"running\" }.")
          .stored(store<&modbus_point::map>),
  };

  line.name = "source.modbus.line";
  line.help = "A production line read from this PLC; give at least one of state, good_count, reject_count.";
  line.check = check_modbus_line;
  line.keys = {
      make_key("id", vt::string).req().checked(check_name).example_value(quoted("line-1"))
          .describe("Line id; becomes an MQTT topic level.").stored(store<&modbus_line::id>),
      make_key("state", vt::table).of(point)
          .example_value("{ area = \"holding\", address = 100, type = \"uint16\", bit = 0, map = { 0 = \"idle\", 1 = \"running\" } }")
          .describe("Point giving the line state (use map to name the values).")
          .stored(store<&modbus_line::state>),
      make_key("good_count", vt::table).of(point)
          .example_value("{ area = \"holding\", address = 102, type = \"uint32\", order = \"CDAB\" }")
          .describe("Point giving the running count of good parts.").stored(store<&modbus_line::good_count>),
      make_key("reject_count", vt::table).of(point)
          .example_value("{ area = \"input\", address = 104, type = \"uint32\", scale = 1.0, offset = 0.0 }")
          .describe("Point giving the running count of rejected parts.")
          .stored(store<&modbus_line::reject_count>),
  };

  stock.name = "source.modbus.stock";
  stock.help = "A stock level read from this PLC (a silo, a tank, a scale).";
  stock.keys = {
      make_key("material", vt::string).req().checked(check_name).example_value(quoted("steel-coil"))
          .describe("Material id; becomes an MQTT topic level.").stored(store<&modbus_stock::material>),
      make_key("unit", vt::string).def(quoted("")).example_value(quoted("kg"))
          .describe("Unit of the quantity, e.g. \"kg\".").stored(store<&modbus_stock::unit>),
      make_key("location", vt::string).def(quoted("")).example_value(quoted("bay-3"))
          .describe("Where the stock is.").stored(store<&modbus_stock::location>),
      make_key("quantity", vt::table).req().of(point)
          .example_value("{ area = \"holding\", address = 200, type = \"float32\", order = \"ABCD\", scale = 0.1, offset = 0.0 }")
          .describe("Point giving the quantity.").stored(store<&modbus_stock::quantity>),
  };

}

void schema::define_sources() {
  simulator.name = "source.simulator";
  simulator.help = "A simulated plant: lines that run, stop and fail, and materials they consume.";
  simulator.keys = {
      make_key("name", vt::string).req().checked(check_name).example_value(quoted("sim-1"))
          .describe("Unique source name (across all sources); becomes an MQTT topic level.")
          .stored(store<&simulator_source::name>),
      make_key("seed", vt::integer).def("1").range("0", "")
          .describe("Random seed; the same seed gives the same plant.").stored(store<&simulator_source::seed>),
      make_key("lines", vt::integer).def("3").range("1", "10000")
          .describe("Number of simulated lines.").stored(store<&simulator_source::lines>),
      make_key("materials", vt::integer).def("8").range("0", "100000")
          .describe("Number of simulated materials.").stored(store<&simulator_source::materials>),
      make_key("sample_interval", vt::duration).def(quoted("1s")).range("1ms", "1h")
          .describe("Time between samples, in plant time.").stored(store<&simulator_source::sample_interval>),
      make_key("speed", vt::number).def("1.0").range("0", "1e9")
          .describe("Plant seconds per wall-clock second; 0 = as fast as publishing drains.")
          .stored(store<&simulator_source::speed>),
  };

  csv.name = "source.csv";
  csv.help = "CSV files dropped into a directory (e.g. by an ERP export): one stock level per row.";
  csv.check = check_csv;
  csv.keys = {
      make_key("name", vt::string).req().checked(check_name).example_value(quoted("csv-1"))
          .describe("Unique source name (across all sources); becomes an MQTT topic level.")
          .stored(store<&csv_source::name>),
      make_key("directory", vt::path).req().example_value(quoted("/var/lib/plant-agent/inbox"))
          .describe("Directory to watch.").stored(store<&csv_source::directory>),
      make_key("pattern", vt::string).def(quoted("*.csv")).describe("File name pattern (glob).")
          .stored(store<&csv_source::pattern>),
      make_key("material_column", vt::string).def(quoted("material")).describe("Header of the material id column.")
          .stored(store<&csv_source::material_column>),
      make_key("quantity_column", vt::string).def(quoted("quantity")).describe("Header of the quantity column.")
          .stored(store<&csv_source::quantity_column>),
      make_key("timestamp_column", vt::string).def(quoted("")).example_value(quoted("time"))
          .describe("Header of the time column (RFC 3339 or epoch seconds); \"\" = the file's modification time.")
          .stored(store<&csv_source::timestamp_column>),
      make_key("location_column", vt::string).def(quoted("")).example_value(quoted("location"))
          .describe("Header of the location column; \"\" = none.").stored(store<&csv_source::location_column>),
      make_key("unit_column", vt::string).def(quoted("")).example_value(quoted("unit"))
          .describe("Header of the unit column; \"\" = none.").stored(store<&csv_source::unit_column>),
      make_key("delimiter", vt::string).def(quoted(",")).checked(check_delimiter)
          .describe("Field separator, one character (\"\\t\" for tabs).").stored(store<&csv_source::delimiter>),
      make_key("after", vt::choice).def(quoted("keep")).one_of({"keep", "delete", "move"}).example_value(quoted("move"))
          .describe("What to do with a file once read.").stored(store<&csv_source::after>),
      make_key("move_to", vt::path).def(quoted("")).example_value(quoted("/var/lib/plant-agent/inbox/done"))
          .describe("Target directory when after = \"move\"; \"\" = <directory>/done.")
          .stored(store<&csv_source::move_to>),
      make_key("poll_interval", vt::duration).def(quoted("2s")).range("100ms", "1h")
          .describe("How often to look for new files.").stored(store<&csv_source::poll_interval>),
      make_key("settle_time", vt::duration).def(quoted("1s")).range("0s", "1h")
          .describe("A file must be unchanged this long before it is read (it may still be written).")
          .stored(store<&csv_source::settle_time>),
      make_key("max_file_bytes", vt::size).def(quoted("64MiB"))
          .describe("Larger files are skipped and reported.").stored(store<&csv_source::max_file_bytes>),
  };

  modbus.name = "source.modbus";
  modbus.help = "A Modbus device: a PLC over TCP or a device on a serial line (RTU).";
  modbus.check = check_modbus;
  modbus.keys = {
      make_key("name", vt::string).req().checked(check_name).example_value(quoted("plc-1"))
          .describe("Unique source name (across all sources); becomes an MQTT topic level.")
          .stored(store<&modbus_source::name>),
      make_key("address", vt::string).req().checked(check_modbus_address)
          .example_value(quoted("tcp://192.168.10.20:502"))
          .describe("\"tcp://host[:port]\" (port 502 by default) or \"rtu:///dev/ttyUSB0\".")
          .stored(store<&modbus_source::address>),
      make_key("unit_id", vt::integer).def("1").range("0", "255")
          .describe("Modbus unit (slave) id; 0..247 for rtu://.").stored(store<&modbus_source::unit_id>),
      make_key("interval", vt::duration).def(quoted("1s")).range("10ms", "1h")
          .describe("Time between polls.").stored(store<&modbus_source::interval>),
      make_key("timeout", vt::duration).def(quoted("500ms")).range("10ms", "60s")
          .describe("Response timeout; must be less than interval.").stored(store<&modbus_source::timeout>),
      make_key("baud", vt::integer).def("9600")
          .one_of({"1200", "2400", "4800", "9600", "19200", "38400", "57600", "115200", "230400", "460800", "921600"})
          .example_value("19200").describe("rtu:// only: serial speed.").stored(store<&modbus_source::baud>),
      make_key("parity", vt::choice).def(quoted("none")).one_of({"none", "even", "odd"}).example_value(quoted("even"))
          .describe("rtu:// only: serial parity.").stored(store_parity),
      make_key("data_bits", vt::integer).def("8").range("5", "8")
          .describe("rtu:// only: data bits.").stored(store<&modbus_source::data_bits>),
      make_key("stop_bits", vt::integer).def("1").range("1", "2")
          .describe("rtu:// only: stop bits.").stored(store<&modbus_source::stop_bits>),
      make_key("max_gap", vt::integer).def("8").range("0", "124")
          .describe("Registers (coils: x16) to read across to merge requests.").stored(store<&modbus_source::max_gap>),
      make_key("reconnect_min_delay", vt::duration).def(quoted("1s")).range("10ms", "1h")
          .describe("First delay before reconnecting; doubles per failure.")
          .stored(store<&modbus_source::reconnect_min_delay>),
      make_key("reconnect_max_delay", vt::duration).def(quoted("30s")).range("10ms", "24h")
          .describe("Longest delay before reconnecting; at least reconnect_min_delay.")
          .stored(store<&modbus_source::reconnect_max_delay>),
      make_key("line", vt::table_array).of(line).describe("Lines read from this device.")
          .stored(store<&modbus_source::lines>),
      make_key("stock", vt::table_array).of(stock).describe("Stock levels read from this device.")
          .stored(store<&modbus_source::stocks>),
  };
  modbus.examples = {
      example_spec{"Modbus TCP: a PLC on the network.",
                   {"name", "address", "unit_id", "interval", "timeout", "max_gap", "reconnect_min_delay",
                    "reconnect_max_delay", "line", "stock"},
                   {},
                   true},
      example_spec{"Modbus RTU: a device on a serial line (RS-485); baud, parity, data_bits and\n"
                   "stop_bits apply to rtu:// addresses only.",
                   {"name", "address", "unit_id", "baud", "parity", "data_bits", "stop_bits", "stock"},
                   {{"name", quoted("scale-1")},
                    {"address", quoted("rtu:///dev/ttyUSB0")},
                    {"unit_id", "3"},
                    {"stock.material", quoted("flour")},
                    {"stock.location", quoted("silo-2")},
                    {"stock.quantity", "{ area = \"input\", address = 0, type = \"int32\", order = \"CDAB\" }"}},
                   false},
  };

  source.name = "source";
  source.keys = {
      make_key("simulator", vt::table_array).of(simulator).stored(store<&agent_config::simulators>),
      make_key("csv", vt::table_array).of(csv).stored(store<&agent_config::csvs>),
      make_key("modbus", vt::table_array).of(modbus).stored(store<&agent_config::modbus>),
  };

  material.name = "material";
  material.help = "A material the shortage board watches; stock comes from any source that reports it.";
  material.keys = {
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
  };

}

void schema::define_sections() {
  agent.name = "agent";
  agent.help = "Who this agent is; id and site become MQTT topic levels.";
  agent.keys = {
      make_key("id", vt::string).req().checked(check_name).example_value(quoted("gateway-1"))
          .describe("Name of this gateway, unique within its site.").stored(store<&agent_section::id>),
      make_key("site", vt::string).req().checked(check_name).example_value(quoted("plant-1"))
          .describe("Name of the plant or site.").stored(store<&agent_section::site>),
      make_key("state_dir", vt::path).def(quoted("/var/lib/plant-agent"))
          .describe("Directory for the spool and other state.").stored(store<&agent_section::state_dir>),
      make_key("log_level", vt::choice).def(quoted("info")).one_of({"debug", "info", "warn", "error"})
          .describe("Least severe level that is logged.").stored(store<&agent_section::level>),
      make_key("heartbeat_interval", vt::duration).def(quoted("30s")).range("1s", "1h")
          .describe("How often the agent publishes its own status.")
          .stored(store<&agent_section::heartbeat_interval>),
  };

  mqtt.name = "mqtt";
  mqtt.help = "The MQTT broker the agent publishes to.";
  mqtt.check = check_mqtt;
  mqtt.keys = {
      make_key("url", vt::string).def(quoted("tcp://localhost:1883")).checked(check_mqtt_url)
          .describe("\"tcp://host[:port]\" (port 1883) or \"ssl://host[:port]\" (port 8883).")
          .stored(store<&mqtt_section::url>),
      make_key("client_id", vt::string).def(quoted(""))
          .describe("MQTT client id; \"\" = \"plant-agent-<site>-<id>\".").stored(store<&mqtt_section::client_id>),
      make_key("qos", vt::integer).def("1").range("0", "2")
          .describe("QoS of telemetry messages.").stored(store<&mqtt_section::qos>),
      make_key("username", vt::string).def(quoted("")).describe("\"\" = connect without a user name.")
          .stored(store<&mqtt_section::username>),
      make_key("password_file", vt::path).def(quoted(""))
          .describe("File holding the password (keep it out of this file); \"\" = none.")
          .stored(store<&mqtt_section::password_file>),
      make_key("ca_file", vt::path).def(quoted(""))
          .describe("ssl:// only: CA certificates (PEM) to verify the broker; \"\" = system CAs.")
          .stored(store<&mqtt_section::ca_file>),
      make_key("cert_file", vt::path).def(quoted(""))
          .describe("ssl:// only: client certificate (PEM); needs key_file.").stored(store<&mqtt_section::cert_file>),
      make_key("key_file", vt::path).def(quoted(""))
          .describe("ssl:// only: client private key (PEM); needs cert_file.").stored(store<&mqtt_section::key_file>),
      make_key("tls_verify", vt::boolean).def("true")
          .describe("Verify the broker's certificate and host name.").stored(store<&mqtt_section::tls_verify>),
      make_key("keepalive", vt::duration).def(quoted("30s")).range("1s", "1h")
          .describe("MQTT keep-alive interval.").stored(store<&mqtt_section::keepalive>),
      make_key("topic_prefix", vt::string).def(quoted("plant/v1")).checked(check_topic_prefix)
          .describe("First topic levels of every message.").stored(store<&mqtt_section::topic_prefix>),
      make_key("publish_interval", vt::duration).def(quoted("1s")).range("10ms", "1h")
          .describe("How long samples are batched before publishing.")
          .stored(store<&mqtt_section::publish_interval>),
      make_key("max_batch", vt::integer).def("1000").range("1", "100000")
          .describe("Samples per telemetry message.").stored(store<&mqtt_section::max_batch>),
      make_key("max_inflight", vt::integer).def("64").range("1", "32767")
          .describe("Messages sent but not yet acknowledged.").stored(store<&mqtt_section::max_inflight>),
      make_key("connect_timeout", vt::duration).def(quoted("10s")).range("1s", "5m")
          .describe("Give up a connection attempt after this.").stored(store<&mqtt_section::connect_timeout>),
      make_key("reconnect_min_delay", vt::duration).def(quoted("1s")).range("10ms", "1h")
          .describe("First delay before reconnecting; doubles per failure.")
          .stored(store<&mqtt_section::reconnect_min_delay>),
      make_key("reconnect_max_delay", vt::duration).def(quoted("60s")).range("10ms", "24h")
          .describe("Longest delay before reconnecting; at least reconnect_min_delay.")
          .stored(store<&mqtt_section::reconnect_max_delay>),
      make_key("queue_max_messages", vt::integer).def("1000").range("1", "1000000")
          .describe("Live messages held in memory; older ones go to the spool.")
          .stored(store<&mqtt_section::queue_max_messages>),
      make_key("shutdown_timeout", vt::duration).def(quoted("5s")).range("0s", "5m")
          .describe("On stop, wait this long for acknowledgements.").stored(store<&mqtt_section::shutdown_timeout>),
  };

  spool.name = "spool";
  spool.help = "The on-disk spool: messages survive broker outages and restarts.";
  spool.check = check_spool;
  spool.keys = {
      make_key("enabled", vt::boolean).def("true").describe("false = unacknowledged messages live only in memory (queue_max_messages), lost on restart.")
          .stored(store<&spool_section::enabled>),
      make_key("sync", vt::choice).def(quoted("batch")).one_of({"always", "batch", "never"})
          .describe("always = fdatasync before each message is published, batch = at most every sync_interval, never = leave it to the OS.")
          .stored(store<&spool_section::sync>),
      make_key("sync_interval", vt::duration).def(quoted("50ms")).range("1ms", "10s")
          .describe("Group-commit interval for sync = \"batch\".").stored(store<&spool_section::sync_interval>),
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

  health.name = "health";
  health.help = "The local health endpoint.";
  health.keys = {
      make_key("listen", vt::string).def(quoted("")).checked(check_listen)
          .describe("\"host:port\" to serve /healthz, e.g. \"127.0.0.1:9464\"; \"\" = off.")
          .stored(store<&health_section::listen>),
      make_key("max_backlog_age", vt::duration).def(quoted("5m"))
          .describe("Unhealthy when the oldest unpublished message is older than this.")
          .stored(store<&health_section::max_backlog_age>),
  };

  shortage.name = "shortage";
  shortage.help = "Shortage estimation for the [[material]] entries.";
  shortage.keys = {
      make_key("enabled", vt::boolean).def("true").describe("Estimate and publish shortages.")
          .stored(store<&shortage_section::enabled>),
      make_key("margin", vt::duration).def(quoted("8h"))
          .describe("Low when stock runs out within lead_time + margin.").stored(store<&shortage_section::margin>),
      make_key("rate_half_life", vt::duration).def(quoted("2h")).range("1m", "30d")
          .describe("How fast the consumption rate adapts.").stored(store<&shortage_section::rate_half_life>),
      make_key("surplus_margin", vt::number).def("0.2").range("0", "10")
          .describe("Surplus when stock > reorder_point * (1 + surplus_margin).")
          .stored(store<&shortage_section::surplus_margin>),
  };

  root.name = "";
  root.check = check_root;
  root.keys = {
      make_key("agent", vt::table).def("{}").of(agent).stored(store<&agent_config::agent>),
      make_key("mqtt", vt::table).def("{}").of(mqtt).stored(store<&agent_config::mqtt>),
      make_key("spool", vt::table).def("{}").of(spool).stored(store<&agent_config::spool>),
      make_key("health", vt::table).def("{}").of(health).stored(store<&agent_config::health>),
      make_key("shortage", vt::table).def("{}").of(shortage).stored(store<&agent_config::shortage>),
      make_key("source", vt::table).def("{}").of(source).stored(store_flattened),
      make_key("material", vt::table_array).of(material).stored(store<&agent_config::materials>),
  };
}

const schema& the_schema() {
  static const schema s;
  return s;
}

}  // namespace

const section_spec& root_section() { return the_schema().root; }

const section_spec& point_section() { return the_schema().point; }

void store_section(const table_value& values, void* target) {
  const section_spec& spec = *values.spec;
  for (std::size_t i = 0; i < spec.keys.size(); ++i)
    if (spec.keys[i].store != nullptr) spec.keys[i].store(target, spec.keys[i], values.values[i]);
}

const std::vector<std::string>& line_state_names() {
  static const std::vector<std::string> names{"running", "idle", "starved", "blocked", "fault", "maintenance", "unknown"};
  return names;
}

std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ---- suggestions ------------------------------------------------------------

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance: a swapped pair ("qso" for "qos") counts as one typo.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

std::optional<std::string> closest_match(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string wanted = lower(name);
  std::optional<std::string> best;
  std::size_t best_rank = 100;
  for (const std::string& candidate : candidates) {
    const std::string c = lower(candidate);
    std::size_t rank = 100;
    if (c == wanted) {
      rank = 0;
    } else {
      const std::size_t distance = edit_distance(wanted, c);
      // A distance as long as the word itself means nothing is shared ("x" vs "id").
      if (distance <= 2 && distance < wanted.size()) {
        rank = distance;
      } else if (wanted.size() >= 3 && (c.compare(0, wanted.size(), wanted) == 0 ||
                                        wanted.compare(0, c.size(), c) == 0)) {
        rank = 3;
      }
    }
    if (rank < best_rank) {
      best_rank = rank;
      best = candidate;
    }
  }
  return best;
}

// ---- ranges -----------------------------------------------------------------

std::string format_in_units(const key_spec& key, double number) {
  if (key.type == value_type::duration) return format_duration(millis{static_cast<millis::rep>(number)});
  if (key.type == value_type::size) return format_size(static_cast<std::uint64_t>(number));
  if (key.type == value_type::integer) return std::to_string(static_cast<long long>(number));
  char buffer[32];
  // Whole numbers in full ("1000000000", not "1e+09"): they are read by technicians.
  if (std::floor(number) == number && std::fabs(number) < 1e15) std::snprintf(buffer, sizeof buffer, "%.0f", number);
  else std::snprintf(buffer, sizeof buffer, "%g", number);
  return buffer;
}

std::string describe_range(const key_spec& key) {
  if (key.min && key.max) return format_in_units(key, *key.min) + ".." + format_in_units(key, *key.max);
  if (key.min) return "at least " + format_in_units(key, *key.min);
  if (key.max) return "at most " + format_in_units(key, *key.max);
  return "";
}

}  // namespace plant::config
