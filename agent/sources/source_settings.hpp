#pragma once
/// What every source's config block has in common, and the shared schema keys
/// that read it. A source kind's own settings derive from source_settings and
/// are described by the kind's own section (agent/sources/<kind>/).
#include <chrono>
#include <string>
#include <vector>

#include "agent/sources/report_by_exception.hpp"
#include "common/config/schema.hpp"

namespace plant::sources {

/// The keys every [[source.<kind>]] block has, with the same names and meaning.
struct source_common {
  std::string name;                               ///< unique across all sources; a topic level
  std::chrono::milliseconds interval{1000};       ///< time between polls (the simulator: between samples, in plant time)
  std::chrono::milliseconds retry_min_delay{1000};   ///< first delay after a failed poll; doubles per failure
  std::chrono::milliseconds retry_max_delay{30000};  ///< longest delay between retries
  report_policy report;                           ///< deadband, deadband_percent, max_interval: defaults for its points
  std::string key_path;                           ///< "source.modbus[0]", for messages
};

/// A source kind's typed settings; each kind derives its own.
struct source_settings {
  virtual ~source_settings() = default;
  source_common common;
};

/// How a kind spells its shared keys: the interval's default and range and the
/// old key names kept as deprecated aliases so no existing config breaks.
struct common_key_spelling {
  std::string interval_default = "\"1s\"";
  std::string interval_min = "10ms";
  std::string interval_max = "1h";
  std::string interval_help = "Time between polls.";
  std::vector<std::string> interval_aliases;
  std::vector<std::string> retry_min_aliases;
  std::vector<std::string> retry_max_aliases;
};

namespace detail {
template <class Settings, auto member>
void store_common(void* target, const config::key_spec& key, const config::key_value& value) {
  if (!value.has) return;
  config::detail::assign(static_cast<Settings*>(target)->common.*member, key, value);
}

template <report_policy& (*policy_of)(void*), auto member>
void store_report(void* target, const config::key_spec& key, const config::key_value& value) {
  if (!value.has) return;
  config::detail::assign(policy_of(target).*member, key, value);
}

template <class Settings>
report_policy& common_report_of(void* target) {
  return static_cast<Settings*>(target)->common.report;
}
}  // namespace detail

/// The report-by-exception keys (deadband, deadband_percent, max_interval), stored into
/// the report_policy that `policy_of` finds in the section's target. `scope` says whose
/// keys they are ("its points' default", "this point").
template <report_policy& (*policy_of)(void*)>
std::vector<config::key_spec> report_policy_keys(const std::string& scope) {
  using config::make_key;
  using vt = config::value_type;
  return {
      make_key("deadband", vt::number).range("0", "").example_value("0.5")
          .describe("Report by exception (" + scope + "): publish a value only when it moved by more than this "
                    "since the last published one (absolute, in its unit). Unset with every key here unset: "
                    "every sample is published.")
          .stored(detail::store_report<policy_of, &report_policy::deadband>),
      make_key("deadband_percent", vt::number).range("0", "").example_value("1.0")
          .describe("Report by exception (" + scope + "): as deadband, in percent of the last published value; "
                    "with both set, the larger threshold applies.")
          .stored(detail::store_report<policy_of, &report_policy::deadband_percent>),
      make_key("max_interval", vt::duration).range("1ms", "30d").example_value("\"60s\"")
          .describe("Report by exception (" + scope + "): publish an unchanged value again after this long. "
                    "Quality changes are always published; the shortage detector sees every sample.")
          .stored(detail::store_report<policy_of, &report_policy::max_interval>),
  };
}

/// The shared keys (name, interval, retry_min_delay, retry_max_delay) for a kind whose
/// settings struct is `Settings`; the kind's schema starts with these.
template <class Settings>
std::vector<config::key_spec> common_source_keys(const common_key_spelling& spelling,
                                                 config::text_check_fn name_check) {
  using config::make_key;
  using vt = config::value_type;
  config::key_spec name = make_key("name", vt::string).req().checked(name_check).example_value("\"line-plc\"")
                              .describe("Unique source name (across all sources); becomes an MQTT topic level.")
                              .stored(detail::store_common<Settings, &source_common::name>);
  config::key_spec interval = make_key("interval", vt::duration).def(spelling.interval_default)
                                  .range(spelling.interval_min, spelling.interval_max).describe(spelling.interval_help)
                                  .stored(detail::store_common<Settings, &source_common::interval>);
  for (const auto& old_name : spelling.interval_aliases) interval.alias(old_name);
  config::key_spec retry_min = make_key("retry_min_delay", vt::duration).def("\"1s\"").range("10ms", "1h")
                                   .describe("First delay before polling a failing source again; doubles per failure, with jitter.")
                                   .stored(detail::store_common<Settings, &source_common::retry_min_delay>);
  for (const auto& old_name : spelling.retry_min_aliases) retry_min.alias(old_name);
  config::key_spec retry_max = make_key("retry_max_delay", vt::duration).def("\"30s\"").range("10ms", "24h")
                                   .describe("Longest delay between polls of a failing source; at least retry_min_delay.")
                                   .stored(detail::store_common<Settings, &source_common::retry_max_delay>);
  for (const auto& old_name : spelling.retry_max_aliases) retry_max.alias(old_name);
  std::vector<config::key_spec> keys{std::move(name), std::move(interval), std::move(retry_min), std::move(retry_max)};
  for (auto& key : report_policy_keys<detail::common_report_of<Settings>>("default of the source's points"))
    keys.push_back(std::move(key));
  return keys;
}

/// The shared rules of every source block (retry delay order).
void check_common_source_keys(config::table_value& values, config::diagnostic_sink& sink);

}  // namespace plant::sources
