#pragma once
/// Sparkplug B payloads from the metric table: birth metrics (name, alias,
/// datatype, value, Quality and engUnit properties) and data metrics (alias
/// only). Pure: the edge node decides what goes in and when.
#include <cstdint>
#include <string>

#include "agent/sparkplug/metric_table.hpp"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace plant::sparkplug {

namespace tahu = org::eclipse::tahu::protobuf;

/// Adds `m` as a birth announces it: name, alias (when it has one), datatype, its
/// current value (or is_null), timestamp, Quality and, for a unit, engUnit.
void add_birth_metric(tahu::Payload& payload, const metric_entry& m);
/// Adds one reading of `m` in data form: alias alone (the name when it has no alias),
/// datatype, timestamp, value or is_null, the Quality property when `with_quality`, is_historical
/// when `historical`.
void add_data_metric(tahu::Payload& payload, const metric_entry& m, const metric_reading& reading, bool with_quality,
                     bool historical);
/// An NDEATH: the payload timestamp and the bdSeq of the session it ends, no seq.
std::string encode_ndeath(std::uint64_t bdseq, epoch_ms now);

}  // namespace plant::sparkplug
