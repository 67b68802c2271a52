// Decoding registers into point values: every type in every word/byte order
// from known vectors, bits, scale/offset, state maps and bad values.
#include "agent/sources/modbus/modbus_decoding.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plant::sources {
namespace {

using sources::modbus_area;
using sources::modbus_type;
using sources::word_order;

sources::modbus_point point(modbus_type type, word_order order = word_order::abcd) {
  sources::modbus_point p;
  p.area = modbus_area::holding;
  p.address = 10;
  p.type = type;
  p.order = order;
  p.key_path = "source.modbus[0].stock[0].quantity";
  return p;
}

struct vector_case {
  modbus_type type;
  word_order order;
  std::vector<std::uint16_t> registers;
  double expected;
  const char* text;
};

// The layouts documented in modbus_decoding.hpp, written out by hand.
const vector_case cases[] = {
    {modbus_type::uint32, word_order::abcd, {0x1234, 0x5678}, 305419896.0, "305419896"},
    {modbus_type::uint32, word_order::cdab, {0x5678, 0x1234}, 305419896.0, "305419896"},
    {modbus_type::uint32, word_order::badc, {0x3412, 0x7856}, 305419896.0, "305419896"},
    {modbus_type::uint32, word_order::dcba, {0x7856, 0x3412}, 305419896.0, "305419896"},
    {modbus_type::int32, word_order::abcd, {0xFFFE, 0x1DC0}, -123456.0, "-123456"},
    {modbus_type::int32, word_order::cdab, {0x1DC0, 0xFFFE}, -123456.0, "-123456"},
    {modbus_type::int32, word_order::badc, {0xFEFF, 0xC01D}, -123456.0, "-123456"},
    {modbus_type::int32, word_order::dcba, {0xC01D, 0xFEFF}, -123456.0, "-123456"},
    // 3.14159274f = 0x40490FDB
    {modbus_type::float32, word_order::abcd, {0x4049, 0x0FDB}, 3.1415927410125732, "3.141592741"},
    {modbus_type::float32, word_order::cdab, {0x0FDB, 0x4049}, 3.1415927410125732, "3.141592741"},
    {modbus_type::float32, word_order::badc, {0x4940, 0xDB0F}, 3.1415927410125732, "3.141592741"},
    {modbus_type::float32, word_order::dcba, {0xDB0F, 0x4940}, 3.1415927410125732, "3.141592741"},
    // 0x0001020304050607 = 283686952306183
    {modbus_type::uint64, word_order::abcd, {0x0001, 0x0203, 0x0405, 0x0607}, 283686952306183.0, "283686952306183"},
    {modbus_type::uint64, word_order::cdab, {0x0607, 0x0405, 0x0203, 0x0001}, 283686952306183.0, "283686952306183"},
    {modbus_type::uint64, word_order::badc, {0x0100, 0x0302, 0x0504, 0x0706}, 283686952306183.0, "283686952306183"},
    {modbus_type::uint64, word_order::dcba, {0x0706, 0x0504, 0x0302, 0x0100}, 283686952306183.0, "283686952306183"},
    // -2 = 0xFFFFFFFFFFFFFFFE
    {modbus_type::int64, word_order::abcd, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}, -2.0, "-2"},
    {modbus_type::int64, word_order::cdab, {0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF}, -2.0, "-2"},
    {modbus_type::int64, word_order::badc, {0xFFFF, 0xFFFF, 0xFFFF, 0xFEFF}, -2.0, "-2"},
    {modbus_type::int64, word_order::dcba, {0xFEFF, 0xFFFF, 0xFFFF, 0xFFFF}, -2.0, "-2"},
    // 1234.5 = 0x40934A0000000000
    {modbus_type::float64, word_order::abcd, {0x4093, 0x4A00, 0x0000, 0x0000}, 1234.5, "1234.5"},
    {modbus_type::float64, word_order::cdab, {0x0000, 0x0000, 0x4A00, 0x4093}, 1234.5, "1234.5"},
    {modbus_type::float64, word_order::badc, {0x9340, 0x004A, 0x0000, 0x0000}, 1234.5, "1234.5"},
    {modbus_type::float64, word_order::dcba, {0x0000, 0x0000, 0x004A, 0x9340}, 1234.5, "1234.5"},
};

TEST(modbus_decoding, every_wide_type_in_every_order_decodes_its_known_vector) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.type)) + " " + to_string(c.order));
    ASSERT_EQ(c.registers.size(), static_cast<std::size_t>(registers_of(c.type)));
    const point_value v = decode_registers(point(c.type, c.order), c.registers.data());
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_DOUBLE_EQ(v.value, c.expected);
    EXPECT_EQ(v.text, c.text);
    EXPECT_EQ(v.width_bits, 16 * registers_of(c.type));
  }
}

TEST(modbus_decoding, join_registers_spells_out_the_documented_layouts) {
  const std::uint16_t r32[] = {0xAABB, 0xCCDD};
  EXPECT_EQ(join_registers(r32, 2, word_order::abcd), 0xAABBCCDDu);
  EXPECT_EQ(join_registers(r32, 2, word_order::cdab), 0xCCDDAABBu);
  EXPECT_EQ(join_registers(r32, 2, word_order::badc), 0xBBAADDCCu);
  EXPECT_EQ(join_registers(r32, 2, word_order::dcba), 0xDDCCBBAAu);
  const std::uint16_t r64[] = {0x0102, 0x0304, 0x0506, 0x0708};
  EXPECT_EQ(join_registers(r64, 4, word_order::abcd), 0x0102030405060708ull);
  EXPECT_EQ(join_registers(r64, 4, word_order::cdab), 0x0708050603040102ull);
  EXPECT_EQ(join_registers(r64, 4, word_order::badc), 0x0201040306050807ull);
  EXPECT_EQ(join_registers(r64, 4, word_order::dcba), 0x0807060504030201ull);
}

TEST(modbus_decoding, sixteen_bit_types_ignore_the_order) {
  const std::uint16_t reg[] = {0xFFFE};
  for (auto order : {word_order::abcd, word_order::cdab, word_order::badc, word_order::dcba}) {
    EXPECT_EQ(decode_registers(point(modbus_type::int16, order), reg).value, -2.0);
    EXPECT_EQ(decode_registers(point(modbus_type::uint16, order), reg).value, 65534.0);
  }
  const point_value v = decode_registers(point(modbus_type::int16), reg);
  EXPECT_EQ(v.integer, -2);
  EXPECT_EQ(v.raw_bits, 0xFFFEu);
  EXPECT_EQ(v.text, "-2");
}

TEST(modbus_decoding, the_largest_unsigned_64_bit_value_keeps_every_digit) {
  const std::uint16_t reg[] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
  const point_value v = decode_registers(point(modbus_type::uint64), reg);
  ASSERT_TRUE(v.ok);
  EXPECT_EQ(v.text, "18446744073709551615");
  EXPECT_EQ(v.raw_bits, ~0ull);
  EXPECT_FALSE(v.integer.has_value()) << "beyond int64";
}

TEST(modbus_decoding, scale_and_offset_apply_after_decoding) {
  auto p = point(modbus_type::uint16);
  p.scale = 0.1;
  p.offset = -3.0;
  const std::uint16_t reg[] = {1234};
  const point_value v = decode_registers(p, reg);
  ASSERT_TRUE(v.ok);
  EXPECT_NEAR(v.value, 120.4, 1e-9);
  EXPECT_EQ(v.integer, 1234) << "the integer stays the device's value";
  EXPECT_EQ(v.text, "120.4");

  auto f = point(modbus_type::float32, word_order::cdab);
  f.scale = 2.0;
  f.offset = 1.0;
  const std::uint16_t freg[] = {0x0000, 0x3FC0};  // 1.5f
  EXPECT_DOUBLE_EQ(decode_registers(f, freg).value, 4.0);
}

TEST(modbus_decoding, bits_of_a_register_and_coils_are_bools) {
  auto p = point(modbus_type::uint16);
  const std::uint16_t reg[] = {0x8005};
  for (int bit : {0, 1, 2, 15}) {
    p.bit = bit;
    const point_value v = decode_registers(p, reg);
    ASSERT_TRUE(v.ok);
    EXPECT_EQ(v.value, (bit == 1) ? 0.0 : 1.0) << "bit " << bit;
    EXPECT_EQ(v.text, bit == 1 ? "false" : "true");
    EXPECT_EQ(v.width_bits, 1);
  }
  EXPECT_EQ(width_of(p), 1);

  auto coil = point(modbus_type::boolean);
  coil.area = modbus_area::coil;
  EXPECT_EQ(decode_bit(coil, true).value, 1.0);
  EXPECT_EQ(decode_bit(coil, false).integer, 0);
  coil.scale = 10.0;
  EXPECT_EQ(decode_bit(coil, true).value, 10.0);

  auto whole = point(modbus_type::boolean);
  const std::uint16_t zero[] = {0}, some[] = {0x0100};
  EXPECT_EQ(decode_registers(whole, zero).text, "false");
  EXPECT_EQ(decode_registers(whole, some).text, "true");
}

TEST(modbus_decoding, not_a_number_and_infinity_are_bad_values_naming_the_key) {
  const std::uint16_t nan32[] = {0x7FC0, 0x0000};
  const point_value v = decode_registers(point(modbus_type::float32), nan32);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, "source.modbus[0].stock[0].quantity: value is NaN");
  const std::uint16_t inf32[] = {0xFF80, 0x0000};
  EXPECT_EQ(decode_registers(point(modbus_type::float32), inf32).error,
            "source.modbus[0].stock[0].quantity: value is infinite");
  const std::uint16_t inf64[] = {0x0000, 0x0000, 0x0000, 0x7FF0};
  EXPECT_FALSE(decode_registers(point(modbus_type::float64, word_order::cdab), inf64).ok);
}

sources::modbus_point state_point() {
  auto p = point(modbus_type::uint16);
  p.key_path = "source.modbus[0].line[0].state";
  p.map = {{0, "idle"}, {1, "running"}, {4, "fault"}};
  return p;
}

TEST(modbus_decoding, a_state_map_names_the_line_state) {
  const auto p = state_point();
  std::string error;
  const std::uint16_t four[] = {4};
  EXPECT_EQ(state_of(p, decode_registers(p, four), error), line_state::fault);
  EXPECT_EQ(error, "");
  const std::uint16_t one[] = {1};
  EXPECT_EQ(state_of(p, decode_registers(p, one), error), line_state::running);
}

TEST(modbus_decoding, an_unmapped_state_value_is_rejected_with_key_and_value) {
  const auto p = state_point();
  std::string error;
  const std::uint16_t seven[] = {7};
  EXPECT_FALSE(state_of(p, decode_registers(p, seven), error).has_value());
  EXPECT_EQ(error, "source.modbus[0].line[0].state: value 7 is not in map");
}

TEST(modbus_decoding, a_state_without_map_is_the_line_state_number) {
  auto p = state_point();
  p.map.clear();
  std::string error;
  const std::uint16_t five[] = {5}, nine[] = {9};
  EXPECT_EQ(state_of(p, decode_registers(p, five), error), line_state::fault);
  EXPECT_FALSE(state_of(p, decode_registers(p, nine), error).has_value());
  EXPECT_EQ(error, "source.modbus[0].line[0].state: value 9 is not a line state number (0..6); give the point a map");
}

TEST(modbus_decoding, a_bit_state_maps_its_zero_or_one) {
  auto p = state_point();
  p.bit = 3;
  p.map = {{0, "idle"}, {1, "running"}};
  std::string error;
  const std::uint16_t reg[] = {0x0008};
  EXPECT_EQ(state_of(p, decode_registers(p, reg), error), line_state::running);
}

TEST(modbus_decoding, failed_points_carry_their_key_path) {
  const point_value v = failed_point(point(modbus_type::uint16), "illegal data address (Modbus exception 2)");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, "source.modbus[0].stock[0].quantity: illegal data address (Modbus exception 2)");
}

TEST(modbus_decoding, names_and_widths) {
  EXPECT_STREQ(to_string(modbus_area::discrete), "discrete");
  EXPECT_STREQ(to_string(modbus_type::float64), "float64");
  EXPECT_STREQ(to_string(word_order::badc), "BADC");
  EXPECT_EQ(registers_of(modbus_type::boolean), 1);
  EXPECT_EQ(registers_of(modbus_type::int32), 2);
  EXPECT_EQ(registers_of(modbus_type::float64), 4);
  auto coil = point(modbus_type::boolean);
  coil.area = modbus_area::coil;
  EXPECT_EQ(width_of(coil), 1);
  EXPECT_EQ(width_of(point(modbus_type::uint64)), 4);
}

}  // namespace
}  // namespace plant::sources
