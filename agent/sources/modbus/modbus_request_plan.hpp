#pragma once
/// Few requests per poll: the points of one device are grouped by area and
/// neighbouring points are read together, so a map of 40 points costs a handful
/// of round trips instead of 40 (and no request storm). Pure.
///
/// Rules:
/// - one request reads one area; points of an area are sorted by address;
/// - a point joins the current request when the registers (bits) between the
///   request's end and the point's start number at most max_gap (for coils and
///   discretes max_gap * 16 bits), and the merged request stays within the
///   protocol limits: 125 registers (input, holding) or 2000 bits (coil, discrete);
/// - a point is always read whole by one request: a 32- or 64-bit value never
///   straddles two requests (the next request starts at its first register);
/// - points overlapping or sharing registers (bits of one register) share a request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/sources/modbus/modbus_settings.hpp"

namespace plant::sources {

/// Registers one read of input or holding registers may ask for (Modbus spec).
constexpr int max_read_registers = 125;
/// Bits one read of coils or discrete inputs may ask for (Modbus spec).
constexpr int max_read_bits = 2000;

/// One read request and the points it serves.
struct modbus_request {
  sources::modbus_area area = sources::modbus_area::holding;  ///< the one area read
  std::uint16_t start = 0;      ///< first register (bit) address
  std::uint16_t count = 0;      ///< registers (bits) read
  std::vector<std::size_t> points;  ///< indexes into the point list given to plan_requests, by address

  /// One past the last address read.
  int end() const { return static_cast<int>(start) + count; }
};

/// Plans the reads for `points` (in any order; indexes refer to this vector).
/// Requests come out by area (coil, discrete, input, holding), then address.
std::vector<modbus_request> plan_requests(const std::vector<sources::modbus_point>& points, int max_gap);

/// "holding 0..11 (12 registers, 4 points)", "coil 3..3 (1 bit, 1 point)".
std::string describe(const modbus_request& request);

/// "holding 0..11": the request's range, for error messages.
std::string range_text(const modbus_request& request);

}  // namespace plant::sources
