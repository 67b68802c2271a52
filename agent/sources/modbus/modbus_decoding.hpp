#pragma once
/// Registers and bits as read from a Modbus device -> the value of one point.
/// Pure: no libmodbus, no clock.
///
/// Byte and word order. Modbus moves 16-bit registers, each big-endian on the
/// wire; libmodbus hands them over as host uint16 values, so the order of bytes
/// inside a register is already undone. A value wider than 16 bits spans 2
/// (32-bit types) or 4 (64-bit types) consecutive registers, and devices differ
/// in how they lay it out. Name the bytes of the value A B C D (32-bit) or
/// A B C D E F G H (64-bit), A the most significant. The four orders are two
/// independent choices, and mean the same for 64-bit values:
///
///   order  words                          bytes inside each register
///   ABCD   most significant word first    as the value (high byte first)
///   CDAB   least significant word first   as the value
///   BADC   most significant word first    swapped
///   DCBA   least significant word first   swapped
///
/// Registers at address n, n+1, (n+2, n+3) therefore hold:
///
///   order  32-bit        64-bit
///   ABCD   AB CD         AB CD EF GH    (Modbus convention, big-endian)
///   CDAB   CD AB         GH EF CD AB    (word-swapped, "little-endian words")
///   BADC   BA DC         BA DC FE HG    (byte-swapped inside each word)
///   DCBA   DC BA         HG FE DC BA    (fully reversed, little-endian)
///
/// e.g. uint32 0x12345678 in CDAB is [0x5678, 0x1234]; uint64
/// 0x0102030405060708 in CDAB is [0x0708, 0x0506, 0x0304, 0x0102]. 16-bit types
/// ignore the order.
#include <cstdint>
#include <optional>
#include <string>

#include "agent/sources/modbus/modbus_settings.hpp"
#include "common/core/sample.hpp"

namespace plant::sources {

/// Registers a value of `type` spans: 1 (bool, 16-bit), 2 (32-bit) or 4 (64-bit).
int registers_of(sources::modbus_type type);
/// Registers (input/holding) or bits (coil/discrete) the point reads: `bit` points read one register.
int width_of(const sources::modbus_point& point);
/// "coil", "discrete", "input", "holding".
const char* to_string(sources::modbus_area area);
/// "bool", "int16", ... as written in the config.
const char* to_string(sources::modbus_type type);
/// "ABCD", "CDAB", "BADC", "DCBA".
const char* to_string(sources::word_order order);

/// Joins `count` registers (1, 2 or 4) laid out in `order` into the value's bits,
/// most significant byte first (see the table above).
std::uint64_t join_registers(const std::uint16_t* registers, int count, sources::word_order order);

/// One decoded point.
struct point_value {
  /// False: the point's quality is bad and `error` says why (with the key path).
  bool ok = false;
  /// "source.modbus[0].line[0].state: value 7 is not in map"; empty when ok.
  std::string error;
  /// raw * scale + offset (for bool: 0 or 1 before scaling).
  double value = 0.0;
  /// The value as the device holds it, before scale/offset, for integer and bool
  /// types (signed types sign-extended); set for floats only when integral.
  std::optional<std::int64_t> integer;
  /// The raw bits, masked to the type's width (counters wrap at this width).
  std::uint64_t raw_bits = 0;
  /// Bits of the value: 1 for bool, 16, 32 or 64.
  int width_bits = 16;
  /// Text of the decoded value for probe output, e.g. "1234", "3.5", "true", "NaN".
  std::string text;
};

/// Decodes a register point (input/holding) from the width_of(point) registers
/// it covers. NaN and infinite floats decode with ok = false.
point_value decode_registers(const sources::modbus_point& point, const std::uint16_t* registers);
/// Decodes a coil/discrete point from its bit.
point_value decode_bit(const sources::modbus_point& point, bool bit);

/// A point marked bad for a reason that is not its value (exception response):
/// `reason` is prefixed with the point's key path.
point_value failed_point(const sources::modbus_point& point, const std::string& reason);

/// The line state of a decoded `state` point: looked up in point.map when the map
/// is not empty (by the value before scale/offset), else the value is taken as
/// the plant.v1.LineState number (0..6). Returns nullopt and sets `error`
/// ("<key_path>: value 7 is not in map") when there is no such state.
std::optional<line_state> state_of(const sources::modbus_point& point, const point_value& value, std::string& error);

}  // namespace plant::sources
