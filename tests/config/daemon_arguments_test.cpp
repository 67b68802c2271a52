#include "common/config/daemon_arguments.hpp"

#include <gtest/gtest.h>

namespace plant::config {
namespace {

daemon_arguments parse(std::vector<const char*> argv, const std::vector<std::string>& extra = {}) {
  argv.insert(argv.begin(), "prog");
  return parse_daemon_arguments(static_cast<int>(argv.size()), argv.data(), "/etc/prog.toml", extra);
}

TEST(daemon_arguments, reads_config_overrides_in_order_and_the_programs_own_options) {
  const auto a = parse({"--check-config", "x.toml", "--set", "a.b=1", "--set=c.d=2", "--probe", "plc-1"}, {"--probe"});
  EXPECT_EQ(a.error, "");
  EXPECT_EQ(a.config_path, "x.toml");
  EXPECT_TRUE(a.check_only);
  EXPECT_EQ(a.overrides, (std::vector<std::string>{"a.b=1", "c.d=2"}));
  EXPECT_EQ(a.extra.at("--probe"), "plc-1");
  EXPECT_EQ(parse({}).config_path, "/etc/prog.toml");
  EXPECT_TRUE(parse({"-h"}).help);
  EXPECT_TRUE(parse({"--version"}).version);
  EXPECT_TRUE(parse({"--print-reference"}).print_reference);
}

TEST(daemon_arguments, says_what_is_wrong) {
  EXPECT_EQ(parse({"--set"}).error, "--set needs a value");
  EXPECT_EQ(parse({"-c"}).error, "--config needs a value");
  EXPECT_EQ(parse({"--bogus"}).error, "unknown option '--bogus'");
  EXPECT_EQ(parse({"--probe", "x"}).error, "unknown option '--probe'") << "only the program's own flags";
}

}  // namespace
}  // namespace plant::config
