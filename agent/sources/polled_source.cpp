#include "agent/sources/polled_source.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <unordered_map>

namespace plant::sources {

namespace {
// Unthrottled sources re-check for room this often while the pipeline is full.
constexpr auto unthrottled_wait = std::chrono::milliseconds(2);
}  // namespace

polled_source::polled_source(boost::asio::io_context& io, std::unique_ptr<source> wrapped,
                             const source_common& common, sample_sink& sink)
    : io_(io),
      source_(std::move(wrapped)),
      sink_(sink),
      log_(std::string(source_->kind()), source_->name()),
      timer_(io),
      backoff_(common.retry_min_delay, common.retry_max_delay, std::hash<std::string>{}(source_->name())) {
  stats_.name = source_->name();
  stats_.kind = std::string(source_->kind());
  report_defaults_ = common.report;
  // Off unless a key is set somewhere: the default costs nothing per sample.
  filtering_ = report_defaults_.filters() || source_->has_point_report_rules();
}

polled_source::~polled_source() { stop(); }

void polled_source::start() {
  stopped_ = false;
  if (source_->blocking() && !worker_.joinable()) {
    worker_stop_ = false;
    worker_ = std::thread([this] { worker_loop(); });
  }
  timer_.expires_after(std::chrono::milliseconds(0));
  std::weak_ptr<bool> alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (alive.lock()) on_tick(ec);
  });
}

void polled_source::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(worker_mutex_);
      worker_stop_ = true;
    }
    worker_cv_.notify_one();
    // A blocking poll finishes within the source's own deadline.
    worker_.join();
  }
  alive_ = std::make_shared<bool>(true);  // results still queued on the loop are now ignored
}

source_stats polled_source::stats() const {
  source_stats copy = stats_;
  copy.reconnects = source_->reconnects();
  return copy;
}

void polled_source::schedule_next() {
  if (stopped_) return;
  auto interval = source_->interval();
  std::weak_ptr<bool> alive = alive_;
  auto handler = [this, alive](const boost::system::error_code& ec) {
    if (alive.lock()) on_tick(ec);
  };
  if (interval.count() <= 0 || reading_more_) {
    if (sink_.has_room()) {
      timer_.expires_after(std::chrono::milliseconds(0));
    } else {
      timer_.expires_after(unthrottled_wait);
    }
    timer_.async_wait(handler);
    return;
  }
  // Drift-free: the next tick is one interval after the previous one was due,
  // not after this one finished. Ticks that are already past are skipped, not
  // run back to back.
  auto next = timer_.expiry() + interval;
  auto now = steady_now();
  if (next <= now) {
    auto behind = (now - next) / interval + 1;
    stats_.skipped_ticks += static_cast<std::uint64_t>(behind);
    next += interval * behind;
    if (!overrun_logged_) {
      overrun_logged_ = true;
      log_.warn("poll overran its interval of " + std::to_string(interval.count()) +
                " ms; skipping missed ticks (logged once, counted in skipped_ticks)");
    }
  }
  timer_.expires_at(next);
  timer_.async_wait(handler);
}

void polled_source::on_tick(const boost::system::error_code& ec) {
  if (ec || stopped_) return;
  auto interval = source_->interval();
  if ((interval.count() <= 0 || reading_more_) && !sink_.has_room()) {
    schedule_next();
    return;
  }
  epoch_ms now = wall_clock_ms();
  if (failing_ && steady_now() < retry_at_) {
    // Backing off a failing device: its points stay visible, marked stale.
    republish_stale(now);
    schedule_next();
    return;
  }
  if (source_->blocking()) {
    if (poll_running_) {
      ++stats_.skipped_ticks;
      if (!overrun_logged_) {
        overrun_logged_ = true;
        log_.warn("poll still running at the next tick; skipping ticks until it returns (logged once)");
      }
    } else {
      poll_running_ = true;
      {
        std::lock_guard<std::mutex> lock(worker_mutex_);
        worker_has_request_ = true;
        worker_request_time_ = now;
      }
      worker_cv_.notify_one();
    }
  } else {
    poll_inline();
  }
  schedule_next();
}

void polled_source::poll_inline() {
  epoch_ms now = wall_clock_ms();
  handle_result(source_->poll(now), now);
}

void polled_source::worker_loop() {
  for (;;) {
    epoch_ms when = 0;
    {
      std::unique_lock<std::mutex> lock(worker_mutex_);
      worker_cv_.wait(lock, [this] { return worker_has_request_ || worker_stop_; });
      if (worker_stop_) return;
      worker_has_request_ = false;
      when = worker_request_time_;
    }
    auto result = std::make_shared<poll_result>(source_->poll(when));
    std::weak_ptr<bool> alive = alive_;
    boost::asio::post(io_, [this, alive, result, when] {
      if (!alive.lock()) return;
      poll_running_ = false;
      handle_result(std::move(*result), when);
    });
  }
}

void polled_source::handle_result(poll_result result, epoch_ms polled_at) {
  if (stopped_) return;
  ++stats_.polls;
  for (const auto& reject : result.rejects) {
    ++stats_.rejected;
    // Keyed by the reason after the location, so one bad column in a large
    // file is a line a minute, while different problems are each shown.
    auto colon = reject.find(": ");
    log_.limited(log::level::warn, colon == std::string::npos ? reject : reject.substr(colon), reject);
  }
  bool partial = result.error && std::any_of(result.samples.begin(), result.samples.end(),
                                              [](const sample& s) { return s.q == quality::good; });
  if (partial) {
    // Some reads failed (a Modbus exception for one block) while others
    // worked: the device answers, so no backoff and no stale copies; the
    // failed points already carry quality bad.
    ++stats_.errors;
    stats_.last_error = *result.error;
    log_.limited(log::level::warn, *result.error, *result.error);
  } else if (result.error) {
    ++stats_.errors;
    stats_.healthy = false;
    stats_.last_error = *result.error;
    failing_ = true;
    auto delay = backoff_.next();
    retry_at_ = steady_now() + delay;
    log_.limited(log::level::error, *result.error,
                 *result.error + "; retrying in " + std::to_string(delay.count()) + " ms");
    republish_stale(polled_at);
  } else {
    if (failing_) log_.info("recovered after " + std::to_string(backoff_.attempts()) + " failed polls");
    failing_ = false;
    stats_.healthy = true;
    backoff_.reset();
  }
  for (const auto& snapshot : result.supplies) {
    ++stats_.supply_snapshots;
    sink_.accept_supply(snapshot, source_->name());
  }
  if (!result.samples.empty()) {
    stats_.samples += result.samples.size();
    if (source_->reports_current_values()) {
      // Keep the last reading of each point for stale marking. Indexing by name
      // costs a little per poll; polls carry at most one value per point per tick.
      std::unordered_map<std::string, std::size_t> index;
      index.reserve(last_values_.size());
      for (std::size_t i = 0; i < last_values_.size(); ++i) index.emplace(last_values_[i].name, i);
      for (const auto& s : result.samples) {
        if (s.q != quality::good) continue;
        auto found = index.find(s.name);
        if (found == index.end()) {
          index.emplace(s.name, last_values_.size());
          last_values_.push_back(s);
        } else {
          last_values_[found->second] = s;
        }
      }
    }
    hand_on(result.samples, polled_at);
  }
  if (result.settle_token != 0) {
    std::weak_ptr<bool> alive = alive_;
    const std::uint64_t token = result.settle_token;
    sink_.when_accepted_is_safe([this, alive, token](bool safe) {
      if (alive.lock()) source_->settle(token, safe);
    });
  }
  // A source with more ready (the next chunk of a big file) is polled again at
  // once, as fast as the pipeline has room, instead of after a whole interval.
  reading_more_ = result.more && !source_->blocking();
}

void polled_source::republish_stale(epoch_ms now) {
  if (!source_->reports_current_values()) return;
  if (last_values_.empty()) {
    // Never answered: every configured point still shows, as bad without a value.
    std::vector<sample> missing = source_->configured_points(now);
    if (!missing.empty()) hand_on(missing, now);
    return;
  }
  std::vector<sample> stale = last_values_;
  for (auto& s : stale) {
    s.q = quality::stale;
    s.receive_time = now;  // source_time stays: the value is from then
  }
  hand_on(stale, now);
}

void polled_source::hand_on(std::vector<sample>& samples, epoch_ms now) {
  if (filtering_) {
    const auto find_rule = [this](const sample& s) { return source_->report_rule(s).over(report_defaults_); };
    for (auto& s : samples) {
      s.publish = exception_filter_.should_report(s, now, find_rule);
      if (!s.publish) ++stats_.unreported;
    }
    if (exception_filter_.untracked() > 0 && !untracked_logged_) {
      untracked_logged_ = true;
      log_.warn("report by exception keeps the last report of " + std::to_string(exception_filter_.points()) +
                " points; samples of further points are published unfiltered (logged once)");
    }
  }
  sink_.accept(samples, source_->name());
}

}  // namespace plant::sources
