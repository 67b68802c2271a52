#pragma once
/// The metric vocabulary plant-agent speaks in Sparkplug mode, shared with
/// plant-watch: datatypes, the Quality property's codes, and the metric names
/// (README, "Sparkplug B"). Names are built here only, so the two sides agree.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/sample.hpp"

namespace plant::sparkplug {

/// The Sparkplug DataType values used (Payload.Metric.datatype).
enum class datatype : std::uint32_t {
  int32 = 3,
  uint64 = 8,
  double_ = 10,
  boolean = 11,
  string = 12,
  datetime = 13,  ///< Unix ms in long_value
};

/// The Quality property (Int32): 192 good, 500 stale, 0 bad.
inline constexpr std::int32_t quality_good = 192;
inline constexpr std::int32_t quality_stale = 500;
inline constexpr std::int32_t quality_bad = 0;
std::int32_t quality_code(quality q);
/// "good", "stale", "bad", or "other".
std::string_view quality_name(std::int32_t code);

/// Property keys.
inline constexpr std::string_view quality_property = "Quality";
inline constexpr std::string_view unit_property = "engUnit";

/// Node metrics.
inline constexpr std::string_view bdseq_metric = "bdSeq";
inline constexpr std::string_view rebirth_metric = "Node Control/Rebirth";
inline constexpr std::string_view version_metric = "Properties/Version";
inline constexpr std::string_view backlog_messages_metric = "agent/backlog_messages";
inline constexpr std::string_view backlog_oldest_age_metric = "agent/backlog_oldest_age_ms";
inline constexpr std::string_view dropped_metric = "agent/dropped";
inline constexpr std::string_view corrupted_metric = "agent/corrupted";

/// "line/<line>/<field>" (state, good_count, reject_count, good_rate).
std::string line_metric(std::string_view line, std::string_view field);
/// "stock/<material>/quantity".
std::string stock_metric(std::string_view material);
/// "shortage/<material>/<field>" (status, projected_stockout, rate).
std::string shortage_metric(std::string_view material, std::string_view field);

/// A metric name split back into its parts: kind "line", "stock" or "shortage", the
/// line or material, and the field; false for other names.
bool split_metric_name(std::string_view name, std::string& kind, std::string& subject, std::string& field);

}  // namespace plant::sparkplug
