#pragma once
/// Shared by the estimator and detector tests: sample-time constants and a
/// deterministic noise source.
#include <cstdint>

#include "common/core/sample.hpp"

namespace plant::edge::test {

constexpr epoch_ms minute = 60'000;
constexpr epoch_ms hour = 60 * minute;
constexpr epoch_ms t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

/// Deterministic noise, uniform in [-1, 1] (splitmix64; no std:: distributions,
/// whose output differs between standard libraries).
class noise_source {
 public:
  explicit noise_source(std::uint64_t seed) : state_(seed) {}
  double next() {
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
  }

 private:
  std::uint64_t state_;
};

}  // namespace plant::edge::test
