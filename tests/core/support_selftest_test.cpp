// Self-test of tests/support: the fixtures must work before any integration
// test can be trusted. Everything here runs real processes (mosquitto, its
// clients, openssl, sh, socat) and waits on conditions, never on sleeps.
#include <fcntl.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/binaries.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/socat_pty_pair.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Gone, or a zombie waiting for a PID 1 that may never reap it (containers).
bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

std::vector<std::string> concat(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// ---- temp_dir ----------------------------------------------------------------

TEST(support_temp_dir, is_created_private_and_removed_with_its_content) {
  std::string path;
  {
    temp_dir dir("plant-selftest");
    path = dir.path();
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_TRUE(S_ISDIR(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0700u);
    EXPECT_TRUE(contains(path, "/plant-selftest-"));
    ASSERT_TRUE(write_file(dir.file("a.txt"), "x"));
    ASSERT_EQ(::mkdir(dir.file("nested").c_str(), 0700), 0);
    ASSERT_TRUE(write_file(dir.file("nested/b.txt"), "y"));
  }
  EXPECT_FALSE(file_exists(path));
}

TEST(support_temp_dir, is_kept_when_plant_keep_tmp_is_1) {
  const char* previous = std::getenv("PLANT_KEEP_TMP");
  const std::string saved = previous != nullptr ? previous : "";
  ::setenv("PLANT_KEEP_TMP", "1", 1);
  std::string path;
  testing::internal::CaptureStderr();
  { path = temp_dir("plant-selftest-keep").path(); }
  const std::string printed = testing::internal::GetCapturedStderr();
  if (previous != nullptr) {
    ::setenv("PLANT_KEEP_TMP", saved.c_str(), 1);
  } else {
    ::unsetenv("PLANT_KEEP_TMP");
  }
  EXPECT_TRUE(file_exists(path));
  EXPECT_EQ(printed, "PLANT_KEEP_TMP=1: kept " + path + "\n");
  ::rmdir(path.c_str());
}

// ---- ports -------------------------------------------------------------------

TEST(support_tcp_port, free_port_is_not_accepting) {
  const std::uint16_t port = free_tcp_port();
  ASSERT_NE(port, 0);
  EXPECT_FALSE(tcp_port_accepts(port));
}

// ---- child_process -----------------------------------------------------------

TEST(support_child_process, reports_exit_code_and_captures_both_streams) {
  temp_dir dir;
  child_process child;
  ASSERT_TRUE(child.start({{"sh", "-c", "echo out; echo err >&2; exit 3"}, {}, "", dir.path(), "three"}));
  EXPECT_GT(child.pid(), 0);
  const auto status = child.wait(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 3);
  EXPECT_FALSE(status->success());
  EXPECT_EQ(status->describe(), "exit code 3");
  EXPECT_EQ(child.stdout_text(), "out\n");
  EXPECT_EQ(child.stderr_text(), "err\n");
  EXPECT_EQ(child.stdout_path(), dir.file("three.stdout"));
  EXPECT_FALSE(child.running());
}

TEST(support_child_process, passes_env_additions_and_working_dir) {
  temp_dir dir;
  temp_dir work;
  child_process child;
  process_spec spec;
  spec.argv = {"sh", "-c", "echo \"$PLANT_SELFTEST_VALUE\"; pwd"};
  spec.env = {{"PLANT_SELFTEST_VALUE", "hello"}};
  spec.working_dir = work.path();
  spec.output_dir = dir.path();
  ASSERT_TRUE(child.start(spec));
  ASSERT_TRUE(child.wait(5s).has_value());
  EXPECT_EQ(child.stdout_text(), "hello\n" + work.path() + "\n");
}

TEST(support_child_process, restarted_name_gets_fresh_output_files) {
  temp_dir dir;
  child_process first;
  child_process second;
  ASSERT_TRUE(first.start({{"echo", "one"}, {}, "", dir.path(), ""}));
  ASSERT_TRUE(second.start({{"echo", "two"}, {}, "", dir.path(), ""}));
  ASSERT_TRUE(first.wait(5s) && second.wait(5s));
  EXPECT_EQ(first.stdout_path(), dir.file("echo.stdout"));
  EXPECT_EQ(second.stdout_path(), dir.file("echo.2.stdout"));
  EXPECT_EQ(first.stdout_text(), "one\n");
  EXPECT_EQ(second.stdout_text(), "two\n");
}

TEST(support_child_process, kill9_ends_it_by_signal) {
  temp_dir dir;
  child_process child;
  ASSERT_TRUE(child.start({{"sleep", "30"}, {}, "", dir.path(), ""}));
  EXPECT_TRUE(child.running());
  EXPECT_FALSE(child.wait(50ms).has_value());
  const exit_status status = child.kill9();
  EXPECT_FALSE(status.exited);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_EQ(status.describe(), "signal 9 (KILL)");
  EXPECT_FALSE(child.running());
  EXPECT_FALSE(child.signal(SIGTERM));
}

TEST(support_child_process, terminate_and_wait_escalates_and_kills_the_group) {
  temp_dir dir;
  child_process child;
  // The shell ignores SIGTERM and has a child of its own: both must go.
  ASSERT_TRUE(child.start({{"sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"}, {}, "", dir.path(), ""}));
  PLANT_ASSERT_EVENTUALLY(contains(child.stdout_text(), "\n"), 5s);
  const pid_t grandchild = std::stoi(child.stdout_text());
  const exit_status status = child.terminate_and_wait(200ms);
  EXPECT_TRUE(status.killed_after_timeout);
  EXPECT_EQ(status.describe(), "signal 9 (KILL), killed with SIGKILL after SIGTERM timed out");
  PLANT_EXPECT_EVENTUALLY(process_gone(grandchild), 5s);
}

TEST(support_child_process, terminate_and_wait_returns_a_clean_exit) {
  temp_dir dir;
  child_process child;
  ASSERT_TRUE(child.start({{"sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done"}, {}, "",
                           dir.path(), ""}));
  PLANT_ASSERT_EVENTUALLY(child.stdout_text() == "ready\n", 5s);
  const exit_status status = child.terminate_and_wait(5s);
  EXPECT_TRUE(status.success()) << status.describe();
  EXPECT_FALSE(status.killed_after_timeout);
}

TEST(support_child_process, destructor_kills_what_still_runs) {
  temp_dir dir;
  pid_t pid = -1;
  {
    child_process child;
    ASSERT_TRUE(child.start({{"sleep", "30"}, {}, "", dir.path(), ""}));
    pid = child.pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  // Reaped by the destructor: the pid no longer exists, not even as a zombie.
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_EQ(errno, ESRCH);
}

TEST(support_child_process, missing_program_fails_clearly) {
  temp_dir dir;
  child_process child;
  const testing::AssertionResult started =
      child.start({{"plant-no-such-program"}, {{"PATH", "/nonexistent"}}, "", dir.path(), ""});
  ASSERT_FALSE(started);
  EXPECT_EQ(std::string(started.message()),
            "cannot start 'plant-no-such-program': not found in PATH (/nonexistent)");
  EXPECT_EQ(child.pid(), -1);
}

TEST(support_child_process, failing_exec_and_bad_working_dir_fail_clearly) {
  temp_dir dir;
  // Executable bit but no valid format and no #! line: exec() itself fails.
  const std::string bogus = dir.file("bogus");
  ASSERT_TRUE(write_file(bogus, std::string("\x7f" "ELF\x01\x02", 6)));
  ASSERT_EQ(::chmod(bogus.c_str(), 0755), 0);
  child_process child;
  const testing::AssertionResult started = child.start({{bogus}, {}, "", dir.path(), ""});
  ASSERT_FALSE(started);
  EXPECT_EQ(std::string(started.message()), "cannot start '" + bogus + "': exec: Exec format error");

  const testing::AssertionResult no_dir = child.start({{"true"}, {}, dir.file("missing"), dir.path(), ""});
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(std::string(no_dir.message()),
            "cannot start '/usr/bin/true': chdir to '" + dir.file("missing") + "': No such file or directory");
}

// ---- wait_until --------------------------------------------------------------

TEST(support_wait_until, times_out_with_false_after_the_timeout) {
  std::atomic<int> calls{0};
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_FALSE(wait_until([&] { ++calls; return false; }, 100ms, 10ms));
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(elapsed, 100ms);
  EXPECT_LT(elapsed, 1s);
  EXPECT_GE(calls.load(), 3);
}

TEST(support_wait_until, returns_true_as_soon_as_the_condition_holds) {
  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, 5s, 1ms));
  EXPECT_EQ(calls, 3);
}

TEST(support_wait_until, eventually_names_what_was_awaited) {
  const testing::AssertionResult result = eventually([] { return false; }, 30ms, "the broker to start");
  ASSERT_FALSE(result);
  EXPECT_EQ(std::string(result.message()), "timed out after 30 ms waiting for: the broker to start");
}

TEST(support_wait_until, macro_fails_with_the_condition_text_and_context) {
  EXPECT_FATAL_FAILURE(PLANT_ASSERT_EVENTUALLY(1 + 1 == 3, 30ms) << "extra context",
                       "timed out after 30 ms waiting for: 1 + 1 == 3\nextra context");
  EXPECT_NONFATAL_FAILURE(PLANT_EXPECT_EVENTUALLY(false, 10ms), "timed out after 10 ms waiting for: false");
  PLANT_ASSERT_EVENTUALLY(true, 10ms) << "not evaluated";
}

// ---- run_command, files, json ------------------------------------------------

TEST(support_run_command, feeds_stdin_and_captures_output_and_exit_code) {
  const command_result result = run_command({"sh", "-c", "cat; echo oops >&2; exit 4"}, 5s, "abc");
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(result.stdout_text, "abc");
  EXPECT_EQ(result.stderr_text, "oops\n");
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.describe(), "'sh -c cat; echo oops >&2; exit 4' -> exit code 4; stderr: oops\n; stdout: abc");
}

TEST(support_run_command, kills_a_command_that_overruns) {
  const auto begin = std::chrono::steady_clock::now();
  const command_result result = run_command({"sleep", "30"}, 100ms);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
}

TEST(support_run_command, reports_a_missing_program) {
  const command_result result = run_command({"/nonexistent/tool"}, 1s);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_EQ(result.stderr_text, "cannot start '/nonexistent/tool': No such file or directory");
}

TEST(support_text_files, write_append_read) {
  temp_dir dir;
  ASSERT_TRUE(write_file(dir.file("f"), "a\n"));
  ASSERT_TRUE(append_file(dir.file("f"), "b\n"));
  EXPECT_EQ(read_file(dir.file("f")), "a\nb\n");
  EXPECT_EQ(read_file(dir.file("missing")), "");
  const testing::AssertionResult failed = write_file(dir.file("no/such/dir"), "x");
  ASSERT_FALSE(failed);
  EXPECT_EQ(std::string(failed.message()),
            "cannot open " + dir.file("no/such/dir") + " for writing: No such file or directory");
}

TEST(support_json_text, splits_lines_and_extracts_values) {
  const std::string output =
      "plant-watch: connected\n"
      "{\"topic\":\"plant/v1/a\",\"seq\":42,\"line\":{\"id\":\"L\\\"1\\u00e9\",\"ok\":true},\"rate\":-1.5e2}\r\n"
      "  {\"note\":\"seq\",\"big\":1700000000123}\n"
      "not json {\n";
  const auto lines = json_lines(output);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "  {\"note\":\"seq\",\"big\":1700000000123}");
  EXPECT_EQ(json_string(lines[0], "topic"), "plant/v1/a");
  EXPECT_EQ(json_string(lines[0], "id"), "L\"1\xc3\xa9");
  EXPECT_EQ(json_integer(lines[0], "seq"), 42);
  EXPECT_EQ(json_number(lines[0], "rate"), -150.0);
  EXPECT_EQ(json_bool(lines[0], "ok"), true);
  EXPECT_EQ(json_integer(lines[0], "rate"), std::nullopt);
  EXPECT_EQ(json_string(lines[0], "seq"), std::nullopt);
  EXPECT_EQ(json_number(lines[0], "absent"), std::nullopt);
  // "seq" appears as a value first; only the member counts.
  EXPECT_EQ(json_integer(lines[1], "seq"), std::nullopt);
  EXPECT_EQ(json_integer(lines[1], "big"), 1700000000123);
}

TEST(support_binaries, paths_come_from_the_build) {
  EXPECT_FALSE(agent_binary().empty());
  EXPECT_FALSE(watch_binary().empty());
  EXPECT_TRUE(file_exists(source_dir() + "/tests/support/mosquitto_broker.hpp")) << source_dir();
  EXPECT_EQ(::access(mosquitto_binary().c_str(), X_OK), 0) << mosquitto_binary();
}

// ---- mosquitto_broker --------------------------------------------------------

TEST(support_mosquitto_broker, delivers_a_published_message) {
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  EXPECT_EQ(broker.url(), "tcp://127.0.0.1:" + std::to_string(broker.port()));
  temp_dir dir;
  child_process sub;
  ASSERT_TRUE(sub.start({concat({"mosquitto_sub", "-i", "plant-selftest-sub"},
                                concat(broker.client_args(), {"-t", "plant/selftest", "-C", "1"})),
                         {}, "", dir.path(), ""}));
  // The broker's log is the only reliable sign that the subscription is in place.
  PLANT_ASSERT_EVENTUALLY(broker.has_subscription("plant-selftest-sub", "plant/selftest"), 5s)
      << broker.log_text() << sub.stderr_text();
  const command_result pub =
      run_command(concat({"mosquitto_pub"}, concat(broker.client_args(), {"-t", "plant/selftest", "-q", "1", "-m", "hello"})), 5s);
  ASSERT_TRUE(pub.ok()) << pub.describe();
  PLANT_ASSERT_EVENTUALLY(sub.stdout_text() == "hello\n", 5s) << sub.stdout_text();
  const auto ended = sub.wait(5s);
  ASSERT_TRUE(ended.has_value());
  EXPECT_TRUE(ended->success()) << ended->describe();
  EXPECT_TRUE(contains(broker.log_text(), "New client connected from 127.0.0.1"));
}

TEST(support_mosquitto_broker, persistent_session_survives_a_restart_on_the_same_port) {
  mosquitto_broker broker;
  ASSERT_TRUE(broker.start());
  const std::uint16_t port = broker.port();
  const std::vector<std::string> sub_args =
      concat({"mosquitto_sub", "-c", "-i", "plant-selftest-sub", "-q", "1"},
             concat(broker.client_args(), {"-t", "plant/persist"}));
  const auto publish = [&](const std::string& text) {
    return run_command(concat({"mosquitto_pub"}, concat(broker.client_args(), {"-t", "plant/persist", "-q", "1", "-m", text})), 5s);
  };
  temp_dir dir;
  {
    child_process sub;
    ASSERT_TRUE(sub.start({sub_args, {}, "", dir.path(), ""}));
    PLANT_ASSERT_EVENTUALLY(broker.has_subscription("plant-selftest-sub", "plant/persist"), 5s)
        << broker.log_text() << sub.stderr_text();
    ASSERT_TRUE(sub.terminate_and_wait(5s).success());
  }
  // Queued before the restart: only the saved database brings it back.
  ASSERT_TRUE(publish("before-restart").ok());
  ASSERT_TRUE(broker.restart());
  EXPECT_EQ(broker.port(), port);
  // Queued after the restart: only a restored subscription receives it.
  ASSERT_TRUE(publish("after-restart").ok());

  child_process sub;
  ASSERT_TRUE(sub.start({concat(sub_args, {"-C", "2"}), {}, "", dir.path(), ""}));
  const auto ended = sub.wait(5s);
  ASSERT_TRUE(ended.has_value()) << sub.stdout_text() << sub.stderr_text();
  EXPECT_TRUE(ended->success()) << ended->describe();
  EXPECT_EQ(sub.stdout_text(), "before-restart\nafter-restart\n");
  EXPECT_TRUE(contains(broker.log_text(), "Client plant-selftest-sub")) << broker.log_text();
}

TEST(support_mosquitto_broker, start_failure_carries_the_log_and_stderr) {
  broker_options options;
  options.extra_config = {"plant_no_such_option 1"};
  mosquitto_broker broker(options);
  const testing::AssertionResult started = broker.start();
  ASSERT_FALSE(started);
  const std::string message = started.message();
  EXPECT_TRUE(contains(message, "mosquitto_broker::start: mosquitto exited with exit code ")) << message;
  EXPECT_TRUE(contains(message, "Unknown configuration variable \"plant_no_such_option\"")) << message;
  EXPECT_FALSE(broker.running());
}

TEST(support_mosquitto_broker, password_file_refuses_wrong_password_and_anonymous) {
  broker_options options;
  options.users = {{"plant", "s3cret"}, {"ops", "other"}};
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  const auto publish = [&](const std::vector<std::string>& auth) {
    return run_command(concat(concat({"mosquitto_pub"}, broker.client_args()), concat(auth, {"-t", "t", "-m", "x"})), 5s);
  };
  const command_result good = publish({"-u", "plant", "-P", "s3cret"});
  EXPECT_TRUE(good.ok()) << good.describe();
  EXPECT_TRUE(publish({"-u", "ops", "-P", "other"}).ok());
  const command_result wrong = publish({"-u", "plant", "-P", "wrong"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_TRUE(contains(wrong.stderr_text, "Connection Refused: not authorised.")) << wrong.describe();
  EXPECT_NE(publish({}).exit_code, 0);
}

TEST(support_mosquitto_broker, tls_accepts_the_test_ca_and_rejects_another) {
  temp_dir pki_dir;
  test_pki pki;
  ASSERT_TRUE(pki.generate(pki_dir.path()));
  broker_options options;
  options.tls = broker_tls::from(pki);
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  EXPECT_EQ(broker.url(), "ssl://127.0.0.1:" + std::to_string(broker.port()));
  const std::vector<std::string> base = {"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                                         "-t", "t", "-m", "x"};
  const command_result trusted = run_command(concat(base, {"--cafile", pki.ca_cert}), 5s);
  EXPECT_TRUE(trusted.ok()) << trusted.describe();
  const command_result by_name = run_command({"mosquitto_pub", "-h", "localhost", "-p", std::to_string(broker.port()),
                                              "--cafile", pki.ca_cert, "-t", "t", "-m", "x"}, 5s);
  EXPECT_TRUE(by_name.ok()) << by_name.describe();
  const command_result wrong_ca = run_command(concat(base, {"--cafile", pki.other_ca_cert}), 5s);
  EXPECT_NE(wrong_ca.exit_code, 0);
  EXPECT_TRUE(contains(wrong_ca.stderr_text, "A TLS error occurred.")) << wrong_ca.describe();
  const command_result plain = run_command(base, 5s);
  EXPECT_NE(plain.exit_code, 0) << plain.describe();
}

TEST(support_mosquitto_broker, mutual_tls_requires_a_client_certificate_from_the_ca) {
  temp_dir pki_dir;
  test_pki pki;
  ASSERT_TRUE(pki.generate(pki_dir.path()));
  broker_options options;
  options.tls = broker_tls::from(pki, true);
  mosquitto_broker broker(options);
  ASSERT_TRUE(broker.start());
  const std::vector<std::string> base = concat(concat({"mosquitto_pub"}, broker.client_args()), {"-t", "t", "-m", "x"});
  const command_result with_cert = run_command(concat(base, {"--cert", pki.client_cert, "--key", pki.client_key}), 5s);
  EXPECT_TRUE(with_cert.ok()) << with_cert.describe();
  EXPECT_NE(run_command(base, 5s).exit_code, 0);
  const command_result intruder =
      run_command(concat(base, {"--cert", pki.other_client_cert, "--key", pki.other_client_key}), 5s);
  EXPECT_NE(intruder.exit_code, 0) << intruder.describe();
}

TEST(support_test_pki, server_certificate_names_localhost_and_loopback) {
  temp_dir dir;
  test_pki pki;
  ASSERT_TRUE(pki.generate(dir.path()));
  const command_result text = run_command({"openssl", "x509", "-in", pki.server_cert, "-noout", "-text"}, 5s);
  ASSERT_TRUE(text.ok()) << text.describe();
  EXPECT_TRUE(contains(text.stdout_text, "IP Address:127.0.0.1, DNS:localhost")) << text.stdout_text;
  EXPECT_TRUE(run_command({"openssl", "verify", "-CAfile", pki.ca_cert, pki.server_cert, pki.client_cert}, 5s).ok());
  EXPECT_FALSE(run_command({"openssl", "verify", "-CAfile", pki.other_ca_cert, pki.server_cert}, 5s).ok());
  EXPECT_TRUE(run_command({"openssl", "verify", "-CAfile", pki.other_ca_cert, pki.other_client_cert}, 5s).ok());
}

// ---- socat_pty_pair ----------------------------------------------------------

TEST(support_socat_pty_pair, bytes_written_to_one_end_arrive_at_the_other) {
  temp_dir dir;
  socat_pty_pair ptys;
  ASSERT_TRUE(ptys.start(dir.path()));
  const int a = ::open(ptys.a_path().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  const int b = ::open(ptys.b_path().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  const std::string frame("\x01\x03\x00\x00\x00\x02\xc4\x0b", 8);
  ASSERT_EQ(::write(a, frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  std::string received;
  PLANT_EXPECT_EVENTUALLY(([&] {
                            char buffer[64];
                            const ssize_t got = ::read(b, buffer, sizeof buffer);
                            if (got > 0) received.append(buffer, static_cast<std::size_t>(got));
                            return received.size() >= frame.size();
                          }()),
                          5s);
  EXPECT_EQ(received, frame);
  ::close(a);
  ::close(b);
}

}  // namespace
}  // namespace plant::test
