#pragma once
/// The rules the schema attaches to keys and sections beyond type and range:
/// name syntax, URLs and addresses, and the cross-key rules of each section.
#include <string>

#include "agent/config/config_schema.hpp"

namespace plant::config {

/// Ids, sites, source and material names become MQTT topic levels: [A-Za-z0-9._-]+.
std::string check_name(std::string& text);
/// mqtt.url: tcp://host[:port] or ssl://host[:port]; normalised to carry the port (1883 / 8883).
std::string check_mqtt_url(std::string& text);
/// health.listen: "" (off) or "host:port".
std::string check_listen(std::string& text);
/// mqtt.topic_prefix: levels without '+', '#', leading, trailing or doubled '/'.
std::string check_topic_prefix(std::string& text);
/// source.csv.delimiter: exactly one character.
std::string check_delimiter(std::string& text);
/// source.modbus.address: tcp://host[:port] (normalised with port 502) or rtu:///dev/ttyX.
std::string check_modbus_address(std::string& text);

/// The whole file: unique source names across kinds, unique materials and line ids, "no sources" warning.
void check_root(table_value& values, diagnostic_sink& sink);
/// [mqtt]: reconnect delays, TLS files readable, cert and key together.
void check_mqtt(table_value& values, diagnostic_sink& sink);
/// [spool]: segment_bytes <= max_bytes.
void check_spool(table_value& values, diagnostic_sink& sink);
/// [[source.csv]]: move_to default, move_to only with after = "move".
void check_csv(table_value& values, diagnostic_sink& sink);
/// [[source.modbus]]: rtu-only keys, unit_id, timeout < interval, reconnect delays, at least one line or stock.
void check_modbus(table_value& values, diagnostic_sink& sink);
/// [[source.modbus.line]]: at least one point, map only on state.
void check_modbus_line(table_value& values, diagnostic_sink& sink);
/// A Modbus point: type default and fit with area, order, bit, address range.
void check_point(table_value& values, diagnostic_sink& sink);

}  // namespace plant::config
