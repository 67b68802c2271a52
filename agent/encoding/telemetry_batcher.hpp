#pragma once
/// Collects samples into one TelemetryBatch and seals it into an Envelope.
/// One batch per publish_interval, or sooner when it reaches max_batch samples.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/sample.hpp"

namespace plant::v1 {
class Envelope;
}

namespace plant::encoding {

/// Who the envelopes say they come from.
struct envelope_identity {
  std::string agent;
  std::string site;
};

class telemetry_batcher {
 public:
  explicit telemetry_batcher(envelope_identity identity);
  ~telemetry_batcher();
  telemetry_batcher(const telemetry_batcher&) = delete;
  telemetry_batcher& operator=(const telemetry_batcher&) = delete;

  /// Adds one sample read by `source_name`.
  void add(const sample& s, std::string_view source_name);
  /// An upper bound of what adding `s` would add to the encoded size.
  std::size_t cost_of(const sample& s, std::string_view source_name) const;
  /// An upper bound of the sealed message's size with what is waiting (2 bytes for a
  /// later replay marker included), so a batch can be sealed before it passes a limit.
  std::size_t bytes_bound() const { return bound_; }
  /// Samples waiting to be sealed.
  std::size_t size() const { return samples_; }
  bool empty() const { return samples_ == 0; }
  /// Serializes the waiting samples as an Envelope with `seq` and clears the batch.
  std::string seal(std::uint64_t seq, epoch_ms created_at);
  /// Like seal(), but only as many samples as fit in `max_bytes` (a later replay
  /// marker included; at least one sample): the rest stay waiting for the next
  /// seq. For a limit that fell after the samples came, as when a broker states
  /// a lower Maximum Packet Size on connect than mqtt.max_message_bytes.
  std::string seal_within(std::uint64_t seq, epoch_ms created_at, std::size_t max_bytes);
  /// Changes who the envelopes say they come from (a reload).
  void set_identity(envelope_identity identity) {
    identity_ = std::move(identity);
    if (samples_ == 0) bound_ = empty_bound();
  }

 private:
  std::uint32_t source_index(std::string_view source_name);
  std::size_t empty_bound() const;
  bool knows_source(std::string_view source_name) const;

  envelope_identity identity_;
  std::unique_ptr<v1::Envelope> envelope_;
  std::vector<std::string> source_names_;
  std::size_t samples_ = 0;
  std::size_t bound_ = 0;
  epoch_ms base_time_ = 0;
};

}  // namespace plant::encoding
