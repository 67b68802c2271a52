#include "agent/sources/modbus/modbus_decoding.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace plant::sources {

using sources::modbus_area;
using sources::modbus_type;
using sources::word_order;

int registers_of(modbus_type type) {
  switch (type) {
    case modbus_type::int32:
    case modbus_type::uint32:
    case modbus_type::float32:
      return 2;
    case modbus_type::int64:
    case modbus_type::uint64:
    case modbus_type::float64:
      return 4;
    default:
      return 1;
  }
}

int width_of(const sources::modbus_point& point) {
  if (point.area == modbus_area::coil || point.area == modbus_area::discrete) return 1;
  if (point.bit) return 1;
  return registers_of(point.type);
}

const char* to_string(modbus_area area) {
  switch (area) {
    case modbus_area::coil: return "coil";
    case modbus_area::discrete: return "discrete";
    case modbus_area::input: return "input";
    case modbus_area::holding: return "holding";
  }
  return "holding";
}

const char* to_string(modbus_type type) {
  switch (type) {
    case modbus_type::boolean: return "bool";
    case modbus_type::int16: return "int16";
    case modbus_type::uint16: return "uint16";
    case modbus_type::int32: return "int32";
    case modbus_type::uint32: return "uint32";
    case modbus_type::int64: return "int64";
    case modbus_type::uint64: return "uint64";
    case modbus_type::float32: return "float32";
    case modbus_type::float64: return "float64";
  }
  return "uint16";
}

const char* to_string(word_order order) {
  switch (order) {
    case word_order::abcd: return "ABCD";
    case word_order::cdab: return "CDAB";
    case word_order::badc: return "BADC";
    case word_order::dcba: return "DCBA";
  }
  return "ABCD";
}

std::uint64_t join_registers(const std::uint16_t* registers, int count, word_order order) {
  // An order is two independent choices (word order, byte swap), so one loop covers all
  // four orders for both 32- and 64-bit values (see the header's table).
  const bool low_word_first = order == word_order::cdab || order == word_order::dcba;
  const bool bytes_swapped = order == word_order::badc || order == word_order::dcba;
  if (count == 1) return registers[0];
  std::uint64_t bits = 0;
  for (int i = 0; i < count; ++i) {
    std::uint16_t word = registers[low_word_first ? count - 1 - i : i];
    if (bytes_swapped) word = static_cast<std::uint16_t>((word >> 8) | (word << 8));
    bits = (bits << 16) | word;
  }
  return bits;
}

namespace {

std::string integer_text(std::int64_t v) { return std::to_string(v); }

std::string real_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.10g", v);
  return buffer;
}

bool default_scaling(const sources::modbus_point& point) { return point.scale == 1.0 && point.offset == 0.0; }

// Integers keep their exact text when not scaled, so a probe of a 64-bit counter
// shows every digit rather than a rounded double.
void finish_integer(const sources::modbus_point& point, point_value& out, std::int64_t signed_value,
                    std::uint64_t unsigned_value, bool is_signed) {
  out.ok = true;
  const double raw = is_signed ? static_cast<double>(signed_value) : static_cast<double>(unsigned_value);
  out.value = raw * point.scale + point.offset;
  if (is_signed) {
    out.integer = signed_value;
  } else if (unsigned_value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    out.integer = static_cast<std::int64_t>(unsigned_value);
  }
  if (!default_scaling(point)) {
    out.text = real_text(out.value);
  } else {
    out.text = is_signed ? integer_text(signed_value) : std::to_string(unsigned_value);
  }
}

void finish_real(const sources::modbus_point& point, point_value& out, double raw) {
  if (!std::isfinite(raw)) {
    out.ok = false;
    out.text = real_text(raw);
    out.error = point.key_path + ": value is " + (std::isnan(raw) ? std::string("NaN") : std::string("infinite"));
    return;
  }
  out.ok = true;
  out.value = raw * point.scale + point.offset;
  if (std::trunc(raw) == raw && std::fabs(raw) < 9.2e18) out.integer = static_cast<std::int64_t>(raw);
  out.text = real_text(out.value);
  if (!std::isfinite(out.value)) {
    out.ok = false;
    out.error = point.key_path + ": value " + real_text(raw) + " overflows after scale and offset";
  }
}

void finish_bool(const sources::modbus_point& point, point_value& out, bool on) {
  out.ok = true;
  out.width_bits = 1;
  out.raw_bits = on ? 1 : 0;
  out.integer = on ? 1 : 0;
  out.value = (on ? 1.0 : 0.0) * point.scale + point.offset;
  out.text = default_scaling(point) ? (on ? "true" : "false") : real_text(out.value);
}

}  // namespace

point_value decode_bit(const sources::modbus_point& point, bool bit) {
  point_value out;
  finish_bool(point, out, bit);
  return out;
}

point_value decode_registers(const sources::modbus_point& point, const std::uint16_t* registers) {
  point_value out;
  if (point.bit) {
    finish_bool(point, out, ((registers[0] >> *point.bit) & 1u) != 0);
    return out;
  }
  const int count = registers_of(point.type);
  const std::uint64_t bits = join_registers(registers, count, point.order);
  out.width_bits = 16 * count;
  out.raw_bits = bits;
  switch (point.type) {
    case modbus_type::boolean:
      // A whole register read as bool: any bit set means true.
      finish_bool(point, out, bits != 0);
      out.width_bits = 16;
      out.raw_bits = bits;
      break;
    case modbus_type::int16:
      finish_integer(point, out, static_cast<std::int16_t>(bits), 0, true);
      break;
    case modbus_type::uint16:
      finish_integer(point, out, 0, bits, false);
      break;
    case modbus_type::int32:
      finish_integer(point, out, static_cast<std::int32_t>(static_cast<std::uint32_t>(bits)), 0, true);
      break;
    case modbus_type::uint32:
      finish_integer(point, out, 0, bits, false);
      break;
    case modbus_type::int64:
      finish_integer(point, out, static_cast<std::int64_t>(bits), 0, true);
      break;
    case modbus_type::uint64:
      finish_integer(point, out, 0, bits, false);
      break;
    case modbus_type::float32: {
      const auto word = static_cast<std::uint32_t>(bits);
      float f;
      std::memcpy(&f, &word, sizeof f);
      finish_real(point, out, static_cast<double>(f));
      break;
    }
    case modbus_type::float64: {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      finish_real(point, out, d);
      break;
    }
  }
  return out;
}

point_value failed_point(const sources::modbus_point& point, const std::string& reason) {
  point_value out;
  out.ok = false;
  out.error = point.key_path + ": " + reason;
  out.text = "-";
  return out;
}

std::optional<line_state> state_of(const sources::modbus_point& point, const point_value& value, std::string& error) {
  if (!value.ok) {
    error = value.error;
    return std::nullopt;
  }
  if (!value.integer) {
    error = point.key_path + ": value " + value.text + " is not an integer, so it names no line state";
    return std::nullopt;
  }
  const std::int64_t v = *value.integer;
  if (!point.map.empty()) {
    auto found = point.map.find(v);
    if (found == point.map.end()) {
      error = point.key_path + ": value " + std::to_string(v) + " is not in map";
      return std::nullopt;
    }
    line_state state = line_state::unknown;
    if (!parse_line_state(found->second, state)) {
      error = point.key_path + ": map entry " + std::to_string(v) + " names '" + found->second +
              "', which is not a line state";
      return std::nullopt;
    }
    return state;
  }
  if (v < 0 || v > static_cast<std::int64_t>(line_state::maintenance)) {
    error = point.key_path + ": value " + std::to_string(v) +
            " is not a line state number (0..6); give the point a map";
    return std::nullopt;
  }
  return static_cast<line_state>(v);
}

}  // namespace plant::sources
