#include "agent/encoding/envelope.hpp"

#include "agent/edge/shortage_detector.hpp"
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

void fill_material_status(v1::MaterialStatus& out, const edge::material_status& in) {
  out.set_material(in.material);
  out.set_status(static_cast<v1::StockStatus>(in.status));
  out.set_quantity(in.quantity);
  out.set_unit(in.unit);
  out.set_rate(in.rate);
  out.set_projected_stockout(in.projected_stockout);
  out.set_at(in.at);
  for (const auto& line : in.lines) out.add_lines(line);
  for (const auto& line : in.starved_lines) out.add_starved_lines(line);
  out.set_reorder_point(in.reorder_point);
  out.set_safety_stock(in.safety_stock);
  out.set_lead_time_ms(in.lead_time_ms);
  out.set_incoming(in.incoming);
  out.set_next_receipt(in.next_receipt);
  out.set_late_receipts(in.late_receipts);
  out.set_late_quantity(in.late_quantity);
  out.set_covered_until(in.covered_until);
  out.set_reason(static_cast<v1::ShortageReason>(in.reason));
}

std::string encode_alert(const std::string& agent, const std::string& site, std::uint64_t seq,
                         const edge::shortage_alert& alert, epoch_ms created_at) {
  v1::ShortageAlert wire;
  fill_material_status(*wire.mutable_material(), alert.material);
  wire.set_previous_status(static_cast<v1::StockStatus>(alert.previous));
  wire.set_cleared(alert.cleared);
  return encode_alert(agent, site, seq, wire, created_at);
}

void mark_replayed(std::string& envelope_bytes) {
  // Tag for field 4, wire type 0 (varint): (4 << 3) | 0 = 0x20; value 1.
  envelope_bytes.push_back(static_cast<char>(0x20));
  envelope_bytes.push_back(static_cast<char>(0x01));
}

}  // namespace plant::encoding
