#include "watch/app/message_processor.hpp"

#include "common/core/text.hpp"
#include "common/wire/envelope_decode.hpp"
#include "common/wire/envelope_json.hpp"

namespace plant::watch {

using namespace plant::wire;

namespace {

constexpr std::size_t arena_block_bytes = 1u << 20;  // holds a decoded 30 KB batch with room to spare

google::protobuf::ArenaOptions arena_options(std::vector<char>& block) {
  google::protobuf::ArenaOptions options;
  options.initial_block = block.data();
  options.initial_block_size = block.size();
  return options;
}

}  // namespace

message_processor::message_processor(processor_settings settings)
    : settings_(settings), arena_block_(arena_block_bytes), arena_(arena_options(arena_block_)) {}

void message_processor::handle(const received_message& message, std::string& out, std::string& err) {
  ++received_;
  ++board_.messages;
  // An empty retained payload is how MQTT deletes a retained message; it is
  // housekeeping, not a broken message.
  if (message.payload.empty()) {
    ++empty_;
    return;
  }
  // Reset keeps the caller-provided first block, so a steady stream of
  // batches decodes without touching the heap.
  arena_.Reset();
  auto* envelope = google::protobuf::Arena::CreateMessage<plant::v1::Envelope>(&arena_);
  // What one message may cost is bounded before it is decoded: a forged payload of
  // empty repeated elements would cost ~50 times its size in memory.
  if (!affordable(message.payload, settings_.limits, reason_) || !decode_envelope(message.payload, *envelope, reason_)) {
    ++undecodable_;
    ++board_.undecodable;
    if (undecodable_ <= settings_.max_error_reports) {
      err += "plant-watch: cannot decode message on " + quoted_excerpt(message.topic, 120) + " (" +
             std::to_string(message.payload.size()) + " bytes): " + reason_ + "\n";
      if (undecodable_ == settings_.max_error_reports) {
        err += "plant-watch: further undecodable messages are counted, not reported\n";
      }
    }
    return;
  }
  resolve_origin(*envelope, message.topic, site_, agent_);
  if (settings_.json) {
    json_.clear();
    write_envelope_json(json_, message.topic, message.retained, *envelope, message.received_at_us / 1000);
    out += json_.text();
    out += '\n';
  }
  if (settings_.audit) {
    audit_.record(site_, agent_, *envelope, message.retained, message.received_at_us, message.payload.size());
  }
  if (settings_.board) {
    apply_envelope(board_, site_, agent_, *envelope, message.retained, message.received_at_us / 1000);
  }
}

}  // namespace plant::watch
