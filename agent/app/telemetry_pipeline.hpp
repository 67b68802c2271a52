#pragma once
/// Sources -> batches -> outbox. A sample waits at most publish_interval before
/// its batch is sealed, or less when the batch reaches max_batch samples or
/// would pass mqtt.max_message_bytes (a broker drops larger messages while
/// acknowledging them). A source that consumes its input learns when what it
/// gave is safe: on disk or acknowledged.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "agent/encoding/telemetry_batcher.hpp"
#include "agent/sources/polled_source.hpp"
#include "agent/transport/outbox.hpp"
#include "common/core/clock.hpp"

namespace plant::app {

/// How samples are cut into messages.
struct batching {
  std::size_t max_batch = 1000;                        ///< samples per message
  std::chrono::milliseconds publish_interval{1000};    ///< longest a sample waits
  std::size_t max_message_bytes = 256u << 10;          ///< no sealed message is larger
};

class telemetry_pipeline final : public sources::sample_sink {
 public:
  telemetry_pipeline(boost::asio::io_context& io, transport::outbox& out, encoding::envelope_identity identity,
                     batching limits);
  ~telemetry_pipeline() override;

  void accept(std::vector<sample>& samples, const std::string& source_name) override;
  void accept_supply(const sources::supply_snapshot& snapshot, const std::string& source_name) override {
    if (supply_observer_) supply_observer_(snapshot, source_name);
  }
  bool has_room() const override { return outbox_.has_room(); }
  /// done(true) once everything accepted so far is safe; done(false) if any of it was dropped.
  void when_accepted_is_safe(std::function<void(bool safe)> done) override;

  /// Starts the publish_interval timer.
  void start();
  /// Stops the timer and seals what is waiting.
  void stop();
  /// Seals the waiting samples now (also at max_batch, at the size limit and on the timer).
  void seal_now();
  /// Sees every accepted sample before it is batched (the shortage detector).
  void set_observer(std::function<void(const sample&, const std::string&)> observer) { observer_ = std::move(observer); }
  /// Sees every receipts and demand snapshot (the shortage detector).
  void set_supply_observer(std::function<void(const sources::supply_snapshot&, const std::string&)> observer) {
    supply_observer_ = std::move(observer);
  }
  /// New limits after a reload.
  void set_batching(batching limits);

  std::uint64_t samples_in() const { return samples_in_; }

 private:
  void seal_batch();
  /// The largest sealed telemetry payload, leaving room for a later replay marker.
  std::size_t message_byte_limit() const;
  void arm_timer();

  boost::asio::io_context& io_;
  transport::outbox& outbox_;
  encoding::telemetry_batcher batcher_;
  batching limits_;
  loop_timer timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<std::function<void(bool)>> waiting_;   ///< to hand to the outbox at the next seal_now
  std::uint64_t first_unsettled_seq_ = 0;            ///< lowest seq sealed since the last seal_now; 0 if none
  std::uint64_t last_sealed_seq_ = 0;
  std::function<void(const sample&, const std::string&)> observer_;
  std::function<void(const sources::supply_snapshot&, const std::string&)> supply_observer_;
  std::uint64_t samples_in_ = 0;
  bool running_ = false;
  bool timer_armed_ = false;
};

}  // namespace plant::app
