#include "agent/encoding/telemetry_batcher.hpp"

#include <vector>

#include <google/protobuf/io/coded_stream.h>

#include "plant/v1/plant.pb.h"

namespace plant::encoding {

namespace {

// Upper bounds of protobuf's encoding, so a batch can be cut before it passes
// mqtt.max_message_bytes without serializing to find out: a tag is one byte for
// every field here (numbers < 16), a varint at most 10, a length prefix at most 5.
constexpr std::size_t tag = 1, varint = 10, length = 5, fixed64 = 8;
std::size_t string_field(std::size_t size) { return tag + length + size; }
// What mark_replayed appends to a resend.
constexpr std::size_t replay_marker = 2;

// Exactly what one element of a repeated message field adds to its parent: its
// tag, its length prefix and its body. (Over-counting here would under-count
// what stays, and a cut batch could pass the limit.)
template <typename Message>
std::size_t element_bytes(const Message& m) {
  const std::size_t body = m.ByteSizeLong();
  return tag + google::protobuf::io::CodedOutputStream::VarintSize64(body) + body;
}

// Moves the last `count` elements of `from` to the end of `to`, keeping their order.
template <typename Field>
void move_tail(Field& from, Field& to, int count) {
  std::vector<typename Field::value_type*> tail;
  tail.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) tail.push_back(from.ReleaseLast());
  for (auto it = tail.rbegin(); it != tail.rend(); ++it) to.AddAllocated(*it);
}

}  // namespace

telemetry_batcher::telemetry_batcher(envelope_identity identity)
    : identity_(std::move(identity)), envelope_(std::make_unique<v1::Envelope>()) {
  bound_ = empty_bound();
}

std::size_t telemetry_batcher::empty_bound() const {
  // Envelope: agent, site, seq, replayed (the marker a resend appends), created_at,
  // and the telemetry field's own framing with its base_time.
  return string_field(identity_.agent.size()) + string_field(identity_.site.size()) + (tag + varint) + (tag + 1) +
         (tag + varint) + (tag + length) + (tag + varint);
}

bool telemetry_batcher::knows_source(std::string_view source_name) const {
  for (const auto& name : source_names_)
    if (name == source_name) return true;
  return false;
}

std::size_t telemetry_batcher::cost_of(const sample& s, std::string_view source_name) const {
  std::size_t cost = tag + length;  // the repeated element's framing
  cost += string_field(s.name.size());
  cost += 4 * (tag + varint);       // times, quality, source index (and for lines: state)
  if (s.kind == sample::kind_t::line) {
    cost += 3 * (tag + varint) + (tag + fixed64);  // counts, state; good_rate
  } else {
    cost += (tag + fixed64) + string_field(s.unit.size()) + string_field(s.location.size());
  }
  if (!knows_source(source_name)) cost += string_field(source_name.size());
  return cost;
}

telemetry_batcher::~telemetry_batcher() = default;

std::uint32_t telemetry_batcher::source_index(std::string_view source_name) {
  // A batch references few sources; a linear scan beats hashing here.
  for (std::size_t i = 0; i < source_names_.size(); ++i) {
    if (source_names_[i] == source_name) return static_cast<std::uint32_t>(i);
  }
  source_names_.emplace_back(source_name);
  envelope_->mutable_telemetry()->add_sources(std::string(source_name));
  return static_cast<std::uint32_t>(source_names_.size() - 1);
}

void telemetry_batcher::add(const sample& s, std::string_view source_name) {
  auto* batch = envelope_->mutable_telemetry();
  if (samples_ == 0) {
    // Times in the batch are deltas from the first sample's receive time, so
    // most cost one to three bytes.
    base_time_ = s.receive_time;
    batch->set_base_time(base_time_);
  }
  bound_ += cost_of(s, source_name);
  std::uint32_t source = source_index(source_name);
  if (s.kind == sample::kind_t::line) {
    auto* line = batch->add_lines();
    line->set_line(s.name);
    line->set_state(static_cast<v1::LineState>(s.state));
    line->set_good_count(s.good_count);
    line->set_reject_count(s.reject_count);
    line->set_source_time(s.source_time - base_time_);
    line->set_receive_time(s.receive_time - base_time_);
    line->set_quality(static_cast<v1::Quality>(s.q));
    line->set_source(source);
    line->set_good_rate(s.good_rate);
  } else {
    auto* stock = batch->add_stocks();
    stock->set_material(s.name);
    stock->set_quantity(s.quantity);
    stock->set_unit(s.unit);
    stock->set_location(s.location);
    stock->set_source_time(s.source_time - base_time_);
    stock->set_receive_time(s.receive_time - base_time_);
    stock->set_quality(static_cast<v1::Quality>(s.q));
    stock->set_source(source);
  }
  ++samples_;
}

std::string telemetry_batcher::seal_within(std::uint64_t seq, epoch_ms created_at, std::size_t max_bytes) {
  envelope_->set_agent(identity_.agent);
  envelope_->set_site(identity_.site);
  envelope_->set_seq(seq);
  envelope_->set_created_at(created_at);
  auto* batch = envelope_->mutable_telemetry();
  // An upper bound that falls as elements leave: each takes its exact bytes with
  // it, and the length prefixes above them can only shrink.
  std::size_t size = envelope_->ByteSizeLong() + replay_marker;
  if (size <= max_bytes || samples_ <= 1) return seal(seq, created_at);

  // Cut from the back, stocks first (they are serialized after the lines), until
  // what stays fits; one sample always stays so every seq carries something.
  int keep_lines = batch->lines_size(), keep_stocks = batch->stocks_size();
  while (size > max_bytes && keep_lines + keep_stocks > 1) {
    if (keep_stocks > 0) {
      size -= element_bytes(batch->stocks(--keep_stocks));
    } else {
      size -= element_bytes(batch->lines(--keep_lines));
    }
  }
  auto rest = std::make_unique<v1::Envelope>();
  auto* rest_batch = rest->mutable_telemetry();
  rest_batch->set_base_time(batch->base_time());  // the times stay relative to it
  *rest_batch->mutable_sources() = batch->sources();
  move_tail(*batch->mutable_lines(), *rest_batch->mutable_lines(), batch->lines_size() - keep_lines);
  move_tail(*batch->mutable_stocks(), *rest_batch->mutable_stocks(), batch->stocks_size() - keep_stocks);

  std::string bytes;
  envelope_->SerializeToString(&bytes);
  envelope_ = std::move(rest);
  samples_ = static_cast<std::size_t>(rest_batch->lines_size() + rest_batch->stocks_size());
  // The source table is carried over whole, so source_names_ still matches it.
  bound_ = empty_bound() + rest_batch->ByteSizeLong();
  return bytes;
}

std::string telemetry_batcher::seal(std::uint64_t seq, epoch_ms created_at) {
  envelope_->set_agent(identity_.agent);
  envelope_->set_site(identity_.site);
  envelope_->set_seq(seq);
  envelope_->set_created_at(created_at);
  envelope_->mutable_telemetry();  // an empty batch is still a telemetry message
  std::string bytes;
  envelope_->SerializeToString(&bytes);
  // Clear() keeps the repeated fields' allocations for the next batch.
  envelope_->Clear();
  source_names_.clear();
  samples_ = 0;
  bound_ = empty_bound();
  return bytes;
}

}  // namespace plant::encoding
