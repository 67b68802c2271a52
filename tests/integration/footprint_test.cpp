// Memory the real agent needs for the largest input it accepts (D5): a CSV of
// max_file_bytes used to be parsed whole (1,000,000 rows took 359 MB). It is now
// streamed in bounded chunks; the goal is a peak RSS at most 32 MiB above idle.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 when unreadable.
long status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

TEST(footprint, a_csv_of_max_file_bytes_is_read_within_32_mib_above_idle) {
  plant_stack stack("csv-footprint");
  ASSERT_TRUE(stack.start());
  const std::string drop = stack.dir().file("drop");
  fs::create_directories(drop);
  const std::uint16_t health_port = free_tcp_port();
  agent_process agent(stack.dir(), "agent",
                      agent_config_text("gw-fp", "site-fp", stack.state_dir(), stack.broker().url(),
                                        "publish_interval = \"100ms\"\n",
                                        "[[source.csv]]\nname = \"erp\"\ndirectory = \"" + drop +
                                            "\"\ninterval = \"200ms\"\nsettle_time = \"0s\"\nafter = \"delete\"\n"
                                            "max_file_bytes = \"64MiB\"\n[health]\nlisten = \"127.0.0.1:" +
                                            std::to_string(health_port) + "\"\n"));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_broker_connected") == 1.0, 10s) << agent.log();
  const long idle_kib = status_kib(agent.process().pid(), "VmRSS");
  ASSERT_GT(idle_kib, 0);

  // 64 MiB of short rows (about 7 million): the shape that cost the most per byte.
  std::uint64_t rows = 0;
  {
    std::ofstream out(stack.dir().file("big.tmp"), std::ios::binary);
    std::string chunk = "material,quantity\n";
    std::uint64_t bytes = chunk.size();
    const std::uint64_t limit = 64ull << 20;
    for (;;) {
      const std::string row = "m" + std::to_string(rows % 5000) + "," + std::to_string(rows % 997) + "\n";
      if (bytes + row.size() > limit) break;
      chunk += row;
      bytes += row.size();
      ++rows;
      if (chunk.size() > (1u << 20)) {
        out << chunk;
        chunk.clear();
      }
    }
    out << chunk;
  }
  ASSERT_EQ(::rename(stack.dir().file("big.tmp").c_str(), (drop + "/big.csv").c_str()), 0);
  // Deleted once every row is safe; then wait for the broker to have it all.
  PLANT_ASSERT_EVENTUALLY(!fs::exists(drop + "/big.csv"), 120s) << agent.log();
  const std::size_t mark = stack.status_mark();
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << agent.log();
  const long peak_kib = status_kib(agent.process().pid(), "VmHWM");
  const double above_idle_mib = static_cast<double>(peak_kib - idle_kib) / 1024.0;
  std::cout << "[ footprint ] " << rows << " rows (64 MiB): idle RSS " << idle_kib / 1024.0 << " MiB, peak "
            << peak_kib / 1024.0 << " MiB, " << above_idle_mib << " MiB above idle (goal <= 32)\n";
  EXPECT_LE(above_idle_mib, 32.0);

  std::string audit = stack.finish_and_audit(agent, "gw-fp");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "samples"), static_cast<std::int64_t>(rows)) << audit;
}

}  // namespace
}  // namespace plant::test
