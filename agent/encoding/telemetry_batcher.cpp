#include "agent/encoding/telemetry_batcher.hpp"

#include "plant/v1/plant.pb.h"

namespace plant::encoding {

namespace {

// Upper bounds of protobuf's encoding, so a batch can be cut before it passes
// mqtt.max_message_bytes without serializing to find out: a tag is one byte for
// every field here (numbers < 16), a varint at most 10, a length prefix at most 5.
constexpr std::size_t tag = 1, varint = 10, length = 5, fixed64 = 8;
std::size_t string_field(std::size_t size) { return tag + length + size; }

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
