#include "common/wire/envelope_json.hpp"

#include "common/wire/envelope_decode.hpp"

#include "common/wire/time_format.hpp"
#include "common/wire/wire_names.hpp"

namespace plant::wire {

namespace {

template <typename Strings>
void write_string_list(json_writer& w, std::string_view name, const Strings& strings) {
  w.key(name).begin_array();
  for (const auto& text : strings) w.value(std::string_view(text));
  w.end_array();
}

void write_ranges(json_writer& w, std::string_view name,
                  const google::protobuf::RepeatedPtrField<plant::v1::SeqRange>& ranges) {
  w.key(name).begin_array();
  for (const auto& range : ranges) w.begin_array().value(range.first()).value(range.last()).end_array();
  w.end_array();
}

// Source indexes point into the batch's table; an index past its end means
// a broken batch, which is shown as null rather than guessed.
void write_source(json_writer& w, const plant::v1::TelemetryBatch& batch, std::uint32_t index) {
  w.key("source");
  if (index < static_cast<std::uint32_t>(batch.sources_size())) {
    w.value(std::string_view(batch.sources(static_cast<int>(index))));
  } else {
    w.null();
  }
}

// Stamps inside a batch are offsets from base_time (see plant.proto).
void write_relative_time(json_writer& w, std::string_view name, const plant::v1::TelemetryBatch& batch,
                         std::int64_t offset) {
  write_time(w, name, add_saturating(batch.base_time(), offset));
}

void write_telemetry(json_writer& w, const plant::v1::TelemetryBatch& batch) {
  w.key("lines").begin_array();
  for (const auto& line : batch.lines()) {
    w.begin_object();
    w.field("line", line.line());
    w.field("state", line_state_name(line.state()));
    w.field("good_count", line.good_count());
    w.field("reject_count", line.reject_count());
    w.field("good_rate", line.good_rate());
    write_source(w, batch, line.source());
    write_relative_time(w, "source_time", batch, line.source_time());
    write_relative_time(w, "receive_time", batch, line.receive_time());
    w.field("quality", quality_name(line.quality()));
    w.end_object();
  }
  w.end_array();
  w.key("stocks").begin_array();
  for (const auto& stock : batch.stocks()) {
    w.begin_object();
    w.field("material", stock.material());
    w.field("quantity", stock.quantity());
    w.field("unit", stock.unit());
    w.field("location", stock.location());
    write_source(w, batch, stock.source());
    write_relative_time(w, "source_time", batch, stock.source_time());
    write_relative_time(w, "receive_time", batch, stock.receive_time());
    w.field("quality", quality_name(stock.quality()));
    w.end_object();
  }
  w.end_array();
}

void write_status(json_writer& w, const plant::v1::AgentStatus& status) {
  w.field("state", agent_state_name(status.state()));
  w.field("reason", agent_reason_name(status.reason()));
  w.field("version", status.version());
  w.field("config_hash", status.config_hash());
  write_time(w, "started_at", status.started_at());
  write_time(w, "time", status.time());
  w.field("last_seq", status.last_seq());

  const auto& c = status.counters();
  w.key("counters").begin_object();
  w.field("samples_in", c.samples_in());
  w.field("messages_sealed", c.messages_sealed());
  w.field("messages_published", c.messages_published());
  w.field("messages_acked", c.messages_acked());
  w.field("messages_replayed", c.messages_replayed());
  w.field("reconnects", c.reconnects());
  w.field("publish_errors", c.publish_errors());
  w.field("spool_write_errors", c.spool_write_errors());
  w.field("log_suppressed", c.log_suppressed());
  w.field("samples_dropped", c.samples_dropped());
  w.end_object();

  const auto& b = status.backlog();
  w.key("backlog").begin_object();
  w.field("messages", b.messages());
  w.field("bytes", b.bytes());
  w.field("oldest_age_ms", b.oldest_age_ms());
  w.field("spool_bytes", b.spool_bytes());
  w.field("spool_healthy", b.spool_healthy());
  w.end_object();

  w.key("sources").begin_array();
  for (const auto& s : status.sources()) {
    w.begin_object();
    w.field("name", s.name());
    w.field("kind", s.kind());
    w.field("healthy", s.healthy());
    w.field("polls", s.polls());
    w.field("errors", s.errors());
    w.field("samples", s.samples());
    w.field("rejected", s.rejected());
    w.field("skipped_ticks", s.skipped_ticks());
    w.field("last_error", s.last_error());
    w.field("reconnects", s.reconnects());
    w.end_object();
  }
  w.end_array();

  w.field("dropped", status.dropped());
  write_ranges(w, "dropped_ranges", status.dropped_ranges());
  w.field("corrupted", status.corrupted());
  write_ranges(w, "corrupted_ranges", status.corrupted_ranges());
  w.field("last_error", status.last_error());
  w.key("materials").begin_array();
  for (const auto& m : status.materials()) write_material_status_json(w, m);
  w.end_array();
}

// The members after "status" are shared by alerts (flattened into the message
// object) and status.materials (one object each).
void write_material_tail(json_writer& w, const plant::v1::MaterialStatus& m) {
  w.field("quantity", m.quantity());
  w.field("unit", m.unit());
  w.field("rate", m.rate());
  w.key("projected_stockout");
  if (m.projected_stockout() == 0) {
    w.null();  // 0 means "not consuming": there is no stockout to project
  } else {
    w.value(format_rfc3339_ms(m.projected_stockout()));
  }
  write_time(w, "at", m.at());
  write_string_list(w, "lines", m.lines());
  write_string_list(w, "starved_lines", m.starved_lines());
  w.field("reorder_point", m.reorder_point());
  w.field("safety_stock", m.safety_stock());
  w.field("lead_time_ms", m.lead_time_ms());
  // The supply side: null where there is nothing to say (no receipts source).
  w.field("incoming", m.incoming());
  w.key("next_receipt");
  if (m.next_receipt() == 0) w.null(); else w.value(format_rfc3339_ms(m.next_receipt()));
  w.key("late_receipts").begin_object().field("count", m.late_receipts()).field("quantity", m.late_quantity()).end_object();
  w.key("covered_until");
  if (m.covered_until() == 0) w.null(); else w.value(format_rfc3339_ms(m.covered_until()));
  w.key("reason");
  if (m.reason() == plant::v1::SHORTAGE_REASON_UNSPECIFIED) w.null(); else w.value(shortage_reason_name(m.reason()));
}

void write_alert(json_writer& w, const plant::v1::ShortageAlert& alert) {
  const auto& m = alert.material();
  w.field("material", m.material());
  w.field("status", stock_status_name(m.status()));
  w.field("previous_status", stock_status_name(alert.previous_status()));
  w.field("cleared", alert.cleared());
  write_material_tail(w, m);
}

std::string_view kind_name(const plant::v1::Envelope& envelope) {
  switch (envelope.body_case()) {
    case plant::v1::Envelope::kTelemetry: return "telemetry";
    case plant::v1::Envelope::kStatus: return "status";
    case plant::v1::Envelope::kAlert: return "alert";
    default: return "unknown";
  }
}

}  // namespace

void write_time(json_writer& w, std::string_view name, std::int64_t epoch_ms) {
  char buffer[40];
  w.field(name, std::string_view(buffer, format_rfc3339_ms(epoch_ms, buffer)));
}

void write_material_status_json(json_writer& w, const plant::v1::MaterialStatus& material) {
  w.begin_object();
  w.field("material", material.material());
  w.field("status", stock_status_name(material.status()));
  write_material_tail(w, material);
  w.end_object();
}

void write_envelope_json(json_writer& w, std::string_view topic, bool retained, const plant::v1::Envelope& envelope,
                         epoch_ms received_at) {
  std::string site;
  std::string agent;
  resolve_origin(envelope, topic, site, agent);
  w.begin_object();
  w.field("topic", topic);
  w.field("agent", agent);
  w.field("site", site);
  w.field("seq", envelope.seq());
  w.field("kind", kind_name(envelope));
  w.field("replayed", envelope.replayed());
  w.field("retained", retained);
  write_time(w, "created_at", envelope.created_at());
  // When it reached us: with created_at, the delivery latency of this message.
  if (received_at != 0) write_time(w, "received_at", received_at);
  switch (envelope.body_case()) {
    case plant::v1::Envelope::kTelemetry: write_telemetry(w, envelope.telemetry()); break;
    case plant::v1::Envelope::kStatus: write_status(w, envelope.status()); break;
    case plant::v1::Envelope::kAlert: write_alert(w, envelope.alert()); break;
    default: break;
  }
  w.end_object();
}

std::string envelope_json(std::string_view topic, bool retained, const plant::v1::Envelope& envelope,
                          epoch_ms received_at) {
  json_writer w;
  write_envelope_json(w, topic, retained, envelope, received_at);
  return w.take();
}

}  // namespace plant::wire
