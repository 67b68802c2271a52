#include "agent/app/telemetry_pipeline.hpp"

#include <algorithm>

namespace plant::app {

namespace {
// A resend appends the two-byte replay marker (encoding::mark_replayed).
constexpr std::size_t replay_marker_bytes = 2;
}  // namespace

telemetry_pipeline::telemetry_pipeline(boost::asio::io_context& io, transport::outbox& out,
                                       encoding::envelope_identity identity, batching limits)
    : io_(io), outbox_(out), batcher_(std::move(identity)), timer_(io) {
  set_batching(limits);
}

telemetry_pipeline::~telemetry_pipeline() { alive_.reset(); }

void telemetry_pipeline::set_batching(batching limits) {
  limits_ = limits;
  limits_.max_batch = std::max<std::size_t>(1, limits_.max_batch);
}

void telemetry_pipeline::accept(std::vector<sample>& samples, const std::string& source_name) {
  samples_in_ += samples.size();
  // The outbox knows the broker's limit too (MQTT 5 Maximum Packet Size), which may be lower.
  const std::size_t byte_limit = message_byte_limit();
  bool added = false;
  for (const auto& s : samples) {
    if (observer_) observer_(s, source_name);
    if (!s.publish) continue;  // held back by report by exception: the detector has seen it
    added = true;
    if (!batcher_.empty() && batcher_.bytes_bound() + batcher_.cost_of(s, source_name) > byte_limit) seal_batch();
    batcher_.add(s, source_name);
    if (batcher_.size() >= limits_.max_batch) seal_batch();
  }
  if (added) arm_timer();
}

std::size_t telemetry_pipeline::message_byte_limit() const {
  const std::size_t limit = std::min(limits_.max_message_bytes, outbox_.max_message_bytes());
  return limit > replay_marker_bytes + 1 ? limit - replay_marker_bytes : 1;
}

void telemetry_pipeline::seal_batch() {
  // The limit may have fallen since these samples came (a broker stating a lower
  // Maximum Packet Size on connect): what no longer fits goes into the next seqs
  // rather than into one message the outbox would have to drop.
  const std::size_t byte_limit = message_byte_limit();
  const epoch_ms now = wall_clock_ms();
  while (!batcher_.empty()) {
    const transport::seal_result sealed = outbox_.seal(
        encoding::stream::telemetry,
        [&](std::uint64_t seq) { return batcher_.seal_within(seq, now, byte_limit + replay_marker_bytes); }, now);
    if (first_unsettled_seq_ == 0) first_unsettled_seq_ = sealed.seq;
    last_sealed_seq_ = sealed.seq;
  }
}

void telemetry_pipeline::when_accepted_is_safe(std::function<void(bool)> done) {
  if (batcher_.empty() && first_unsettled_seq_ == 0) {
    // Nothing was accepted since the last seal_now, which already handed its own waiters over.
    done(true);
    return;
  }
  waiting_.push_back(std::move(done));
  arm_timer();
}

void telemetry_pipeline::seal_now() {
  seal_batch();
  // Everything accepted before this point is sealed now, into the messages
  // first_unsettled_seq_ .. last_sealed_seq_: whoever waits learns when they are safe.
  auto waiting = std::move(waiting_);
  waiting_.clear();
  if (first_unsettled_seq_ == 0) {
    for (auto& done : waiting) done(true);  // nothing was accepted since the last boundary
    return;
  }
  for (auto& done : waiting) outbox_.when_safe(first_unsettled_seq_, last_sealed_seq_, std::move(done));
  first_unsettled_seq_ = 0;
}

void telemetry_pipeline::start() {
  running_ = true;
  if (!batcher_.empty() || !waiting_.empty()) arm_timer();
}

void telemetry_pipeline::arm_timer() {
  // Armed by the first sample after a seal, not ticking on its own: an idle agent
  // does not wake every publish_interval. A sample waits at most publish_interval.
  if (!running_ || timer_armed_) return;
  timer_armed_ = true;
  timer_.expires_after(limits_.publish_interval);
  std::weak_ptr<bool> alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    timer_armed_ = false;
    if (running_) seal_now();
  });
}

void telemetry_pipeline::stop() {
  running_ = false;
  timer_armed_ = false;
  timer_.cancel();
  seal_now();
}

}  // namespace plant::app
