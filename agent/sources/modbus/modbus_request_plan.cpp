#include "agent/sources/modbus/modbus_request_plan.hpp"

#include <algorithm>

#include "agent/sources/modbus/modbus_decoding.hpp"

namespace plant::sources {

namespace {

bool is_bit_area(sources::modbus_area area) {
  return area == sources::modbus_area::coil || area == sources::modbus_area::discrete;
}

struct placed {
  int start;
  int width;
  std::size_t index;
};

}  // namespace

std::vector<modbus_request> plan_requests(const std::vector<sources::modbus_point>& points, int max_gap) {
  std::vector<modbus_request> plan;
  const sources::modbus_area areas[] = {sources::modbus_area::coil, sources::modbus_area::discrete,
                                       sources::modbus_area::input, sources::modbus_area::holding};
  for (sources::modbus_area area : areas) {
    const bool bits = is_bit_area(area);
    const int limit = bits ? max_read_bits : max_read_registers;
    // The gap is given in registers; for bit areas a register's worth is 16 bits,
    // which is what a device packs into one response word anyway.
    const int gap = std::max(0, max_gap) * (bits ? 16 : 1);

    std::vector<placed> in_area;
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (points[i].area == area) in_area.push_back({points[i].address, width_of(points[i]), i});
    }
    // Wider points first at equal addresses, so a request starting there is
    // sized for its widest point straight away.
    std::stable_sort(in_area.begin(), in_area.end(), [](const placed& a, const placed& b) {
      return a.start != b.start ? a.start < b.start : a.width > b.width;
    });

    modbus_request* current = nullptr;
    for (const placed& p : in_area) {
      const int p_end = p.start + p.width;
      if (current != nullptr) {
        const int merged_end = std::max(current->end(), p_end);
        const bool near = p.start <= current->end() + gap;
        if (near && merged_end - current->start <= limit) {
          current->count = static_cast<std::uint16_t>(merged_end - current->start);
          current->points.push_back(p.index);
          continue;
        }
      }
      modbus_request request;
      request.area = area;
      request.start = static_cast<std::uint16_t>(p.start);
      request.count = static_cast<std::uint16_t>(p.width);
      request.points.push_back(p.index);
      plan.push_back(std::move(request));
      current = &plan.back();
    }
  }
  return plan;
}

std::string range_text(const modbus_request& request) {
  return std::string(to_string(request.area)) + " " + std::to_string(request.start) + ".." +
         std::to_string(request.end() - 1);
}

std::string describe(const modbus_request& request) {
  const bool bits = is_bit_area(request.area);
  std::string unit = bits ? "bit" : "register";
  if (request.count != 1) unit += "s";
  return range_text(request) + " (" + std::to_string(request.count) + " " + unit + ", " +
         std::to_string(request.points.size()) + (request.points.size() == 1 ? " point)" : " points)");
}

}  // namespace plant::sources
