#include "tests/support/other_broker.hpp"

#include "tests/support/binaries.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {

const char* to_string(broker_kind kind) { return kind == broker_kind::aedes ? "aedes" : "rabbitmq"; }

other_broker::other_broker(broker_kind kind) : dir_(std::string("broker-") + to_string(kind)), kind_(kind) {}

testing::AssertionResult other_broker::start() {
  port_ = free_tcp_port();
  process_spec spec;
  spec.output_dir = dir_.path();
  std::chrono::seconds ready_within{10};
  if (kind_ == broker_kind::aedes) {
    spec.argv = {"node", source_dir() + "/tests/brokers/aedes_broker.mjs", std::to_string(port_)};
    spec.name = "aedes";
  } else {
    // A node of its own: its own Erlang distribution and epmd ports, cookie, data
    // and logs, so parallel tests (and a system RabbitMQ) never meet.
    const std::uint16_t amqp = free_tcp_port();
    const std::uint16_t dist = free_tcp_port();
    epmd_port_ = free_tcp_port();
    const std::string conf = "listeners.tcp.default = 127.0.0.1:" + std::to_string(amqp) +
                             "\nmqtt.listeners.tcp.default = 127.0.0.1:" + std::to_string(port_) +
                             "\nmqtt.allow_anonymous = true\nloopback_users = none\n";
    if (auto ok = write_file(dir_.file("rabbitmq.conf"), conf); !ok) return ok;
    if (auto ok = write_file(dir_.file("enabled_plugins"), "[rabbitmq_mqtt].\n"); !ok) return ok;
    spec.argv = {"/usr/lib/rabbitmq/bin/rabbitmq-server"};
    spec.name = "rabbitmq";
    spec.env = {{"HOME", dir_.path()},
                {"RABBITMQ_NODENAME", "plant-test-" + std::to_string(port_) + "@localhost"},
                {"RABBITMQ_CONFIG_FILE", dir_.file("rabbitmq")},
                {"RABBITMQ_ENABLED_PLUGINS_FILE", dir_.file("enabled_plugins")},
                {"RABBITMQ_MNESIA_BASE", dir_.file("mnesia")},
                {"RABBITMQ_LOG_BASE", dir_.file("log")},
                {"RABBITMQ_PID_FILE", dir_.file("rabbitmq.pid")},
                {"RABBITMQ_DIST_PORT", std::to_string(dist)},
                {"ERL_EPMD_PORT", std::to_string(epmd_port_)}};
    ready_within = std::chrono::seconds(90);
  }
  if (auto started = process_.start(spec); !started) return started;
  if (wait_until([&] { return tcp_port_accepts(port_) || !process_.running(); }, ready_within) &&
      process_.running()) {
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << to_string(kind_) << " did not listen on " << port_ << ":\n" << log_text();
}

other_broker::~other_broker() { stop(); }

testing::AssertionResult other_broker::stop(std::chrono::milliseconds timeout) {
  exit_status stopped;
  if (process_.running()) stopped = process_.terminate_and_wait(timeout);
  // The node starts epmd as a daemon of its own, which outlives it.
  if (epmd_port_ != 0) run_command({"epmd", "-port", std::to_string(epmd_port_), "-kill"}, std::chrono::seconds(5));
  if (!stopped.killed_after_timeout) return testing::AssertionSuccess();
  return testing::AssertionFailure() << to_string(kind_) << ": " << stopped.describe();
}

std::string other_broker::log_text() const { return process_.stdout_text() + process_.stderr_text(); }

}  // namespace plant::test
