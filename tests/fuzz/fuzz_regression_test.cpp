// Every input a fuzzer ever crashed on (tests/fuzz/regressions/<target>/) and every
// seed (tests/fuzz/corpus/<target>/) goes through its target on each run, under
// the sanitizers of the build: a fixed crash stays fixed without libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/fuzz/fuzz_targets.hpp"

namespace plant::fuzz {
namespace {

std::size_t run_folder(const target& t, const std::filesystem::path& folder) {
  std::size_t ran = 0;
  if (!std::filesystem::is_directory(folder)) return ran;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    t.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++ran;
  }
  return ran;
}

TEST(fuzz_regressions, every_kept_input_and_seed_runs_through_its_target) {
  const std::filesystem::path base = std::filesystem::path(PLANT_SOURCE_DIR) / "tests" / "fuzz";
  for (const target& t : all_targets()) {
    const std::size_t seeds = run_folder(t, base / "corpus" / std::string(t.name));
    run_folder(t, base / "regressions" / std::string(t.name));
    EXPECT_GT(seeds, 0u) << t.name << " has no seed corpus";
  }
}

TEST(fuzz_regressions, empty_and_one_byte_inputs_are_handled_by_every_target) {
  for (const target& t : all_targets()) {
    t.run(nullptr, 0);
    for (int b = 0; b < 256; b += 17) {
      const std::uint8_t one = static_cast<std::uint8_t>(b);
      t.run(&one, 1);
    }
  }
}

}  // namespace
}  // namespace plant::fuzz
