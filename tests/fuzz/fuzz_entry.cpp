// libFuzzer's entry point for one target, chosen at build time (FUZZ_TARGET).
#include "tests/fuzz/fuzz_targets.hpp"

#include "common/core/log.hpp"

// Logging would flood libFuzzer's output and slow it down: errors only.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  plant::log::set_level(plant::log::level::error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  plant::fuzz::FUZZ_TARGET(data, size);
  return 0;
}
