// Planning few read requests: merging contiguous points and points within the
// gap, splitting beyond it and at the protocol limits, never straddling a point.
#include "agent/sources/modbus/modbus_request_plan.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace plant::sources {
namespace {

using sources::modbus_area;
using sources::modbus_type;

sources::modbus_point at(modbus_area area, int address, modbus_type type = modbus_type::uint16) {
  sources::modbus_point p;
  p.area = area;
  p.address = static_cast<std::uint16_t>(address);
  p.type = (area == modbus_area::coil || area == modbus_area::discrete) ? modbus_type::boolean : type;
  return p;
}

std::vector<std::string> described(const std::vector<modbus_request>& plan) {
  std::vector<std::string> out;
  for (const auto& r : plan) out.push_back(describe(r));
  return out;
}

using lines = std::vector<std::string>;

TEST(modbus_request_plan, contiguous_points_of_mixed_widths_are_one_request) {
  const std::vector<sources::modbus_point> points = {
      at(modbus_area::holding, 5, modbus_type::uint64), at(modbus_area::holding, 0),
      at(modbus_area::holding, 1, modbus_type::uint32), at(modbus_area::holding, 3, modbus_type::float32)};
  const auto plan = plan_requests(points, 0);
  EXPECT_EQ(described(plan), lines{"holding 0..8 (9 registers, 4 points)"});
  EXPECT_EQ(plan[0].points, (std::vector<std::size_t>{1, 2, 3, 0})) << "indexes into the input, by address";
}

TEST(modbus_request_plan, points_within_the_gap_merge_and_beyond_it_split) {
  // 0 ends at 1; 9 is 8 registers further: within max_gap 8.
  EXPECT_EQ(described(plan_requests({at(modbus_area::holding, 0), at(modbus_area::holding, 9)}, 8)),
            lines{"holding 0..9 (10 registers, 2 points)"});
  EXPECT_EQ(described(plan_requests({at(modbus_area::holding, 0), at(modbus_area::holding, 10)}, 8)),
            (lines{"holding 0..0 (1 register, 1 point)", "holding 10..10 (1 register, 1 point)"}));
  EXPECT_EQ(described(plan_requests({at(modbus_area::holding, 0), at(modbus_area::holding, 2)}, 0)),
            (lines{"holding 0..0 (1 register, 1 point)", "holding 2..2 (1 register, 1 point)"}));
}

TEST(modbus_request_plan, areas_are_never_mixed_and_come_in_a_fixed_order) {
  const auto plan = plan_requests({at(modbus_area::holding, 0), at(modbus_area::input, 0),
                                   at(modbus_area::coil, 0), at(modbus_area::discrete, 1)},
                                  8);
  EXPECT_EQ(described(plan), (lines{"coil 0..0 (1 bit, 1 point)", "discrete 1..1 (1 bit, 1 point)",
                                    "input 0..0 (1 register, 1 point)", "holding 0..0 (1 register, 1 point)"}));
}

TEST(modbus_request_plan, a_read_never_exceeds_125_registers) {
  EXPECT_EQ(described(plan_requests({at(modbus_area::input, 0), at(modbus_area::input, 124)}, 124)),
            lines{"input 0..124 (125 registers, 2 points)"});
  EXPECT_EQ(described(plan_requests({at(modbus_area::input, 0), at(modbus_area::input, 125)}, 124)),
            (lines{"input 0..0 (1 register, 1 point)", "input 125..125 (1 register, 1 point)"}));
}

TEST(modbus_request_plan, a_wide_point_at_the_limit_starts_the_next_request_whole) {
  // A uint32 at 124 would end at 125, one past the limit of a read from 0:
  // it goes whole into the next request rather than being split.
  const auto plan = plan_requests({at(modbus_area::holding, 0), at(modbus_area::holding, 124, modbus_type::uint32)}, 124);
  EXPECT_EQ(described(plan),
            (lines{"holding 0..0 (1 register, 1 point)", "holding 124..125 (2 registers, 1 point)"}));
  const auto plan64 = plan_requests({at(modbus_area::holding, 0), at(modbus_area::holding, 60),
                                     at(modbus_area::holding, 122, modbus_type::uint64),
                                     at(modbus_area::holding, 126)},
                                    124);
  EXPECT_EQ(described(plan64),
            (lines{"holding 0..60 (61 registers, 2 points)", "holding 122..126 (5 registers, 2 points)"}));
}

TEST(modbus_request_plan, a_64_bit_point_that_fits_exactly_stays_in_the_request) {
  const auto plan = plan_requests({at(modbus_area::holding, 0), at(modbus_area::holding, 121, modbus_type::float64)}, 124);
  EXPECT_EQ(described(plan), lines{"holding 0..124 (125 registers, 2 points)"});
}

TEST(modbus_request_plan, a_read_never_exceeds_2000_bits_and_the_gap_counts_16_bits_per_register) {
  EXPECT_EQ(described(plan_requests({at(modbus_area::coil, 0), at(modbus_area::coil, 1000), at(modbus_area::coil, 1999),
                                     at(modbus_area::coil, 2000)},
                                    124)),
            (lines{"coil 0..1999 (2000 bits, 3 points)", "coil 2000..2000 (1 bit, 1 point)"}));
  // max_gap 1 = 16 bits between the end of one point and the start of the next.
  EXPECT_EQ(described(plan_requests({at(modbus_area::discrete, 0), at(modbus_area::discrete, 17)}, 1)),
            lines{"discrete 0..17 (18 bits, 2 points)"});
  EXPECT_EQ(described(plan_requests({at(modbus_area::discrete, 0), at(modbus_area::discrete, 18)}, 1)),
            (lines{"discrete 0..0 (1 bit, 1 point)", "discrete 18..18 (1 bit, 1 point)"}));
}

TEST(modbus_request_plan, bits_of_one_register_and_overlapping_points_share_a_read) {
  auto b0 = at(modbus_area::holding, 7);
  b0.bit = 0;
  auto b5 = at(modbus_area::holding, 7);
  b5.bit = 5;
  const auto plan = plan_requests({b0, b5, at(modbus_area::holding, 6, modbus_type::uint32)}, 0);
  EXPECT_EQ(described(plan), lines{"holding 6..7 (2 registers, 3 points)"});
}

TEST(modbus_request_plan, no_points_no_requests) {
  EXPECT_TRUE(plan_requests({}, 8).empty());
}

TEST(modbus_request_plan, a_typical_line_and_stock_map_takes_two_requests) {
  // state (bit of 100), good_count uint32 at 102, reject_count uint32 at 104,
  // quantity float32 at 120: 106..119 is beyond max_gap 8.
  auto state = at(modbus_area::holding, 100);
  state.bit = 0;
  const auto plan = plan_requests({state, at(modbus_area::holding, 102, modbus_type::uint32),
                                   at(modbus_area::holding, 104, modbus_type::uint32),
                                   at(modbus_area::holding, 120, modbus_type::float32)},
                                  8);
  EXPECT_EQ(described(plan), (lines{"holding 100..105 (6 registers, 3 points)", "holding 120..121 (2 registers, 1 point)"}));
  EXPECT_EQ(range_text(plan[1]), "holding 120..121");
}

}  // namespace
}  // namespace plant::sources
