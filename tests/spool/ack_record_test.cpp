#include "common/spool/ack_record.hpp"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/spool/crc32c.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::spool {
namespace {

std::array<std::uint8_t, ack_format::file_size> file_with(const ack_state* a, const ack_state* b) {
  std::array<std::uint8_t, ack_format::file_size> f{};
  if (a != nullptr) encode_ack_slot(*a, f.data());
  if (b != nullptr) encode_ack_slot(*b, f.data() + ack_format::slot_stride);
  return f;
}

std::string bytes_of_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(spool_ack_record, slot_round_trip_empty_and_damaged) {
  const ack_state s{7, 100, 150, 149, 400, 0x1234'5678'9ABC'DEF0ull};
  std::array<std::uint8_t, ack_format::slot_size> slot{};
  ack_state out;
  EXPECT_EQ(decode_ack_slot(slot.data(), out), slot_status::empty);
  encode_ack_slot(s, slot.data());
  ASSERT_EQ(decode_ack_slot(slot.data(), out), slot_status::valid);
  EXPECT_EQ(out, s);
  for (std::size_t i = 0; i < slot.size(); ++i) {
    auto copy = slot;
    copy[i] ^= 0x80;
    EXPECT_EQ(decode_ack_slot(copy.data(), out), slot_status::damaged) << "byte " << i;
  }
}

// A spool written by a version 1 agent is read after an upgrade: its slots carry no
// reservation and no boot (it synced the record at every write, so none was needed).
TEST(spool_ack_record, a_version_1_slot_still_reads) {
  std::array<std::uint8_t, ack_format::slot_size> slot{};
  const std::uint64_t fields[] = {9, 300, 341, 340};  // generation, acked, next, stored
  auto put_u32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) slot[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  put_u32(0, ack_format::v1_slot_magic);
  for (std::size_t k = 0; k < 4; ++k) {
    for (int i = 0; i < 8; ++i) slot[4 + 8 * k + i] = static_cast<std::uint8_t>(fields[k] >> (8 * i));
  }
  const std::uint32_t crc = crc32c(slot.data(), 36);
  put_u32(36, crc);
  ack_state out;
  ASSERT_EQ(decode_ack_slot(slot.data(), out), slot_status::valid);
  EXPECT_EQ(out.generation, 9u);
  EXPECT_EQ(out.acked_through, 300u);
  EXPECT_EQ(out.next_seq, 341u);
  EXPECT_EQ(out.stored_through, 340u);
  EXPECT_EQ(out.reserved_through, 0u);
  EXPECT_EQ(out.boot, 0u);
  slot[20] ^= 1;
  EXPECT_EQ(decode_ack_slot(slot.data(), out), slot_status::damaged);
}

TEST(spool_ack_record, highest_valid_generation_wins) {
  const ack_state older{4, 10, 20, 19}, newer{5, 15, 25, 24};
  auto f = file_with(&newer, &older);
  auto c = choose_ack(f.data(), f.size());
  ASSERT_TRUE(c.state);
  EXPECT_EQ(*c.state, newer);
  // A torn write of the newer slot leaves the older one in charge.
  f[3] ^= 0xFF;
  c = choose_ack(f.data(), f.size());
  ASSERT_TRUE(c.state);
  EXPECT_EQ(*c.state, older);
  EXPECT_EQ(c.a, slot_status::damaged);
  EXPECT_EQ(c.b, slot_status::valid);
  f[ack_format::slot_stride + 20] ^= 0x01;
  c = choose_ack(f.data(), f.size());
  EXPECT_FALSE(c.state);
  EXPECT_EQ(c.b, slot_status::damaged);
}

TEST(spool_ack_record, a_short_file_damages_the_slot_it_cuts) {
  const ack_state a{1, 3, 4, 3};
  auto f = file_with(&a, nullptr);
  auto c = choose_ack(f.data(), 20);
  EXPECT_FALSE(c.state);
  EXPECT_EQ(c.a, slot_status::damaged);
  EXPECT_EQ(c.b, slot_status::empty);
  c = choose_ack(f.data(), 100);
  ASSERT_TRUE(c.state);
  EXPECT_EQ(c.b, slot_status::empty);
  c = choose_ack(f.data(), 0);
  EXPECT_FALSE(c.state);
  EXPECT_EQ(c.a, slot_status::empty);
}

TEST(spool_ack_record, file_alternates_slots_in_place_and_locks) {
  plant::test::temp_dir dir("spool-ack");
  const std::filesystem::path path = dir.file("ack");
  ack_file f;
  bool created = false;
  ASSERT_FALSE(f.open(path, created));
  EXPECT_TRUE(created);
  EXPECT_EQ(std::filesystem::file_size(path), ack_format::file_size);
  EXPECT_TRUE(f.try_lock());
  EXPECT_FALSE(f.read().state);
  ASSERT_FALSE(f.write(10, 12, 11, true));  // generation 1 -> slot B
  ASSERT_FALSE(f.write(20, 22, 21, true));  // generation 2 -> slot A
  ASSERT_FALSE(f.write(30, 32, 31, false)); // generation 3 -> slot B
  EXPECT_EQ(std::filesystem::file_size(path), ack_format::file_size);
  const std::string raw = bytes_of_file(path);
  ack_state a, b;
  ASSERT_EQ(decode_ack_slot(reinterpret_cast<const std::uint8_t*>(raw.data()), a), slot_status::valid);
  ASSERT_EQ(decode_ack_slot(reinterpret_cast<const std::uint8_t*>(raw.data()) + ack_format::slot_stride, b),
            slot_status::valid);
  EXPECT_EQ(a, (ack_state{2, 20, 22, 21}));
  EXPECT_EQ(b, (ack_state{3, 30, 32, 31}));

  ack_file second;
  ASSERT_FALSE(second.open(path, created));
  EXPECT_FALSE(created);
  EXPECT_FALSE(second.try_lock()) << "a second opener must not get the lock";
  const auto c = second.read();
  ASSERT_TRUE(c.state);
  EXPECT_EQ(*c.state, (ack_state{3, 30, 32, 31}));
}

}  // namespace
}  // namespace plant::spool
