#pragma once
/// The --json form of one decoded delivery: a compact object with the
/// envelope's header and every field of its body (times as RFC 3339 UTC).
#include <string>
#include <string_view>

#include "common/core/sample.hpp"
#include "plant/v1/plant.pb.h"
#include "common/wire/json_writer.hpp"

namespace plant::wire {

/// Writes the whole object for one delivery into `w` (which should be empty).
/// `received_at` (Unix ms) is printed as "received_at" when not 0.
void write_envelope_json(json_writer& w, std::string_view topic, bool retained, const plant::v1::Envelope& envelope,
                         epoch_ms received_at = 0);

/// The object for one delivery as a string, without a line end.
std::string envelope_json(std::string_view topic, bool retained, const plant::v1::Envelope& envelope,
                          epoch_ms received_at = 0);

/// Writes a MaterialStatus as an object ("material", "status", "quantity", ... "lead_time_ms").
void write_material_status_json(json_writer& w, const plant::v1::MaterialStatus& material);

/// A time field: RFC 3339 with milliseconds.
void write_time(json_writer& w, std::string_view name, std::int64_t epoch_ms);

}  // namespace plant::wire
