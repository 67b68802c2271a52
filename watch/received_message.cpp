#include "watch/received_message.hpp"

#include <array>
#include <limits>

namespace plant::watch {

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

}  // namespace plant::watch
