#pragma once
/// Every metric the edge node has announced: its alias, datatype and unit, the
/// newest value known (what a birth carries) and the value the host was last
/// told (what report by exception compares with). Pure state, owned by the
/// edge node on the event-loop thread; no protobuf here.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/core/clock.hpp"
#include "common/sparkplug/sparkplug_metrics.hpp"

namespace plant::sparkplug {

/// A metric's value; which field counts follows the metric's datatype.
struct metric_value {
  bool is_null = true;
  double number = 0.0;         ///< double_
  std::uint64_t integer = 0;   ///< uint64, datetime
  bool flag = false;           ///< boolean
  std::string text;            ///< string

  static metric_value of_number(double v);
  static metric_value of_integer(std::uint64_t v);
  static metric_value of_flag(bool v);
  static metric_value of_text(std::string v);
};

/// Exactly the same value for a metric of type `type` (report by exception uses deadband 0).
bool same_value(datatype type, const metric_value& a, const metric_value& b);

/// One reading of one metric.
struct metric_reading {
  std::size_t metric = 0;       ///< index in the table
  metric_value value;
  std::int32_t quality = quality_good;
  epoch_ms time = 0;            ///< when it was true (the sample's source time)
};

struct metric_entry {
  std::string device;           ///< "" = a node metric
  std::string name;
  std::uint64_t alias = 0;      ///< 0 = sent by name (bdSeq, Node Control/Rebirth)
  datatype type = datatype::double_;
  std::string unit;             ///< engUnit in the birth; "" = none
  bool carries_quality = true;  ///< false for the node's own bdSeq, Rebirth and Version
  metric_value current;         ///< newest value known
  std::int32_t current_quality = quality_bad;
  epoch_ms current_time = 0;
  metric_value reported;        ///< last value sent to the host (birth or data)
  std::int32_t reported_quality = quality_bad;
  bool ever_reported = false;
};

class metric_table {
 public:
  /// The metric `name` of `device` ("" = the node), declared with `type` and `unit`
  /// when new (then `added` is set). Aliases are unique across the node and never
  /// reused within a run; `with_alias` false for metrics always sent by name.
  std::size_t declare(const std::string& device, const std::string& name, datatype type, const std::string& unit,
                      bool with_alias, bool& added);
  /// The index of an existing metric, or npos.
  std::size_t find(const std::string& device, const std::string& name) const;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  metric_entry& at(std::size_t index) { return metrics_[index]; }
  const metric_entry& at(std::size_t index) const { return metrics_[index]; }
  std::size_t size() const { return metrics_.size(); }
  /// The metrics of `device` in declaration order.
  std::vector<std::size_t> metrics_of(const std::string& device) const;
  /// Devices in the order they were first seen.
  const std::vector<std::string>& devices() const { return devices_; }

  /// Takes a reading as the newest value known.
  void set_current(const metric_reading& reading);
  /// Report by exception: true when `reading` differs from what the host was last told
  /// (value or quality); it then counts as told.
  bool take_change(const metric_reading& reading);
  /// A birth told the host the current value of every metric of `device`.
  void mark_born(const std::string& device);
  /// Every metric of `device` is stale (its source stopped answering).
  void mark_stale(const std::string& device);

  /// Starts recording changes, so that a message that could not be sent whole leaves
  /// the table as it was before it (its metrics new again, its values not yet told).
  void begin();
  /// Keeps what changed since begin().
  void commit();
  /// Undoes everything since begin(): values, reports and declarations.
  void rollback();

 private:
  void remember(std::size_t index);

  struct saved_entry {
    std::size_t index;
    metric_entry entry;
  };
  bool recording_ = false;
  std::vector<saved_entry> undo_;
  std::size_t size_at_begin_ = 0;
  std::size_t devices_at_begin_ = 0;
  std::uint64_t alias_at_begin_ = 1;

  std::vector<metric_entry> metrics_;
  std::map<std::pair<std::string, std::string>, std::size_t> by_name_;
  std::vector<std::string> devices_;
  std::uint64_t next_alias_ = 1;
};

}  // namespace plant::sparkplug
