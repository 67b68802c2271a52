// Nothing lost: the spool under kill -9, broker outages, damage and bounds,
// checked end to end by a persistent plant-watch --audit session.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/support/agent_harness.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/mqtt_fault_relay.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string busy_simulator =
    "[[source.simulator]]\nname = \"sim\"\nseed = 3\nlines = 10\nmaterials = 40\ninterval = \"1s\"\n"
    "speed = 20.0\n";

std::uint64_t spool_bytes(const std::string& state_dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_dir + "/spool", ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

std::vector<fs::path> segments(const std::string& state_dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_dir + "/spool", ec)) {
    if (entry.path().extension() == ".spool") found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

TEST(durability, kill_9_at_random_moments_loses_nothing) {
  plant_stack stack("kill9");
  ASSERT_TRUE(stack.start());
  temp_dir& dir = stack.dir();
  std::string config = agent_config_text("gw-k", "site-k", stack.state_dir(), stack.broker().url(),
                                         "publish_interval = \"50ms\"\nmax_batch = 200\n", busy_simulator);
  std::mt19937 random(20261122);
  std::uniform_int_distribution<int> kill_after_ms(50, 1500);
  const int cycles = 20;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    agent_process agent(dir, "agent-" + std::to_string(cycle), config);
    ASSERT_TRUE(agent.start());
    ASSERT_TRUE(agent.wait_for_log("running:", 10s));
    // A random moment is the point of this test, so this one wait is on the clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    agent.process().kill9();
  }
  std::size_t mark = stack.status_mark();
  agent_process last(dir, "agent-last", config);
  ASSERT_TRUE(last.start());
  ASSERT_TRUE(last.wait_for_log("connected to", 10s));
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << last.log();
  std::string audit = stack.finish_and_audit(last, "gw-k");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_GT(json_integer(audit, "unique").value_or(0), 20 * 5) << audit;
  // Every restart continued the sequence rather than starting again at 1.
  EXPECT_EQ(json_integer(audit, "first_seq"), 1) << audit;
}

TEST(durability, an_uplink_outage_drains_the_backlog_with_live_data_first) {
  // Only the agent loses the broker (its uplink relay closes), while plant-watch
  // stays connected and measures what the agent sends, when it sends it.
  plant_stack stack("outage");
  ASSERT_TRUE(stack.start());
  temp_dir& dir = stack.dir();
  watch_process& watch = stack.watch();
  mqtt_fault_relay uplink(stack.broker().port());
  // A slow uplink (about 256 KiB/s), so the drain lasts seconds and live data must share it.
  uplink.limit_uplink(256 * 1024);
  std::string state = stack.state_dir();
  agent_process agent(dir, "agent",
                      agent_config_text("gw-o", "site-o", state, uplink.url(),
                                        "publish_interval = \"50ms\"\nmax_batch = 100\nmax_inflight = 16\n",
                                        busy_simulator));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= 5, 20s) << agent.log();

  uplink.close();
  ASSERT_TRUE(agent.wait_for_log("cannot reach", 10s));
  // Wait for a real backlog on disk: a few hundred KiB of sealed messages.
  PLANT_ASSERT_EVENTUALLY(spool_bytes(state) > 400 * 1024, 60s) << agent.log();
  std::size_t mark = stack.status_mark();
  uplink.open();
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 120s) << agent.log();

  // Live messages (sealed after the reconnect) went out during the drain, so
  // some arrived before the last replayed one did.
  auto telemetry = watch.of_kind("telemetry");
  std::size_t last_replayed = 0, first_live_after_outage = telemetry.size();
  bool seen_replayed = false;
  for (std::size_t i = 0; i < telemetry.size(); ++i) {
    if (json_bool(telemetry[i], "replayed") == true) {
      last_replayed = i;
      seen_replayed = true;
    } else if (seen_replayed && first_live_after_outage == telemetry.size()) {
      first_live_after_outage = i;
    }
  }
  ASSERT_TRUE(seen_replayed) << "the outage backlog must be marked replayed";
  EXPECT_LT(first_live_after_outage, last_replayed) << "live data must not wait for the whole backlog";

  std::string audit = stack.finish_and_audit(agent, "gw-o");
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_GT(json_integer(audit, "replayed").value_or(0), 20) << audit;
  // Live messages are not held behind the backlog: their p99 stays far below
  // the outage (the benchmark measures the 100 ms goal without CI noise).
  auto at = audit.find("\"live_latency_ms\":");
  ASSERT_NE(at, std::string::npos) << audit;
  EXPECT_LT(json_number(audit.substr(at), "p99").value_or(1e9), 1000.0) << audit;
}

// A small tmpfs as the state directory, filled to the last byte: the real "disk full".
class full_disk {
 public:
  explicit full_disk(const std::string& mount_point) : mount_point_(mount_point) {
    fs::create_directories(mount_point_);
    mounted_ = run_command({"mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mount_point_}, 10s).exit_code == 0;
  }
  ~full_disk() {
    if (mounted_) run_command({"umount", "-l", mount_point_}, 10s);
  }
  bool mounted() const { return mounted_; }
  /// Writes a filler file until the file system has no byte left.
  void fill() {
    std::ofstream filler(mount_point_ + "/filler", std::ios::binary);
    const std::string block(4096, 'f');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
    }
    for (int i = 0; i < 4096 && filler.write("f", 1) && filler.flush(); ++i) {
    }
  }
  void make_room() { fs::remove(mount_point_ + "/filler"); }

 private:
  std::string mount_point_;
  bool mounted_ = false;
};

// D4: with the disk full, rows live only in memory; the CSV file must stay until
// they are safe, and after kill -9 it is read again, with no seq reused.
TEST(durability, a_full_disk_keeps_a_csv_file_until_its_rows_are_safe_and_no_seq_is_reused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs as the state directory";
  plant_stack stack("disk-full");
  ASSERT_TRUE(stack.start());
  const std::string state = stack.state_dir();
  full_disk disk(state);
  ASSERT_TRUE(disk.mounted()) << "mount -t tmpfs failed";
  const std::string drop = stack.dir().file("drop");
  fs::create_directories(drop);
  const std::uint16_t health_port = free_tcp_port();
  const std::string config = agent_config_text(
      "gw-full", "site-f", state, stack.broker().url(), "publish_interval = \"100ms\"\n",
      "[[source.csv]]\nname = \"erp\"\ndirectory = \"" + drop +
          "\"\ninterval = \"100ms\"\nsettle_time = \"0s\"\nafter = \"delete\"\n"
          "[spool]\nsegment_bytes = \"16KiB\"\n[health]\nlisten = \"127.0.0.1:" + std::to_string(health_port) + "\"\n");
  ASSERT_TRUE(stack.broker().stop());  // nothing is acknowledged: memory is all the rows have
  std::string rows = "material,quantity\n";
  for (int i = 0; i < 40; ++i) rows += "part-" + std::to_string(i) + "," + std::to_string(i) + "\n";
  {
    agent_process agent(stack.dir(), "full", config);
    ASSERT_TRUE(agent.start());
    ASSERT_TRUE(agent.wait_for_log("running:", 10s));
    disk.fill();
    ASSERT_TRUE(write_file(stack.dir().file("x.tmp"), rows));
    ASSERT_EQ(::rename(stack.dir().file("x.tmp").c_str(), (drop + "/stock.csv").c_str()), 0);
    PLANT_ASSERT_EVENTUALLY(scrape_metric(health_port, "plant_agent_source_samples_total{source=\"erp\",kind=\"csv\"}")
                                    .value_or(0) >= 40 &&
                                scrape_metric(health_port, "plant_agent_spool_write_errors_total").value_or(0) >= 1,
                            15s)
        << agent.log();
    // A few sync rounds later the file is still there: its rows are only in memory.
    const double polls = scrape_metric(health_port, "plant_agent_source_polls_total{source=\"erp\",kind=\"csv\"}").value_or(0);
    PLANT_ASSERT_EVENTUALLY(
        scrape_metric(health_port, "plant_agent_source_polls_total{source=\"erp\",kind=\"csv\"}").value_or(0) > polls + 5,
        10s);
    EXPECT_TRUE(fs::exists(drop + "/stock.csv")) << "deleted while its rows were only in memory\n" << agent.log();
    EXPECT_NE(agent.log().find("keeping messages in memory"), std::string::npos) << agent.log();
    agent.process().kill9();
  }
  disk.make_room();
  ASSERT_TRUE(stack.broker().start());
  const std::size_t mark = stack.status_mark();
  agent_process again(stack.dir(), "again", config);
  ASSERT_TRUE(again.start());
  PLANT_ASSERT_EVENTUALLY(!fs::exists(drop + "/stock.csv"), 20s) << again.log();
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 20s) << again.log();
  // The file goes once its rows are synced, and a status may say "drained" before they were
  // read: wait for the rows themselves to reach plant-watch (a race CI once lost).
  auto missing_parts = [&] {
    std::string all;
    for (const auto& line : stack.watch().of_kind("telemetry")) all += line;
    std::vector<int> missing;
    for (int i = 0; i < 40; ++i)
      if (all.find("\"material\":\"part-" + std::to_string(i) + "\"") == std::string::npos) missing.push_back(i);
    return missing;
  };
  PLANT_EXPECT_EVENTUALLY(missing_parts().empty(), 20s)
      << missing_parts().size() << " of the 40 rows never arrived\n" << again.log();
  std::string audit = stack.finish_and_audit(again, "gw-full");
  EXPECT_EQ(json_integer(audit, "duplicates"), 0) << audit << " (a reused seq shows as a duplicate)";
  EXPECT_EQ(json_integer(audit, "gaps"), json_integer(audit, "reported_dropped")) << audit;
}

enum class damage { truncate_tail, flip_bytes_mid_segment, zero_length_segment, foreign_file, ack_record_missing,
                    ack_record_damaged };

std::string name_of(damage d) {
  switch (d) {
    case damage::truncate_tail: return "truncate_tail";
    case damage::flip_bytes_mid_segment: return "flip_bytes_mid_segment";
    case damage::zero_length_segment: return "zero_length_segment";
    case damage::foreign_file: return "foreign_file";
    case damage::ack_record_missing: return "ack_record_missing";
    case damage::ack_record_damaged: return "ack_record_damaged";
  }
  return "unknown";
}

class damaged_spool : public ::testing::TestWithParam<damage> {};

TEST_P(damaged_spool, the_agent_starts_and_delivers_every_intact_record) {
  plant_stack stack("damage-" + name_of(GetParam()));
  ASSERT_TRUE(stack.start());
  temp_dir& dir = stack.dir();
  mosquitto_broker& broker = stack.broker();
  std::string state = stack.state_dir();
  std::string config = agent_config_text("gw-d", "site-d", state, broker.url(),
                                         "publish_interval = \"50ms\"\nmax_batch = 100\n",
                                         busy_simulator + "\n[spool]\nsegment_bytes = \"64KiB\"\n");
  // 1. A spool full of unacknowledged messages: the broker is down while the agent runs.
  ASSERT_TRUE(broker.stop());
  {
    agent_process filler(dir, "filler", config);
    ASSERT_TRUE(filler.start());
    PLANT_ASSERT_EVENTUALLY(segments(state).size() >= 4, 60s) << filler.log();
    auto stopped = filler.process().terminate_and_wait(20s);
    ASSERT_TRUE(stopped.success()) << stopped.describe();
  }
  // 2. Damage it.
  auto segs = segments(state);
  ASSERT_GE(segs.size(), 4u);
  std::mt19937 random(static_cast<unsigned>(GetParam()) + 7);
  switch (GetParam()) {
    case damage::truncate_tail: {
      auto size = fs::file_size(segs.back());
      fs::resize_file(segs.back(), std::uniform_int_distribution<std::uintmax_t>(40, size - 1)(random));
      break;
    }
    case damage::flip_bytes_mid_segment: {
      auto& victim = segs[segs.size() / 2];
      std::fstream file(victim, std::ios::in | std::ios::out | std::ios::binary);
      auto size = fs::file_size(victim);
      auto offset = static_cast<std::streamoff>(size / 2);
      file.seekg(offset);
      char bytes[8];
      file.read(bytes, sizeof bytes);
      for (char& b : bytes) b = static_cast<char>(~b);
      file.seekp(offset);
      file.write(bytes, sizeof bytes);
      break;
    }
    case damage::zero_length_segment:
      ASSERT_TRUE(write_file(state + "/spool/seg-00000000000000000002.spool", ""));
      break;
    case damage::foreign_file:
      ASSERT_TRUE(write_file(state + "/spool/notes.txt", "left here by a technician\n"));
      break;
    case damage::ack_record_missing:
      fs::remove(state + "/spool/ack");
      break;
    case damage::ack_record_damaged: {
      std::fstream file(state + "/spool/ack", std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(0);
      file.write("garbage-garbage-garbage-garbage-garbage-garbage-garbage", 56);
      break;
    }
  }
  // 3. Start with the broker up: the agent must start and deliver what is intact.
  ASSERT_TRUE(broker.start());
  std::size_t mark = stack.status_mark();
  agent_process agent(dir, "agent", config);
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(agent.wait_for_log("connected to", 15s));
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << agent.log();
  std::string audit = stack.finish_and_audit(agent, "gw-d");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "gaps"), json_integer(audit, "reported_corrupted")) << audit << agent.log();
  if (GetParam() == damage::truncate_tail || GetParam() == damage::flip_bytes_mid_segment) {
    EXPECT_GT(json_integer(audit, "reported_corrupted").value_or(0), 0) << audit << agent.log();
  } else {
    EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  }
  EXPECT_GT(json_integer(audit, "unique").value_or(0), 20) << audit;
}

INSTANTIATE_TEST_SUITE_P(all, damaged_spool,
                         ::testing::Values(damage::truncate_tail, damage::flip_bytes_mid_segment,
                                           damage::zero_length_segment, damage::foreign_file,
                                           damage::ack_record_missing, damage::ack_record_damaged),
                         [](const auto& info) { return name_of(info.param); });

TEST(durability, a_bounded_spool_stays_bounded_and_reports_exactly_what_it_dropped) {
  plant_stack stack("bounded");
  ASSERT_TRUE(stack.start());
  temp_dir& dir = stack.dir();
  mosquitto_broker& broker = stack.broker();
  watch_process& watch = stack.watch();
  std::string state = stack.state_dir();
  const std::uint64_t max_bytes = 256 * 1024, segment_bytes = 32 * 1024;
  agent_process agent(dir, "agent",
                      agent_config_text("gw-b", "site-b", state, broker.url(),
                                        "publish_interval = \"20ms\"\nmax_batch = 100\nqueue_max_messages = 50\n",
                                        busy_simulator + "\n[spool]\nmax_bytes = \"256KiB\"\nsegment_bytes = \"32KiB\"\n"));
  ASSERT_TRUE(agent.start());
  PLANT_ASSERT_EVENTUALLY(watch.of_kind("telemetry").size() >= 3, 20s) << agent.log();
  ASSERT_TRUE(broker.stop());
  // The bound holds at every look while data keeps coming and old data is dropped.
  std::uint64_t largest = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        largest = std::max(largest, spool_bytes(state));
        return agent.log().find("dropped seq") != std::string::npos && agent.log().find("dropped since start") != std::string::npos &&
               largest > max_bytes / 2;
      },
      60s))
      << agent.log();
  for (int look = 0; look < 50; ++look) {
    largest = std::max(largest, spool_bytes(state));
    std::this_thread::sleep_for(20ms);  // sampling the directory over a second, not waiting for anything
  }
  EXPECT_LE(largest, max_bytes + segment_bytes) << "spool directory over its bound";
  std::size_t mark = stack.status_mark();
  ASSERT_TRUE(broker.start());
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 60s) << agent.log();
  std::string audit = stack.finish_and_audit(agent, "gw-b");
  ASSERT_FALSE(audit.empty());
  EXPECT_GT(json_integer(audit, "reported_dropped").value_or(0), 0) << audit;
  EXPECT_EQ(json_integer(audit, "gaps"), json_integer(audit, "reported_dropped")) << audit;
}

}  // namespace
}  // namespace plant::test
