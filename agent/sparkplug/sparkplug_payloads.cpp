#include "agent/sparkplug/sparkplug_payloads.hpp"

namespace plant::sparkplug {
namespace {

void set_value(tahu::Payload::Metric& out, datatype type, const metric_value& value) {
  if (value.is_null) {
    out.set_is_null(true);
    return;
  }
  switch (type) {
    case datatype::double_:
      out.set_double_value(value.number);
      break;
    case datatype::uint64:
    case datatype::datetime:
      out.set_long_value(value.integer);
      break;
    case datatype::int32:
      out.set_int_value(static_cast<std::uint32_t>(value.integer));
      break;
    case datatype::boolean:
      out.set_boolean_value(value.flag);
      break;
    case datatype::string:
      out.set_string_value(value.text);
      break;
  }
}

void add_quality(tahu::Payload::PropertySet& properties, std::int32_t quality) {
  properties.add_keys(std::string(quality_property));
  tahu::Payload::PropertyValue* value = properties.add_values();
  value->set_type(static_cast<std::uint32_t>(datatype::int32));
  // Int32 travels in the uint32 field as its two's complement (specification 6.4.16).
  value->set_int_value(static_cast<std::uint32_t>(quality));
}

}  // namespace

void add_birth_metric(tahu::Payload& payload, const metric_entry& m) {
  tahu::Payload::Metric* out = payload.add_metrics();
  out->set_name(m.name);
  if (m.alias != 0) out->set_alias(m.alias);
  out->set_datatype(static_cast<std::uint32_t>(m.type));
  if (m.current_time > 0) out->set_timestamp(static_cast<std::uint64_t>(m.current_time));
  set_value(*out, m.type, m.current);
  if (!m.carries_quality) return;
  tahu::Payload::PropertySet* properties = out->mutable_properties();
  add_quality(*properties, m.current_quality);
  if (!m.unit.empty()) {
    properties->add_keys(std::string(unit_property));
    tahu::Payload::PropertyValue* unit = properties->add_values();
    unit->set_type(static_cast<std::uint32_t>(datatype::string));
    unit->set_string_value(m.unit);
  }
}

void add_data_metric(tahu::Payload& payload, const metric_entry& m, const metric_reading& reading, bool with_quality,
                     bool historical) {
  tahu::Payload::Metric* out = payload.add_metrics();
  if (m.alias != 0) {
    out->set_alias(m.alias);
  } else {
    out->set_name(m.name);
  }
  if (reading.time > 0) out->set_timestamp(static_cast<std::uint64_t>(reading.time));
  // The specification lets data leave the datatype to the birth, but decoders that read a
  // message alone (Eclipse Tahu's among them) need it to find the value: 2 bytes well spent.
  out->set_datatype(static_cast<std::uint32_t>(m.type));
  if (historical) out->set_is_historical(true);
  set_value(*out, m.type, reading.value);
  if (with_quality) add_quality(*out->mutable_properties(), reading.quality);
}

std::string encode_ndeath(std::uint64_t bdseq, epoch_ms now) {
  tahu::Payload payload;
  payload.set_timestamp(static_cast<std::uint64_t>(now));
  tahu::Payload::Metric* metric = payload.add_metrics();
  metric->set_name(std::string(bdseq_metric));
  metric->set_datatype(static_cast<std::uint32_t>(datatype::uint64));
  metric->set_long_value(bdseq);
  return payload.SerializeAsString();
}

}  // namespace plant::sparkplug
