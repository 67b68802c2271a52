#include "common/spool/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace plant::spool {
namespace {

// Bit-at-a-time reference: slow, obviously right.
std::uint32_t reference_crc32c(const std::uint8_t* p, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b) crc = (crc & 1u) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

TEST(spool_crc32c, known_answer) { EXPECT_EQ(crc32c(std::string_view("123456789")), 0xE3069283u); }

TEST(spool_crc32c, empty_input_is_zero) { EXPECT_EQ(crc32c(std::string_view()), 0u); }

TEST(spool_crc32c, iscsi_test_vectors) {
  // RFC 3720 appendix B.4.
  std::vector<std::uint8_t> zeros(32, 0x00), ones(32, 0xFF), up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<std::uint8_t>(i);
    down[i] = static_cast<std::uint8_t>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up.data(), up.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c(down.data(), down.size()), 0x113FDB5Cu);
}

TEST(spool_crc32c, matches_bitwise_reference_at_every_length_and_alignment) {
  std::vector<std::uint8_t> data(300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + 7);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t n = 0; n + offset <= 100; ++n) {
      ASSERT_EQ(crc32c(data.data() + offset, n), reference_crc32c(data.data() + offset, n))
          << "offset " << offset << " length " << n;
    }
  }
}

TEST(spool_crc32c, extend_equals_one_shot_at_every_split) {
  const std::string text = "The quick brown fox jumps over the lazy dog, then files a stock report.";
  const std::uint32_t whole = crc32c(text);
  for (std::size_t split = 0; split <= text.size(); ++split) {
    const std::uint32_t first = crc32c_extend(0, text.data(), split);
    EXPECT_EQ(crc32c_extend(first, text.data() + split, text.size() - split), whole) << "split " << split;
  }
}

TEST(spool_crc32c, combine_joins_and_splits_at_every_point) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>((i * 7919) % 251);
  const std::uint32_t whole = crc32c(text);
  for (std::size_t split = 0; split <= text.size(); ++split) {
    const std::uint32_t a = crc32c(text.data(), split);
    const std::uint32_t b = crc32c(text.data() + split, text.size() - split);
    ASSERT_EQ(crc32c_combine(a, b, text.size() - split), whole) << "split " << split;
    // The same operation recovers B's CRC from A's and the whole one.
    ASSERT_EQ(crc32c_combine(a, whole, text.size() - split), b) << "split " << split;
  }
  // Lengths far beyond any buffer cost the same: 16 MiB of zeros after "abc".
  const std::string zeros(16u << 20, '\0');
  EXPECT_EQ(crc32c_combine(crc32c("abc"), crc32c(zeros), zeros.size()), crc32c("abc" + zeros));
}

}  // namespace
}  // namespace plant::spool
