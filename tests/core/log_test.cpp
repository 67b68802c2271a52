#include "common/core/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

namespace plant::log {
namespace {

// Captures what the logger writes to stderr.
class stderr_capture {
 public:
  stderr_capture() {
    std::fflush(stderr);
    saved_ = ::dup(2);
    file_ = std::tmpfile();
    ::dup2(::fileno(file_), 2);
  }
  ~stderr_capture() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    std::fclose(file_);
  }
  std::string text() {
    std::fflush(stderr);
    std::rewind(file_);
    std::string out;
    char buffer[512];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0) out.append(buffer, n);
    return out;
  }

 private:
  int saved_;
  std::FILE* file_;
};

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(log, one_line_per_event_with_component_and_instance) {
  stderr_capture capture;
  logger log("modbus", "press-3");
  log.warn("read holding 0..11:\nConnection timed out");
  std::string text = capture.text();
  EXPECT_NE(text.find("warn [modbus:press-3] read holding 0..11:\\nConnection timed out\n"), std::string::npos)
      << text;
  EXPECT_EQ(count(text, "\n"), 1u) << "an embedded newline must not split the event";
}

// D19: a 1 MiB CSV header made a 1 MiB log line, and NUL bytes reached the log raw.
TEST(log, messages_are_escaped_and_cut_to_a_bounded_length) {
  stderr_capture capture;
  logger log("csv", "wms");
  log.warn(std::string("a\0b\x1b[2Jc", 8) + std::string(1u << 20, 'x'));
  const std::string text = capture.text();
  EXPECT_NE(text.find("] a\\x00b\\x1B[2Jc"), std::string::npos) << text.substr(0, 200);
  EXPECT_EQ(text.find('\0'), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_LT(text.size(), max_message_bytes + 200);
  EXPECT_NE(text.find("...\n"), std::string::npos);
}

TEST(log, repeats_are_rate_limited_and_the_next_line_says_how_many_were_suppressed) {
  stderr_capture capture;
  logger log("mqtt", "gw");
  log.set_window(std::chrono::milliseconds(200));
  auto before = suppressed_total();
  for (int i = 0; i < 50; ++i) log.limited(level::warn, "refused", "cannot reach broker");
  EXPECT_EQ(count(capture.text(), "cannot reach broker"), 1u);
  EXPECT_EQ(suppressed_total() - before, 49u);
  log.limited(level::warn, "other", "a different problem");
  EXPECT_EQ(count(capture.text(), "a different problem"), 1u) << "different problems are each shown";
  ::usleep(250 * 1000);  // past the rate-limit window (time is the thing under test here)
  log.limited(level::warn, "refused", "cannot reach broker");
  EXPECT_NE(capture.text().find("cannot reach broker (49 similar messages suppressed)"), std::string::npos)
      << capture.text();
}

TEST(log, lines_below_the_level_are_not_printed) {
  stderr_capture capture;
  set_level(level::warn);
  logger log("agent");
  log.info("not shown");
  log.error("shown");
  set_level(level::info);
  std::string text = capture.text();
  EXPECT_EQ(text.find("not shown"), std::string::npos);
  EXPECT_NE(text.find("error [agent] shown"), std::string::npos) << text;
}

}  // namespace
}  // namespace plant::log
