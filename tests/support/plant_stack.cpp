#include "tests/support/plant_stack.hpp"

#include <signal.h>

#include "tests/support/json_text.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {

using namespace std::chrono_literals;

plant_stack::plant_stack(const std::string& name, broker_options options)
    : dir_(name), broker_(std::move(options)), client_id_("audit-" + name), watch_(dir_, "watch") {}

testing::AssertionResult plant_stack::start(std::chrono::seconds watch_duration,
                                            const std::vector<std::string>& watch_args) {
  auto started = broker_.start();
  if (!started) return started;
  std::vector<std::string> args{"--json", "--audit", "--persistent", "--client-id", client_id_,
                                "--duration", std::to_string(watch_duration.count()) + "s"};
  args.insert(args.end(), watch_args.begin(), watch_args.end());
  started = watch_.start(broker_.url(), args);
  if (!started) return started;
  if (wait_until([&] { return broker_.has_subscription(client_id_, "plant/v1/#"); }, 10s))
    return testing::AssertionSuccess();
  return testing::AssertionFailure() << "the audit session never subscribed; watch: " << watch_.errors()
                                     << "\nbroker log:\n" << broker_.log_text();
}

std::size_t plant_stack::status_mark() const { return watch_.of_kind("status").size(); }

bool plant_stack::drained_since(std::size_t mark) const {
  auto statuses = watch_.of_kind("status");
  if (statuses.size() <= mark) return false;
  const std::string& last = statuses.back();
  if (json_string(last, "state") != "online") return false;
  auto at = last.find("\"backlog\":{");
  if (at == std::string::npos) return false;
  const std::string backlog = last.substr(at);
  // Nothing waits, or only what was sealed a moment ago and is on its way: a live
  // stream always has a message in flight on a slow link, which is not a backlog.
  return json_integer(backlog, "messages") == 0 || json_integer(backlog, "oldest_age_ms").value_or(1000000) < 1000;
}

std::string plant_stack::finish_and_audit(agent_process& agent, const std::string& agent_id,
                                          std::chrono::milliseconds stop_timeout) {
  auto stopped = agent.process().terminate_and_wait(stop_timeout);
  EXPECT_TRUE(stopped.success()) << stopped.describe() << agent.log();
  EXPECT_TRUE(wait_until(
      [&] {
        auto statuses = watch_.of_kind("status");
        return !statuses.empty() && json_string(statuses.back(), "state") == "offline";
      },
      20s))
      << "no offline status after the agent stopped; watch: " << watch_.errors();
  watch_.process().signal(SIGINT);
  watch_.process().wait(10s);
  return watch_.audit_line(agent_id);
}

}  // namespace plant::test
