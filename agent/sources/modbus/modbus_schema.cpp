#include "agent/sources/modbus/modbus_settings.hpp"

#include "common/config/checks.hpp"

namespace plant::sources {

namespace {

using config::make_key;
using config::quoted;
using config::store;
using vt = config::value_type;

report_policy& point_report_of(void* target) { return static_cast<modbus_point*>(target)->report; }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Type indices follow the point's type choices: bool int16 uint16 int32 uint32 int64 uint64 float32 float64.
int registers_of_choice(std::int64_t type) {
  switch (type) {
    case 3: case 4: case 7: return 2;
    case 5: case 6: case 8: return 4;
    default: return 1;
  }
}

void store_parity(void* target, const config::key_spec&, const config::key_value& v) {
  if (v.has) static_cast<modbus_settings*>(target)->parity = "NEO"[v.integer];
}

// source.modbus.address: tcp://host[:port] (normalised with port 502) or rtu:///dev/ttyX.
std::string check_modbus_address(std::string& text) {
  if (starts_with(text, "tcp://")) return config::check_endpoint(text, "address", "tcp://", 502);
  if (starts_with(text, "rtu://")) {
    const std::string_view device = std::string_view(text).substr(6);
    if (device.size() < 2 || device.front() != '/')
      return "address needs a device path after rtu://, e.g. rtu:///dev/ttyUSB0";
    return "";
  }
  return "address must start with tcp:// or rtu://";
}

void check_modbus_block(config::table_value& values, config::diagnostic_sink& sink) {
  const config::key_value& address = values.get("address");
  if (address.has) {
    const bool rtu = starts_with(address.text, "rtu://");
    if (!rtu) {
      for (const char* key : {"baud", "parity", "data_bits", "stop_bits"}) {
        const config::key_value& v = values.get(key);
        if (v.present) sink.error(v.key_at, config::path_of(values, key), "only applies to rtu:// addresses");
      }
    }
    const config::key_value& unit_id = values.get("unit_id");
    if (rtu && unit_id.has && unit_id.integer > 247)
      sink.error(config::where_written(unit_id, values), config::path_of(values, "unit_id"),
                 std::to_string(unit_id.integer) + " is out of range 0..247 for rtu:// addresses");
  }
  const config::key_value& interval = values.get("interval");
  const config::key_value& timeout = values.get("timeout");
  if (interval.has && timeout.has && timeout.duration >= interval.duration) {
    const bool blame_timeout = timeout.present || !interval.present;
    sink.error(blame_timeout ? config::where_written(timeout, values) : config::where_written(interval, values),
               config::path_of(values, blame_timeout ? "timeout" : "interval"),
               "timeout (" + plant::format_duration(timeout.duration) + ") must be less than interval (" +
                   plant::format_duration(interval.duration) + ")");
  }
  check_common_source_keys(values, sink);

  const config::key_value& lines = values.get("line");
  const config::key_value& stocks = values.get("stock");
  if (lines.tables.empty() && stocks.tables.empty())
    sink.error(values.at, values.path, "needs at least one [[source.modbus.line]] or [[source.modbus.stock]]");

  // A point does not know what it is for; only state points may name their values.
  auto no_map = [&](const config::key_value& point) {
    if (!point.has || point.tables.empty()) return;
    const config::key_value& map = point.tables.front().get("map");
    if (map.present) sink.error(map.key_at, config::path_of(point.tables.front(), "map"), "map only applies to 'state' points");
  };
  for (const config::table_value& line : lines.tables) {
    no_map(line.get("good_count"));
    no_map(line.get("reject_count"));
  }
  for (const config::table_value& stock : stocks.tables) no_map(stock.get("quantity"));
  // A state is discrete: it is published whenever it changes, so only max_interval means something.
  for (const config::table_value& line : lines.tables) {
    const config::key_value& state = line.get("state");
    if (!state.has || state.tables.empty()) continue;
    for (const char* key : {"deadband", "deadband_percent"}) {
      const config::key_value& v = state.tables.front().get(key);
      if (v.present)
        sink.error(v.key_at, config::path_of(state.tables.front(), key),
                   "only applies to numeric points; a state is published whenever it changes (max_interval applies)");
    }
  }
}

void check_modbus_line(config::table_value& values, config::diagnostic_sink& sink) {
  if (!values.get("state").present && !values.get("good_count").present && !values.get("reject_count").present)
    sink.error(values.at, values.path, "needs at least one of state, good_count, reject_count");
}

void check_point(config::table_value& values, config::diagnostic_sink& sink) {
  const config::key_value& area = values.get("area");
  config::key_value& type = values.get("type");
  const config::key_value& address = values.get("address");
  if (!area.has) return;
  // Area indices follow point_section()'s choices: coil discrete input holding.
  const bool bit_area = area.integer <= 1;
  if (!type.present) {
    type.has = true;
    type.integer = bit_area ? 0 : 2;
    type.text = bit_area ? "bool" : "uint16";
  }
  if (!type.has) return;
  if (bit_area && type.integer != 0) {
    sink.error(type.at, config::path_of(values, "type"),
               "type " + config::quote(type.text) + " does not fit area " + config::quote(area.text) +
                   "; coil and discrete points are bool");
    return;
  }
  const config::key_value& order = values.get("order");
  if (order.present && order.has && registers_of_choice(type.integer) < 2)
    sink.error(order.key_at, config::path_of(values, "order"), "order only applies to 32- and 64-bit types");
  const config::key_value& bit = values.get("bit");
  if (bit.present && bit.has && (bit_area || type.integer > 2))
    sink.error(bit.key_at, config::path_of(values, "bit"),
               "bit only applies to input and holding registers of type bool, int16 or uint16");
  if (address.has) {
    const int count = bit_area ? 1 : registers_of_choice(type.integer);
    if (address.integer + count - 1 > 65535)
      sink.error(address.at, config::path_of(values, "address"),
                 "address " + std::to_string(address.integer) + " with type " + type.text + " (" +
                     std::to_string(count) + " registers) runs past 65535");
  }
}

struct modbus_sections {
  config::section_spec point, line, stock, modbus;
  modbus_sections();
};

// An inline point table ({ area, address, type, ... }), shared by lines and stocks.
config::section_spec point_spec() {
  config::section_spec s;
  s.name = "point";
  s.help =
      "A point is an inline table naming one Modbus value, e.g.\n"
      "  { area = \"holding\", address = 102, type = \"uint32\", order = \"CDAB\" }\n"
      "Its keys:";
  s.check = check_point;
  s.keys = {
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
  for (auto& key : report_policy_keys<point_report_of>("this point; unset keys come from the source"))
    s.keys.push_back(std::move(key));
  return s;
}

// [[source.modbus.line]]
config::section_spec line_spec(const config::section_spec& point) {
  config::section_spec s;
  s.name = "source.modbus.line";
  s.help = "A production line read from this PLC; give at least one of state, good_count, reject_count.";
  s.check = check_modbus_line;
  s.keys = {
      make_key("id", vt::string).req().checked(config::check_name).example_value(quoted("line-1"))
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
  return s;
}

// [[source.modbus.stock]]
config::section_spec stock_spec(const config::section_spec& point) {
  config::section_spec s;
  s.name = "source.modbus.stock";
  s.help = "A stock level read from this PLC (a silo, a tank, a scale).";
  s.keys = {
      make_key("material", vt::string).req().checked(config::check_name).example_value(quoted("steel-coil"))
          .describe("Material id; becomes an MQTT topic level.").stored(store<&modbus_stock::material>),
      make_key("unit", vt::string).def(quoted("")).example_value(quoted("kg"))
          .describe("Unit of the quantity, e.g. \"kg\".").stored(store<&modbus_stock::unit>),
      make_key("location", vt::string).def(quoted("")).example_value(quoted("bay-3"))
          .describe("Where the stock is.").stored(store<&modbus_stock::location>),
      make_key("quantity", vt::table).req().of(point)
          .example_value("{ area = \"holding\", address = 200, type = \"float32\", order = \"ABCD\", scale = 0.1, offset = 0.0 }")
          .describe("Point giving the quantity.").stored(store<&modbus_stock::quantity>),
  };
  return s;
}

// [[source.modbus]]
config::section_spec modbus_spec(const config::section_spec& line, const config::section_spec& stock) {
  config::section_spec s;
  s.name = "source.modbus";
  s.help = "A Modbus device: a PLC over TCP or a device on a serial line (RTU).";
  s.check = check_modbus_block;
  common_key_spelling spelling;
  spelling.retry_min_aliases = {"reconnect_min_delay"};
  spelling.retry_max_aliases = {"reconnect_max_delay"};
  s.keys = common_source_keys<modbus_settings>(spelling, config::check_name);
  s.keys[0].example_value(quoted("plc-1"));
  for (auto key : std::vector<config::key_spec>{
      make_key("address", vt::string).req().checked(check_modbus_address)
          .example_value(quoted("tcp://192.168.10.20:502"))
          .describe("\"tcp://host[:port]\" (port 502 by default) or \"rtu:///dev/ttyUSB0\".")
          .stored(store<&modbus_settings::address>),
      make_key("unit_id", vt::integer).def("1").range("0", "255")
          .describe("Modbus unit (slave) id; 0..247 for rtu://.").stored(store<&modbus_settings::unit_id>),
      make_key("timeout", vt::duration).def(quoted("500ms")).range("10ms", "60s")
          .describe("Response timeout; must be less than interval.").stored(store<&modbus_settings::timeout>),
      make_key("baud", vt::integer).def("9600")
          .one_of({"1200", "2400", "4800", "9600", "19200", "38400", "57600", "115200", "230400", "460800", "921600"})
          .example_value("19200").describe("rtu:// only: serial speed.").stored(store<&modbus_settings::baud>),
      make_key("parity", vt::choice).def(quoted("none")).one_of({"none", "even", "odd"}).example_value(quoted("even"))
          .describe("rtu:// only: serial parity.").stored(store_parity),
      make_key("data_bits", vt::integer).def("8").range("5", "8")
          .describe("rtu:// only: data bits.").stored(store<&modbus_settings::data_bits>),
      make_key("stop_bits", vt::integer).def("1").range("1", "2")
          .describe("rtu:// only: stop bits.").stored(store<&modbus_settings::stop_bits>),
      make_key("max_gap", vt::integer).def("8").range("0", "124")
          .describe("Registers (coils: x16) to read across to merge requests.").stored(store<&modbus_settings::max_gap>),
      make_key("line", vt::table_array).of(line).describe("Lines read from this device.")
          .stored(store<&modbus_settings::lines>),
      make_key("stock", vt::table_array).of(stock).describe("Stock levels read from this device.")
          .stored(store<&modbus_settings::stocks>),
  })
    s.keys.push_back(std::move(key));
  s.examples = {
      config::example_spec{"Modbus TCP: a PLC on the network.",
                           {"name", "address", "unit_id", "interval", "timeout", "max_gap", "retry_min_delay",
                            "retry_max_delay", "line", "stock"},
                           {},
                           true},
      config::example_spec{"Modbus RTU: a device on a serial line (RS-485); baud, parity, data_bits and\n"
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
  return s;
}

// Lines and stocks refer to the point section, the device to both, by address:
// they live as long as this object.
modbus_sections::modbus_sections()
    : point(point_spec()), line(line_spec(point)), stock(stock_spec(point)), modbus(modbus_spec(line, stock)) {}

const modbus_sections& sections() {
  static const modbus_sections s;
  return s;
}

}  // namespace

const std::vector<std::string>& line_state_names() {
  static const std::vector<std::string> names{"running", "idle", "starved", "blocked", "fault", "maintenance", "unknown"};
  return names;
}

const config::section_spec& modbus_schema() { return sections().modbus; }

const config::section_spec& modbus_point_schema() { return sections().point; }

}  // namespace plant::sources
