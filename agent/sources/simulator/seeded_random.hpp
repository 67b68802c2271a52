#pragma once
/// The simulator's own random numbers: splitmix64 for seeding and hashing,
/// xoshiro256** for streams. Integer-only, so a seed gives the same numbers on
/// every compiler, standard library and architecture (std:: distributions do not).
#include <cstdint>

namespace plant::sources {

/// One splitmix64 step: advances `state` and returns the next output.
inline std::uint64_t splitmix64_next(std::uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// A stateless 64-bit mix of `value` (the splitmix64 finaliser).
inline std::uint64_t mix64(std::uint64_t value) {
  std::uint64_t state = value;
  return splitmix64_next(state);
}

/// xoshiro256** seeded from one 64-bit seed through splitmix64.
class seeded_random {
 public:
  /// Expands `seed` into the 256-bit state.
  explicit seeded_random(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64_next(sm);
  }

  /// The next 64 uniformly distributed bits.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// 53 uniform bits, for comparing against a probability threshold (see threshold53).
  std::uint64_t next53() { return next() >> 11; }

  /// Uniform integer in [lo, hi] (hi >= lo). The modulo bias is below 2^-40 for
  /// the ranges the simulator uses, far under anything a test could see.
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    if (span == 0) return lo + static_cast<std::int64_t>(next());  // the full 64-bit range
    return lo + static_cast<std::int64_t>(next() % span);
  }

  /// True with the probability encoded by `threshold` (from threshold53()).
  bool chance(std::uint64_t threshold) { return next53() < threshold; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

/// Encodes probability `p` (clamped to [0, 1]) as a 53-bit threshold for seeded_random::chance.
/// A single multiplication by a power of two: exact, so identical everywhere.
inline std::uint64_t threshold53(double p) {
  constexpr double two53 = 9007199254740992.0;
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return 1ull << 53;
  return static_cast<std::uint64_t>(p * two53);
}

}  // namespace plant::sources
