#pragma once
/// Sources -> batches -> outbox. Samples are batched into one telemetry message
/// per publish_interval, or sooner when a batch reaches max_batch samples.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "agent/encoding/telemetry_batcher.hpp"
#include "agent/sources/polled_source.hpp"
#include "agent/transport/outbox.hpp"

namespace plant::app {

class telemetry_pipeline final : public sources::sample_sink {
 public:
  telemetry_pipeline(boost::asio::io_context& io, transport::outbox& out, encoding::envelope_identity identity,
                     std::size_t max_batch, std::chrono::milliseconds publish_interval);
  ~telemetry_pipeline() override;

  void accept(std::vector<sample>& samples, const std::string& source_name) override;
  bool has_room() const override { return outbox_.has_room(); }
  void after_next_seal(std::function<void()> done) override { after_seal_.push_back(std::move(done)); }

  /// Starts the publish_interval timer.
  void start();
  /// Stops the timer and seals what is waiting.
  void stop();
  /// Seals the waiting samples into one message now (also at max_batch and on the timer).
  void seal_now();
  /// Sees every accepted sample before it is batched (the shortage detector).
  void set_observer(std::function<void(const sample&, const std::string&)> observer) { observer_ = std::move(observer); }
  void set_batching(std::size_t max_batch, std::chrono::milliseconds publish_interval);
  void set_identity(encoding::envelope_identity identity) { batcher_.set_identity(std::move(identity)); }

  std::uint64_t samples_in() const { return samples_in_; }

 private:
  void schedule();

  boost::asio::io_context& io_;
  transport::outbox& outbox_;
  encoding::telemetry_batcher batcher_;
  std::size_t max_batch_;
  std::chrono::milliseconds publish_interval_;
  loop_timer timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<std::function<void()>> after_seal_;
  std::function<void(const sample&, const std::string&)> observer_;
  std::uint64_t samples_in_ = 0;
  bool running_ = false;
};

}  // namespace plant::app
