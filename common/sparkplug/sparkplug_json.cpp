#include "common/sparkplug/sparkplug_json.hpp"

#include "common/sparkplug/sparkplug_metrics.hpp"

namespace plant::sparkplug {
namespace {

void write_metric(wire::json_writer& w, const decoded_metric& m) {
  w.begin_object();
  if (m.name.empty()) {
    w.key("name").null();
  } else {
    w.field("name", m.name);
  }
  if (m.alias) w.field("alias", *m.alias);
  w.field("type", datatype_name(m.datatype));
  w.key("value");
  if (m.is_null) {
    w.null();
  } else {
    switch (m.kind) {
      case decoded_metric::value_kind::number:
        w.value(m.number);
        break;
      case decoded_metric::value_kind::integer:
        // Signed types come back as their 64-bit two's complement.
        if (m.datatype >= 1 && m.datatype <= 4) {
          w.value(static_cast<std::int64_t>(m.integer));
        } else {
          w.value(m.integer);
        }
        break;
      case decoded_metric::value_kind::boolean:
        w.value(m.flag);
        break;
      case decoded_metric::value_kind::text:
        w.value(m.text);
        break;
      case decoded_metric::value_kind::none:
        w.null();
        break;
    }
  }
  if (m.timestamp != 0) w.field("timestamp", m.timestamp);
  if (m.quality) w.field("quality", quality_name(*m.quality));
  if (!m.unit.empty()) w.field("unit", m.unit);
  if (m.historical) w.field("historical", true);
  if (m.is_null) w.field("null", true);
  w.end_object();
}

}  // namespace

void write_sparkplug_json(wire::json_writer& w, std::string_view topic_text, bool retained,
                          const decoded_message& message, epoch_ms received_at) {
  const topic& t = message.where;
  w.begin_object();
  w.field("kind", "sparkplug");
  w.field("topic", topic_text);
  if (retained) w.field("retained", true);
  w.field("message_type", to_string(t.type));
  if (t.type == message_type::state) {
    w.field("host_id", t.edge_node_id);
    w.field("state", message.state_text);
  } else {
    w.field("group_id", t.group_id);
    w.field("edge_node_id", t.edge_node_id);
    w.key("device_id");
    if (is_device_message(t.type)) {
      w.value(t.device_id);
    } else {
      w.null();
    }
    w.key("seq");
    if (message.seq) {
      w.value(*message.seq);
    } else {
      w.null();
    }
    w.key("bdSeq");
    if (message.bdseq) {
      w.value(*message.bdseq);
    } else {
      w.null();
    }
    if (message.timestamp != 0) w.field("timestamp", message.timestamp);
  }
  if (received_at != 0) w.field("received_at", received_at);
  if (message.missing_before > 0) w.field("missing_before", message.missing_before);
  if (message.repeated) w.field("repeated", true);
  if (message.stale_death) w.field("stale_death", true);
  if (message.unknown_aliases > 0) w.field("unknown_aliases", static_cast<std::uint64_t>(message.unknown_aliases));
  if (t.type != message_type::state) {
    w.key("metrics").begin_array();
    for (const decoded_metric& m : message.metrics) write_metric(w, m);
    w.end_array();
  }
  w.end_object();
}

}  // namespace plant::sparkplug
