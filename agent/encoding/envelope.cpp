#include "agent/encoding/envelope.hpp"

#include "plant/v1/plant.pb.h"

namespace plant::encoding {

std::string encode_status(const std::string& agent, const std::string& site, const v1::AgentStatus& status,
                          epoch_ms created_at) {
  v1::Envelope envelope;
  envelope.set_agent(agent);
  envelope.set_site(site);
  envelope.set_created_at(created_at);
  *envelope.mutable_status() = status;
  return envelope.SerializeAsString();
}

std::string encode_alert(const std::string& agent, const std::string& site, std::uint64_t seq,
                         const v1::ShortageAlert& alert, epoch_ms created_at) {
  v1::Envelope envelope;
  envelope.set_agent(agent);
  envelope.set_site(site);
  envelope.set_seq(seq);
  envelope.set_created_at(created_at);
  *envelope.mutable_alert() = alert;
  return envelope.SerializeAsString();
}

void mark_replayed(std::string& envelope_bytes) {
  // Tag for field 4, wire type 0 (varint): (4 << 3) | 0 = 0x20; value 1.
  envelope_bytes.push_back(static_cast<char>(0x20));
  envelope_bytes.push_back(static_cast<char>(0x01));
}

}  // namespace plant::encoding
