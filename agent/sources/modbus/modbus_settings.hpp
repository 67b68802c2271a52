#pragma once
/// [[source.modbus]]: a PLC over Modbus TCP or a device on a serial line (RTU),
/// with its register map of lines and stocks.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/source_settings.hpp"

namespace plant::sources {

enum class modbus_area { coil, discrete, input, holding };
enum class modbus_type { boolean, int16, uint16, int32, uint32, int64, uint64, float32, float64 };
enum class word_order { abcd, cdab, badc, dcba };

/// One value in the register map.
struct modbus_point {
  modbus_area area = modbus_area::holding;
  std::uint16_t address = 0;
  modbus_type type = modbus_type::uint16;
  word_order order = word_order::abcd;
  std::optional<int> bit;                     ///< 0..15: one bit of a register
  double scale = 1.0;
  double offset = 0.0;
  std::map<std::int64_t, std::string> map;    ///< register value -> line state name
  report_policy report;                       ///< this point's deadband keys, over the source's
  std::string key_path;                       ///< "source.modbus[0].line[1].state", for messages
};

struct modbus_line {
  std::string id;
  std::optional<modbus_point> state;
  std::optional<modbus_point> good_count;
  std::optional<modbus_point> reject_count;
};

struct modbus_stock {
  std::string material;
  std::string unit;
  std::string location;
  modbus_point quantity;
};

struct modbus_settings final : source_settings {
  std::string address;                        ///< tcp://host:port or rtu:///dev/ttyUSB0
  int unit_id = 1;
  std::chrono::milliseconds timeout{500};
  int baud = 9600;
  char parity = 'N';                          ///< 'N', 'E', 'O' from "none"/"even"/"odd"
  int data_bits = 8;
  int stop_bits = 1;
  int max_gap = 8;                            ///< registers (or bits x16) to read across to merge requests
  std::vector<modbus_line> lines;
  std::vector<modbus_stock> stocks;
};

/// The [[source.modbus]] section of the schema (with its line, stock and point sections).
const config::section_spec& modbus_schema();
/// The schema of one point (the inline tables of lines and stocks).
const config::section_spec& modbus_point_schema();
/// The names of the line states a state map may produce.
const std::vector<std::string>& line_state_names();

}  // namespace plant::sources
