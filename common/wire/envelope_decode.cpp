#include "common/wire/envelope_decode.hpp"

#include <array>
#include <limits>

#include "common/core/text.hpp"

namespace plant::wire {

topic_parts split_topic(std::string_view topic) {
  topic_parts parts;
  std::array<std::string_view, 4> last{};  // the last four levels, newest at the back
  std::size_t levels = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = topic.find('/', start);
    const std::string_view level =
        topic.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    for (std::size_t i = 0; i + 1 < last.size(); ++i) last[i] = last[i + 1];
    last.back() = level;
    ++levels;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  parts.kind = std::string(last[3]);
  if (levels >= 4) {
    parts.site = std::string(last[1]);
    parts.agent = std::string(last[2]);
  }
  return parts;
}

bool decode_envelope(std::string_view payload, plant::v1::Envelope& out, std::string& reason) {
  out.Clear();
  if (payload.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    reason = "larger than protobuf can parse";
    return false;
  }
  if (!out.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    reason = "not a plant.v1.Envelope";
    return false;
  }
  // Almost any short byte string parses as *some* protobuf message made of
  // unknown fields; requiring a body is what tells stray payloads from ours.
  if (out.body_case() == plant::v1::Envelope::BODY_NOT_SET) {
    reason = "an Envelope without telemetry, status or alert";
    return false;
  }
  return true;
}

void resolve_origin(const plant::v1::Envelope& envelope, std::string_view topic, std::string& site,
                    std::string& agent) {
  site = envelope.site();
  agent = envelope.agent();
  if (site.empty() || agent.empty()) {
    const topic_parts parts = split_topic(topic);
    if (site.empty()) site = parts.site;
    if (agent.empty()) agent = parts.agent;
  }
}

}  // namespace plant::wire

namespace plant::wire {

namespace {

// A minimal walk over the protobuf wire format: enough to count a body's
// repeated elements without allocating a single message.
class wire_reader {
 public:
  explicit wire_reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ >= end_; }
  bool varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      const auto byte = static_cast<unsigned char>(*p_++);
      out |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  // The next field: its number and, for length-delimited ones, its bytes.
  bool field(std::uint32_t& number, std::string_view& bytes) {
    std::uint64_t tag = 0;
    if (!varint(tag)) return false;
    number = static_cast<std::uint32_t>(tag >> 3);
    bytes = {};
    switch (tag & 7) {
      case 0: {
        std::uint64_t ignored = 0;
        return varint(ignored);
      }
      case 1: return skip(8);
      case 5: return skip(4);
      case 2: {
        std::uint64_t length = 0;
        if (!varint(length) || length > static_cast<std::uint64_t>(end_ - p_)) return false;
        bytes = std::string_view(p_, static_cast<std::size_t>(length));
        p_ += length;
        return true;
      }
      default: return false;  // groups are not used by plant.v1
    }
  }

 private:
  bool skip(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const char* p_;
  const char* end_;
};

// Occurrences of the fields in `repeated` inside `message`; `nested` ones are walked too.
bool count_fields(std::string_view message, std::initializer_list<std::uint32_t> repeated,
                  std::initializer_list<std::uint32_t> nested_materials, std::size_t& count) {
  wire_reader r(message);
  std::uint32_t number = 0;
  std::string_view bytes;
  while (!r.done()) {
    if (!r.field(number, bytes)) return false;
    for (auto f : repeated) count += f == number ? 1 : 0;
    for (auto f : nested_materials) {
      // MaterialStatus: its lines and starved_lines are repeated strings (fields 8 and 9).
      if (f == number && !count_fields(bytes, {8, 9}, {}, count)) return false;
    }
  }
  return true;
}

}  // namespace

bool affordable(std::string_view payload, const decode_limits& limits, std::string& reason) {
  if (payload.size() > limits.max_payload_bytes) {
    reason = std::to_string(payload.size()) + " bytes is over the limit of " + std::to_string(limits.max_payload_bytes);
    return false;
  }
  std::size_t elements = 0;
  wire_reader r(payload);
  std::uint32_t number = 0;
  std::string_view body;
  while (!r.done()) {
    if (!r.field(number, body)) {
      reason = "not a plant.v1.Envelope";
      return false;
    }
    bool ok = true;
    if (number == 10) ok = count_fields(body, {2, 3, 4}, {}, elements);           // telemetry
    if (number == 11) ok = count_fields(body, {10, 12, 14, 16}, {16}, elements);  // status
    if (number == 12) ok = count_fields(body, {}, {1}, elements);                 // alert
    if (!ok) {
      reason = "not a plant.v1.Envelope";
      return false;
    }
  }
  if (elements > limits.max_elements) {
    reason = std::to_string(elements) + " repeated elements is over the limit of " +
             std::to_string(limits.max_elements) + " (decoding would cost far more than the message)";
    return false;
  }
  return true;
}

std::string origin_conflict(const plant::v1::Envelope& envelope, std::string_view topic) {
  const topic_parts parts = split_topic(topic);
  if (parts.site.empty() || parts.agent.empty()) return "";
  const bool site_differs = !envelope.site().empty() && envelope.site() != parts.site;
  const bool agent_differs = !envelope.agent().empty() && envelope.agent() != parts.agent;
  if (!site_differs && !agent_differs) return "";
  return "the envelope names site " + quoted_excerpt(envelope.site(), 64) + " agent " +
         quoted_excerpt(envelope.agent(), 64) + ", the topic belongs to site " + quoted_excerpt(parts.site, 64) +
         " agent " + quoted_excerpt(parts.agent, 64);
}

}  // namespace plant::wire
