// The state directory belongs to one agent run by one user: a spool this user
// cannot read stops the start instead of being overwritten (D2), and a second
// agent on the same directory is refused by name (D10).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/agent_harness.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/plant_stack.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string simulator = "[[source.simulator]]\nname = \"sim\"\nlines = 2\nmaterials = 4\nspeed = 10.0\n";

std::vector<std::pair<std::string, std::uintmax_t>> spool_files(const std::string& state_dir) {
  std::vector<std::pair<std::string, std::uintmax_t>> files;
  for (const auto& entry : fs::directory_iterator(state_dir + "/spool")) {
    files.emplace_back(entry.path().filename().string(), entry.file_size());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(state_dir, a_spool_this_user_cannot_read_stops_the_start_and_is_never_overwritten) {
  plant_stack stack("unreadable");
  ASSERT_TRUE(stack.start());
  // Readable by everyone down to the config, so another user can run the agent here.
  ASSERT_EQ(::chmod(stack.dir().path().c_str(), 0755), 0);
  const std::string state = stack.state_dir();
  const std::string config = agent_config_text("gw-u", "site-u", state, stack.broker().url(),
                                               "publish_interval = \"100ms\"\n", simulator);

  // 1. A spool with unacknowledged messages: written while the broker is away.
  ASSERT_TRUE(stack.broker().stop());
  {
    agent_process writer(stack.dir(), "writer", config);
    ASSERT_TRUE(writer.start());
    PLANT_ASSERT_EVENTUALLY(writer.log().find("cannot reach") != std::string::npos, 10s);
    ASSERT_TRUE(wait_until([&] { return fs::exists(state + "/spool/ack") && fs::file_size(state + "/spool/ack") > 0; }, 10s));
    // A few batches sealed and synced: the simulator samples every 100 ms here.
    ASSERT_TRUE(wait_until([&] { return spool_files(state).size() >= 2 && spool_files(state)[1].second > 1000; }, 10s));
    auto stopped = writer.process().terminate_and_wait(10s);
    ASSERT_TRUE(stopped.success()) << stopped.describe();
  }
  const auto before = spool_files(state);

  // 2. Now the agent cannot read it: as root, the spool is root's and the agent runs
  //    as nobody (the directory itself is nobody's, as a package would leave it);
  //    as anyone else, the ack record loses its permissions.
  const bool as_root = ::geteuid() == 0;
  const std::string user = as_root ? "nobody" : "";
  if (as_root) {
    ASSERT_EQ(::chown(state.c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown((state + "/spool").c_str(), 65534, 65534), 0);
    fs::remove(state + "/plant-agent.lock");  // the lock is re-created by whoever runs next
  } else {
    ASSERT_EQ(::chmod((state + "/spool/ack").c_str(), 0), 0);
  }
  agent_process refused(stack.dir(), "refused", config);
  ASSERT_EQ(::chmod(refused.config_path().c_str(), 0644), 0);
  refused.run_as(user);
  ASSERT_TRUE(refused.start());
  auto ended = refused.process().wait(20s);
  ASSERT_TRUE(ended.has_value()) << "the agent started over a spool it cannot read:\n" << refused.log();
  EXPECT_EQ(ended->code, 1) << refused.log();
  EXPECT_NE(refused.log().find(state + "/spool/"), std::string::npos) << refused.log();
  EXPECT_NE(refused.log().find("Permission denied"), std::string::npos) << refused.log();
  EXPECT_NE(refused.log().find("chown -R " + std::string(as_root ? "nobody:nogroup " : "")), std::string::npos)
      << refused.log();
  EXPECT_EQ(spool_files(state), before) << "nothing in the spool may be touched";

  // 3. Fixed as the message says: the old messages go out, and no seq is reused.
  if (as_root) {
    ASSERT_EQ(run_command({"chown", "-R", "nobody:nogroup", state}, 10s).exit_code, 0);
  } else {
    ASSERT_EQ(::chmod((state + "/spool/ack").c_str(), 0640), 0);
  }
  ASSERT_TRUE(stack.broker().start());
  const std::size_t mark = stack.status_mark();
  agent_process fixed(stack.dir(), "fixed", config);
  ASSERT_EQ(::chmod(fixed.config_path().c_str(), 0644), 0);
  fixed.run_as(user);
  ASSERT_TRUE(fixed.start());
  PLANT_ASSERT_EVENTUALLY(stack.drained_since(mark), 30s) << fixed.log();
  std::string audit = stack.finish_and_audit(fixed, "gw-u");
  ASSERT_FALSE(audit.empty()) << stack.watch().errors();
  EXPECT_EQ(json_integer(audit, "first_seq"), 1) << audit;
  EXPECT_EQ(json_integer(audit, "gaps"), 0) << audit;
  EXPECT_EQ(json_integer(audit, "duplicates"), 0) << audit << " (a reused seq shows as a duplicate)";
}

TEST(state_dir, a_second_agent_on_the_same_directory_is_refused_naming_the_first) {
  temp_dir dir("second");
  const std::string config = agent_config_text("gw-2", "site-2", dir.file("state"), "tcp://127.0.0.1:1", "", simulator);
  agent_process first(dir, "first", config);
  ASSERT_TRUE(first.start());
  ASSERT_TRUE(first.wait_for_log("running:", 10s));
  agent_process second(dir, "second", config);
  ASSERT_TRUE(second.start());
  auto ended = second.process().wait(10s);
  ASSERT_TRUE(ended.has_value()) << "the second agent kept running";
  EXPECT_EQ(ended->code, 1) << second.log();
  EXPECT_NE(second.log().find("is in use by another plant-agent (pid " + std::to_string(first.process().pid()) +
                              " (plant-agent))"),
            std::string::npos)
      << second.log();
  EXPECT_TRUE(first.process().running());
}

}  // namespace
}  // namespace plant::test
