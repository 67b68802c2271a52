// libFuzzer's entry point for one target, chosen at build time (FUZZ_TARGET).
#include "tests/fuzz/fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  plant::fuzz::FUZZ_TARGET(data, size);
  return 0;
}
