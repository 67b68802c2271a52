#include "common/spool/crc32c.hpp"

namespace plant::spool {

namespace {

constexpr std::uint32_t polynomial = 0x82F63B78u;

struct crc_tables {
  std::uint32_t t[8][256];
};

// Built at compile time so there is no initialisation order to worry about and
// no first-call cost. Table k advances a byte through k further zero bytes, which
// lets the main loop fold eight input bytes per step (slice-by-8).
constexpr crc_tables make_tables() {
  crc_tables tables{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) != 0 ? (c >> 1) ^ polynomial : c >> 1;
    tables.t[0][i] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (std::uint32_t i = 0; i < 256; ++i) {
      const std::uint32_t prev = tables.t[k - 1][i];
      tables.t[k][i] = (prev >> 8) ^ tables.t[0][prev & 0xFFu];
    }
  }
  return tables;
}

constexpr crc_tables tables = make_tables();

// Assembled byte by byte so the result does not depend on the host's byte order
// or on alignment; compilers turn this into one load on little-endian targets.
inline std::uint32_t load_le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// Polynomials over GF(2) in the reflected bit order of the CRC: bit 31 is x^0.
// a * b mod p(x).
constexpr std::uint32_t multiply_mod_p(std::uint32_t a, std::uint32_t b) {
  std::uint32_t m = 1u << 31, product = 0;
  for (;;) {
    if ((a & m) != 0) {
      product ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1u) != 0 ? (b >> 1) ^ polynomial : b >> 1;
  }
  return product;
}

// x^(2^k) mod p(x) for k = 0..31: squaring the previous entry.
struct power_table {
  std::uint32_t x2n[32];
};

constexpr power_table make_powers() {
  power_table t{};
  std::uint32_t p = 1u << 30;  // x^1
  t.x2n[0] = p;
  for (int n = 1; n < 32; ++n) t.x2n[n] = p = multiply_mod_p(p, p);
  return t;
}

constexpr power_table powers = make_powers();

// x^(8 * bytes) mod p(x): the operator that moves a CRC past `bytes` zero bytes.
std::uint32_t shift_operator(std::uint64_t bytes) {
  std::uint32_t p = 1u << 31;  // x^0
  unsigned k = 3;               // 8 bits per byte = 2^3
  while (bytes != 0) {
    if ((bytes & 1u) != 0) p = multiply_mod_p(powers.x2n[k & 31], p);
    bytes >>= 1;
    ++k;
  }
  return p;
}

}  // namespace

std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t len_b) {
  return multiply_mod_p(shift_operator(len_b), crc_a) ^ crc_b;
}

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  const auto& t = tables.t;
  crc = ~crc;
  while (size >= 8) {
    const std::uint32_t lo = load_le32(p) ^ crc;
    const std::uint32_t hi = load_le32(p + 4);
    crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFFu] ^ t[2][(hi >> 8) & 0xFFu] ^ t[1][(hi >> 16) & 0xFFu] ^ t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) crc = t[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

}  // namespace plant::spool
