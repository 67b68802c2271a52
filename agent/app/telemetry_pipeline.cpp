#include "agent/app/telemetry_pipeline.hpp"

namespace plant::app {

telemetry_pipeline::telemetry_pipeline(boost::asio::io_context& io, transport::outbox& out,
                                       encoding::envelope_identity identity, std::size_t max_batch,
                                       std::chrono::milliseconds publish_interval)
    : io_(io),
      outbox_(out),
      batcher_(std::move(identity)),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      publish_interval_(publish_interval),
      timer_(io) {}

telemetry_pipeline::~telemetry_pipeline() { alive_.reset(); }

void telemetry_pipeline::accept(std::vector<sample>& samples, const std::string& source_name) {
  samples_in_ += samples.size();
  for (const auto& s : samples) {
    if (observer_) observer_(s, source_name);
    batcher_.add(s, source_name);
    if (batcher_.size() >= max_batch_) seal_now();
  }
}

void telemetry_pipeline::seal_now() {
  if (!batcher_.empty()) {
    auto now = wall_clock_ms();
    std::string payload = batcher_.seal(outbox_.next_seq(), now);
    outbox_.submit(encoding::stream::telemetry, std::move(payload), now);
  }
  // Everything accepted before this point is now in the spool (or given to the
  // outbox when there is none): sources that consume their input may let go.
  auto done = std::move(after_seal_);
  after_seal_.clear();
  for (auto& callback : done) callback();
}

void telemetry_pipeline::start() {
  running_ = true;
  timer_.expires_after(publish_interval_);
  schedule();
}

void telemetry_pipeline::schedule() {
  std::weak_ptr<bool> alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !alive.lock() || !running_) return;
    seal_now();
    // Drift-free period; after a long stall, continue from now rather than firing a burst.
    auto next = timer_.expiry() + publish_interval_;
    if (next < steady_now()) next = steady_now() + publish_interval_;
    timer_.expires_at(next);
    schedule();
  });
}

void telemetry_pipeline::stop() {
  running_ = false;
  timer_.cancel();
  seal_now();
}

void telemetry_pipeline::set_batching(std::size_t max_batch, std::chrono::milliseconds publish_interval) {
  max_batch_ = std::max<std::size_t>(1, max_batch);
  publish_interval_ = publish_interval;
}

}  // namespace plant::app
