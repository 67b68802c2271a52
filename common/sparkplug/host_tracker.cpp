#include "common/sparkplug/host_tracker.hpp"

#include <array>

#include "common/sparkplug/sparkplug_metrics.hpp"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace plant::sparkplug {
namespace {

namespace tahu = org::eclipse::tahu::protobuf;

constexpr std::array<std::string_view, 35> datatype_names{
    "Unknown",    "Int8",       "Int16",       "Int32",       "Int64",        "UInt8",       "UInt16",
    "UInt32",     "UInt64",     "Float",       "Double",      "Boolean",      "String",      "DateTime",
    "Text",       "UUID",       "DataSet",     "Bytes",       "File",         "Template",    "PropertySet",
    "PropertySetList", "Int8Array", "Int16Array", "Int32Array", "Int64Array", "UInt8Array", "UInt16Array",
    "UInt32Array", "UInt64Array", "FloatArray", "DoubleArray", "BooleanArray", "StringArray", "DateTimeArray"};

void read_value(const tahu::Payload::Metric& in, decoded_metric& out) {
  switch (in.value_case()) {
    case tahu::Payload::Metric::kIntValue:
      out.kind = decoded_metric::value_kind::integer;
      // Int8/16/32 travel as their two's complement in the uint32 field.
      out.integer = (out.datatype >= 1 && out.datatype <= 3)
                        ? static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(in.int_value())))
                        : in.int_value();
      break;
    case tahu::Payload::Metric::kLongValue:
      out.kind = decoded_metric::value_kind::integer;
      out.integer = in.long_value();
      break;
    case tahu::Payload::Metric::kFloatValue:
      out.kind = decoded_metric::value_kind::number;
      out.number = in.float_value();
      break;
    case tahu::Payload::Metric::kDoubleValue:
      out.kind = decoded_metric::value_kind::number;
      out.number = in.double_value();
      break;
    case tahu::Payload::Metric::kBooleanValue:
      out.kind = decoded_metric::value_kind::boolean;
      out.flag = in.boolean_value();
      break;
    case tahu::Payload::Metric::kStringValue:
      out.kind = decoded_metric::value_kind::text;
      out.text = in.string_value();
      break;
    default:
      out.kind = decoded_metric::value_kind::none;  // bytes, datasets, templates: not shown
      break;
  }
}

void read_properties(const tahu::Payload::Metric& in, decoded_metric& out) {
  if (!in.has_properties()) return;
  const tahu::Payload::PropertySet& set = in.properties();
  const int count = std::min(set.keys_size(), set.values_size());
  for (int i = 0; i < count; ++i) {
    const tahu::Payload::PropertyValue& v = set.values(i);
    if (set.keys(i) == quality_property && v.has_int_value()) out.quality = static_cast<std::int32_t>(v.int_value());
    if (set.keys(i) == unit_property && v.has_string_value()) out.unit = v.string_value();
  }
}

}  // namespace

std::string_view datatype_name(std::uint32_t datatype) {
  return datatype < datatype_names.size() ? datatype_names[datatype] : "Unknown";
}

bool host_tracker::decode(const topic& where, std::string_view payload, decoded_message& out, std::string& error) {
  out = decoded_message{};
  out.where = where;
  if (where.type == message_type::state) {
    out.state_text = std::string(payload);
    return true;
  }
  tahu::Payload in;
  if (!in.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    error = "not a Sparkplug B payload";
    return false;
  }
  auto key = std::make_pair(where.group_id, where.edge_node_id);
  auto audit_it = audits_.find(key);
  if (audit_it == audits_.end()) {
    if (audits_.size() >= max_nodes_) {
      ++nodes_dropped_;
      error = "more than " + std::to_string(max_nodes_) + " edge nodes: not tracked";
      return false;
    }
    audit_it = audits_.emplace(key, node_audit{}).first;
    audit_it->second.group_id = where.group_id;
    audit_it->second.edge_node_id = where.edge_node_id;
  }
  node_audit& audit = audit_it->second;
  node_state& state = states_[key];
  if (in.has_seq()) out.seq = in.seq();
  if (in.has_timestamp()) out.timestamp = static_cast<epoch_ms>(in.timestamp());

  const bool birth = where.type == message_type::nbirth || where.type == message_type::dbirth;
  if (where.type == message_type::nbirth) {
    // A new session (or a rebirth): every alias is announced again.
    aliases_total_ -= state.aliases.size() + state.by_name.size();
    state.aliases.clear();
    state.by_name.clear();
    state.last_seq.reset();
    audit.bdseq.reset();
    audit.online = true;
    ++audit.births;
  }
  if (where.type == message_type::dbirth) {
    ++audit.device_births;
    for (auto it = state.aliases.begin(); it != state.aliases.end();) {
      if (it->first.first != where.device_id) {
        ++it;
        continue;
      }
      it = state.aliases.erase(it);
      --aliases_total_;
    }
  }
  if (where.type == message_type::ddeath) ++audit.device_deaths;

  // The session's order: seq + 1 per message after the NBIRTH's 0, wrapping at 255.
  if (out.seq && where.type != message_type::ncmd && where.type != message_type::dcmd) {
    ++audit.received;
    if (where.type == message_type::nbirth) {
      state.last_seq = *out.seq;
    } else if (!audit.online) {
      out.before_birth = true;
      ++audit.before_birth;
    } else if (!state.last_seq) {
      state.last_seq = *out.seq;  // a birth without a seq: count from the first message that has one
    } else {
      const std::uint64_t expected = (*state.last_seq + 1) % 256;
      if (*out.seq == *state.last_seq) {
        out.repeated = true;
        ++audit.repeats;
      } else if (*out.seq != expected) {
        out.missing_before = (*out.seq + 256 - expected) % 256;
        audit.gaps += out.missing_before;
      }
      state.last_seq = *out.seq;
    }
  }

  const std::string& device = where.device_id;
  for (const tahu::Payload::Metric& metric : in.metrics()) {
    decoded_metric m;
    if (metric.has_alias()) m.alias = metric.alias();
    if (metric.has_timestamp()) m.timestamp = static_cast<epoch_ms>(metric.timestamp());
    m.historical = metric.is_historical();
    m.is_null = metric.is_null();
    read_properties(metric, m);
    if (metric.has_name()) {
      m.name = metric.name();
    } else if (m.alias) {
      auto found = state.aliases.find({device, *m.alias});
      if (found == state.aliases.end()) found = state.aliases.find({"", *m.alias});
      if (found != state.aliases.end()) {
        m.name = found->second.name;
      } else {
        ++out.unknown_aliases;
      }
    }
    const alias_entry* known = nullptr;
    if (!m.name.empty()) {
      auto found = state.by_name.find({device, m.name});
      if (found != state.by_name.end()) known = &found->second;
    }
    m.datatype = metric.has_datatype() ? metric.datatype() : known ? known->datatype : 0;
    if (m.unit.empty() && known) m.unit = known->unit;
    read_value(metric, m);
    if (m.historical) ++audit.historical;
    if (birth && !m.name.empty()) {
      const std::size_t more = m.alias ? 2 : 1;
      if (state.aliases.size() + state.by_name.size() + more > max_aliases_ ||
          aliases_total_ + more > max_aliases_total_) {
        ++audit.aliases_untracked;
      } else {
        alias_entry entry{m.name, m.datatype, m.unit};
        const std::size_t before = state.aliases.size() + state.by_name.size();
        state.by_name[{device, m.name}] = entry;
        if (m.alias) state.aliases[{device, *m.alias}] = entry;
        aliases_total_ += state.aliases.size() + state.by_name.size() - before;
      }
    }
    if (m.name == bdseq_metric && m.kind == decoded_metric::value_kind::integer) out.bdseq = m.integer;
    out.metrics.push_back(std::move(m));
  }
  audit.unknown_aliases += out.unknown_aliases;

  if (where.type == message_type::nbirth) {
    audit.bdseq = out.bdseq;
  } else if (where.type == message_type::ndeath) {
    // An NDEATH ends the session only when its bdSeq is the birth's: a Will of an older
    // connection can arrive after the new NBIRTH.
    if (audit.online && audit.bdseq && out.bdseq == audit.bdseq) {
      audit.online = false;
      state.last_seq.reset();  // the next session starts at its NBIRTH
      ++audit.deaths;
    } else {
      out.stale_death = true;
      ++audit.stale_deaths;
    }
  } else if (!out.bdseq) {
    out.bdseq = audit.bdseq;
  }
  return true;
}

void host_tracker::note_rebirth_requested(const std::string& group_id, const std::string& edge_node_id) {
  auto found = audits_.find(std::make_pair(group_id, edge_node_id));
  if (found != audits_.end()) ++found->second.rebirths_requested;
}

}  // namespace plant::sparkplug
