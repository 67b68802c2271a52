// The core every source runs in, on a manual clock: when it polls, what it does
// when a poll overruns or fails, and what it republishes meanwhile.
#include "agent/sources/polled_source.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <deque>

namespace plant::sources {
namespace {

using namespace std::chrono_literals;

/// A source that plays back scripted results and notes when it was polled.
class scripted_source final : public source {
 public:
  explicit scripted_source(std::chrono::milliseconds interval) : interval_(interval) {}
  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "scripted"; }
  std::chrono::milliseconds interval() const override { return interval_; }
  bool reports_current_values() const override { return current_values; }
  poll_result poll(epoch_ms now) override {
    polled_at.push_back(now);
    if (during_poll) during_poll();
    if (script.empty()) return {};
    poll_result r = std::move(script.front());
    script.pop_front();
    return r;
  }
  std::vector<sample> configured_points(epoch_ms now) const override {
    sample s = stock("silo-1", 0.0, now);
    s.q = quality::bad;
    return {s};
  }
  void settle(std::uint64_t token, bool safe) override { settled.emplace_back(token, safe); }

  static sample stock(const std::string& name, double quantity, epoch_ms at) {
    sample s;
    s.kind = sample::kind_t::stock;
    s.name = name;
    s.quantity = quantity;
    s.source_time = at;
    s.receive_time = at;
    return s;
  }

  std::deque<poll_result> script;
  std::vector<epoch_ms> polled_at;
  std::vector<std::pair<std::uint64_t, bool>> settled;
  std::function<void()> during_poll;
  bool current_values = true;

 private:
  std::string name_ = "plc";
  std::chrono::milliseconds interval_;
};

class recording_sink final : public sample_sink {
 public:
  void accept(std::vector<sample>& samples, const std::string&) override { batches.push_back(samples); }
  bool has_room() const override { return room; }
  void when_accepted_is_safe(std::function<void(bool)> done) override { waiting.push_back(std::move(done)); }

  std::vector<std::vector<sample>> batches;
  std::vector<std::function<void(bool)>> waiting;
  bool room = true;
};

class polled_source_test : public ::testing::Test {
 protected:
  polled_source_test() : use_(clock_) {}

  /// Wraps `src` with retries of exactly `retry` (min = max: no jitter to reason about).
  std::unique_ptr<polled_source> wrap(std::unique_ptr<scripted_source> src, std::chrono::milliseconds retry = 1000ms,
                                      report_policy report = {}) {
    source_ = src.get();
    source_common common;
    common.retry_min_delay = retry;
    common.retry_max_delay = retry;
    common.report = report;
    return std::make_unique<polled_source>(io_, std::move(src), common, sink_);
  }
  void advance(std::chrono::milliseconds d) {
    clock_.advance(d);
    io_.poll();
    io_.restart();
  }
  std::size_t polls() const { return source_->polled_at.size(); }

  manual_clock clock_;
  scoped_clock use_;
  boost::asio::io_context io_;
  recording_sink sink_;
  scripted_source* source_ = nullptr;
};

TEST_F(polled_source_test, ticks_are_one_interval_apart_from_when_they_were_due_not_from_when_they_ran) {
  auto src = std::make_unique<scripted_source>(1000ms);
  // Each poll takes 300 ms of (manual) time: a drifting timer would poll at 0, 1300, 2600.
  src->during_poll = [this] { clock_.advance(300ms); };
  auto polled = wrap(std::move(src));
  const epoch_ms t0 = clock_.wall_now();
  polled->start();
  advance(0ms);
  ASSERT_EQ(polls(), 1u);
  advance(699ms);
  EXPECT_EQ(polls(), 1u) << "polled before the interval was up";
  advance(1ms);
  ASSERT_EQ(polls(), 2u);  // now t0 + 1300, after the poll's own 300 ms
  advance(699ms);
  EXPECT_EQ(polls(), 2u);
  advance(1ms);
  ASSERT_EQ(polls(), 3u);
  EXPECT_EQ(source_->polled_at[1] - t0, 1000);
  EXPECT_EQ(source_->polled_at[2] - t0, 2000);
  EXPECT_EQ(polled->stats().skipped_ticks, 0u);
}

TEST_F(polled_source_test, a_poll_that_overruns_skips_the_missed_ticks_instead_of_running_them_back_to_back) {
  auto src = std::make_unique<scripted_source>(1000ms);
  bool slow = true;
  src->during_poll = [this, &slow] {
    if (slow) clock_.advance(2500ms);
    slow = false;
  };
  auto polled = wrap(std::move(src));
  const epoch_ms t0 = clock_.wall_now();
  polled->start();
  advance(0ms);  // the first poll runs until t0 + 2500
  ASSERT_EQ(polls(), 1u);
  EXPECT_EQ(polled->stats().skipped_ticks, 2u) << "the ticks due at +1000 and +2000";
  advance(499ms);
  EXPECT_EQ(polls(), 1u);
  advance(1ms);
  ASSERT_EQ(polls(), 2u);
  EXPECT_EQ(source_->polled_at[1] - t0, 3000) << "back on the original grid";
}

TEST_F(polled_source_test, a_failing_source_backs_off_and_its_last_values_are_republished_stale) {
  auto src = std::make_unique<scripted_source>(500ms);
  const epoch_ms t0 = clock_.wall_now();
  poll_result good;
  good.samples = {scripted_source::stock("silo-1", 42.0, t0)};
  poll_result failed;
  failed.error = "connection refused";
  src->script = {good, failed, failed, good};
  auto polled = wrap(std::move(src), 2000ms);
  polled->start();
  advance(0ms);
  ASSERT_EQ(sink_.batches.size(), 1u);
  advance(500ms);  // fails: the last value goes out again, stale
  ASSERT_EQ(polls(), 2u);
  EXPECT_FALSE(polled->stats().healthy);
  EXPECT_EQ(polled->stats().last_error, "connection refused");
  ASSERT_EQ(sink_.batches.size(), 2u);
  const sample& stale = sink_.batches[1].at(0);
  EXPECT_EQ(stale.q, quality::stale);
  EXPECT_DOUBLE_EQ(stale.quantity, 42.0);
  EXPECT_EQ(stale.source_time, t0) << "the value is from when it was read";
  EXPECT_EQ(stale.receive_time, t0 + 500);
  // Backing off for 2 s: ticks republish without polling.
  advance(500ms);
  advance(500ms);
  advance(500ms);
  EXPECT_EQ(polls(), 2u) << "polled while backing off";
  EXPECT_EQ(sink_.batches.size(), 5u);
  advance(500ms);  // t0 + 2500: the retry, which fails again
  EXPECT_EQ(polls(), 3u);
  // The second failure doubles nothing here (min = max); the retry comes 2 s later and works.
  for (int i = 0; i < 4; ++i) advance(500ms);
  EXPECT_EQ(polls(), 4u);
  EXPECT_TRUE(polled->stats().healthy);
  EXPECT_EQ(polled->stats().errors, 2u);
}

TEST_F(polled_source_test, a_source_that_never_answered_shows_its_configured_points_as_bad) {
  auto src = std::make_unique<scripted_source>(1000ms);
  poll_result failed;
  failed.error = "timeout";
  src->script = {failed};
  auto polled = wrap(std::move(src));
  polled->start();
  advance(0ms);
  ASSERT_EQ(sink_.batches.size(), 1u);
  ASSERT_EQ(sink_.batches[0].size(), 1u);
  EXPECT_EQ(sink_.batches[0][0].name, "silo-1");
  EXPECT_EQ(sink_.batches[0][0].q, quality::bad);
}

TEST_F(polled_source_test, report_by_exception_marks_what_it_holds_back_and_the_sink_still_sees_every_sample) {
  auto src = std::make_unique<scripted_source>(1000ms);
  const epoch_ms t0 = clock_.wall_now();
  for (double quantity : {10.0, 10.2, 11.0}) {
    poll_result r;
    r.samples = {scripted_source::stock("silo-1", quantity, t0)};
    src->script.push_back(r);
  }
  poll_result failed;
  failed.error = "timeout";
  src->script.push_back(failed);
  report_policy report;
  report.deadband = 0.5;
  auto polled = wrap(std::move(src), 10000ms, report);
  polled->start();
  advance(0ms);
  for (int i = 0; i < 5; ++i) advance(1000ms);
  // 10 published, 10.2 held, 11 published; then the device fails: the first stale copy is a
  // quality change and published, the next ones (same value, same quality) are held.
  std::vector<std::pair<quality, bool>> seen;
  for (const auto& batch : sink_.batches)
    for (const auto& s : batch) seen.emplace_back(s.q, s.publish);
  ASSERT_GE(seen.size(), 5u);
  EXPECT_EQ(seen[0], std::make_pair(quality::good, true));
  EXPECT_EQ(seen[1], std::make_pair(quality::good, false));
  EXPECT_EQ(seen[2], std::make_pair(quality::good, true));
  EXPECT_EQ(seen[3], std::make_pair(quality::stale, true));
  for (std::size_t i = 4; i < seen.size(); ++i) EXPECT_EQ(seen[i], std::make_pair(quality::stale, false)) << i;
  EXPECT_EQ(polled->stats().unreported, seen.size() - 3);
}

TEST_F(polled_source_test, without_report_keys_every_sample_is_published) {
  auto src = std::make_unique<scripted_source>(1000ms);
  const epoch_ms t0 = clock_.wall_now();
  for (int i = 0; i < 3; ++i) {
    poll_result r;
    r.samples = {scripted_source::stock("silo-1", 10.0, t0)};
    src->script.push_back(r);
  }
  auto polled = wrap(std::move(src));
  polled->start();
  advance(0ms);
  advance(1000ms);
  advance(1000ms);
  ASSERT_EQ(sink_.batches.size(), 3u);
  for (const auto& batch : sink_.batches) EXPECT_TRUE(batch.at(0).publish);
  EXPECT_EQ(polled->stats().unreported, 0u);
}

TEST_F(polled_source_test, more_is_polled_at_once_while_the_pipeline_has_room_and_settles_reach_the_source) {
  auto src = std::make_unique<scripted_source>(60000ms);
  src->current_values = false;
  const epoch_ms t0 = clock_.wall_now();
  for (std::uint64_t token = 1; token <= 3; ++token) {
    poll_result chunk;
    chunk.samples = {scripted_source::stock("m" + std::to_string(token), 1.0, t0)};
    chunk.settle_token = token;
    chunk.more = token < 3;
    src->script.push_back(chunk);
  }
  auto polled = wrap(std::move(src));
  sink_.room = false;
  polled->start();
  advance(0ms);
  EXPECT_EQ(polls(), 1u);
  advance(10ms);
  EXPECT_EQ(polls(), 1u) << "read on while the pipeline had no room";
  sink_.room = true;
  advance(2ms);
  advance(0ms);
  EXPECT_EQ(polls(), 3u) << "the rest of the file waited a whole interval";
  ASSERT_EQ(sink_.waiting.size(), 3u);
  sink_.waiting[1](false);
  sink_.waiting[0](true);
  EXPECT_EQ(source_->settled, (std::vector<std::pair<std::uint64_t, bool>>{{2, false}, {1, true}}));
  // Then the interval applies again.
  advance(59000ms);
  EXPECT_EQ(polls(), 3u);
}

}  // namespace
}  // namespace plant::sources
