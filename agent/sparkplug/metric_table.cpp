#include "agent/sparkplug/metric_table.hpp"

#include <algorithm>

namespace plant::sparkplug {

metric_value metric_value::of_number(double v) {
  metric_value m;
  m.is_null = false;
  m.number = v;
  return m;
}

metric_value metric_value::of_integer(std::uint64_t v) {
  metric_value m;
  m.is_null = false;
  m.integer = v;
  return m;
}

metric_value metric_value::of_flag(bool v) {
  metric_value m;
  m.is_null = false;
  m.flag = v;
  return m;
}

metric_value metric_value::of_text(std::string v) {
  metric_value m;
  m.is_null = false;
  m.text = std::move(v);
  return m;
}

bool same_value(datatype type, const metric_value& a, const metric_value& b) {
  if (a.is_null || b.is_null) return a.is_null == b.is_null;
  switch (type) {
    case datatype::double_:
      return a.number == b.number;
    case datatype::uint64:
    case datatype::datetime:
    case datatype::int32:
      return a.integer == b.integer;
    case datatype::boolean:
      return a.flag == b.flag;
    case datatype::string:
      return a.text == b.text;
  }
  return false;
}

std::size_t metric_table::declare(const std::string& device, const std::string& name, datatype type,
                                  const std::string& unit, bool with_alias, bool& added) {
  added = false;
  auto key = std::make_pair(device, name);
  auto found = by_name_.find(key);
  if (found != by_name_.end()) {
    metric_entry& existing = metrics_[found->second];
    if (!unit.empty() && existing.unit != unit) {
      // A unit that changes is announced again: the host shows what the device says.
      remember(found->second);
      existing.unit = unit;
      added = true;
    }
    return found->second;
  }
  metric_entry entry;
  entry.device = device;
  entry.name = name;
  entry.type = type;
  entry.unit = unit;
  entry.alias = with_alias ? next_alias_++ : 0;
  metrics_.push_back(std::move(entry));
  by_name_.emplace(std::move(key), metrics_.size() - 1);
  if (!device.empty() && std::find(devices_.begin(), devices_.end(), device) == devices_.end())
    devices_.push_back(device);
  added = true;
  return metrics_.size() - 1;
}

std::size_t metric_table::find(const std::string& device, const std::string& name) const {
  auto found = by_name_.find(std::make_pair(device, name));
  return found == by_name_.end() ? npos : found->second;
}

std::vector<std::size_t> metric_table::metrics_of(const std::string& device) const {
  std::vector<std::size_t> found;
  for (std::size_t i = 0; i < metrics_.size(); ++i)
    if (metrics_[i].device == device) found.push_back(i);
  return found;
}

void metric_table::set_current(const metric_reading& reading) {
  remember(reading.metric);
  metric_entry& m = metrics_[reading.metric];
  m.current = reading.value;
  m.current_quality = reading.quality;
  m.current_time = reading.time;
}

bool metric_table::take_change(const metric_reading& reading) {
  metric_entry& m = metrics_[reading.metric];
  if (m.ever_reported && m.reported_quality == reading.quality && same_value(m.type, m.reported, reading.value))
    return false;
  remember(reading.metric);
  m.reported = reading.value;
  m.reported_quality = reading.quality;
  m.ever_reported = true;
  return true;
}

void metric_table::mark_born(const std::string& device) {
  for (std::size_t i = 0; i < metrics_.size(); ++i) {
    metric_entry& m = metrics_[i];
    if (m.device != device) continue;
    remember(i);
    m.reported = m.current;
    m.reported_quality = m.current_quality;
    m.ever_reported = true;
  }
}

void metric_table::mark_stale(const std::string& device) {
  for (std::size_t i = 0; i < metrics_.size(); ++i) {
    metric_entry& m = metrics_[i];
    if (m.device != device || m.current_quality != quality_good) continue;
    remember(i);
    m.current_quality = quality_stale;
  }
}

void metric_table::remember(std::size_t index) {
  // Metrics declared since begin() go away whole on rollback: nothing to save.
  if (recording_ && index < size_at_begin_) undo_.push_back({index, metrics_[index]});
}

void metric_table::begin() {
  recording_ = true;
  undo_.clear();
  size_at_begin_ = metrics_.size();
  devices_at_begin_ = devices_.size();
  alias_at_begin_ = next_alias_;
}

void metric_table::commit() {
  recording_ = false;
  undo_.clear();
}

void metric_table::rollback() {
  if (!recording_) return;
  // Newest first, so the oldest saved copy of an entry is the one that stays.
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) metrics_[it->index] = it->entry;
  for (std::size_t i = size_at_begin_; i < metrics_.size(); ++i)
    by_name_.erase(std::make_pair(metrics_[i].device, metrics_[i].name));
  metrics_.resize(size_at_begin_);
  devices_.resize(devices_at_begin_);
  next_alias_ = alias_at_begin_;
  commit();
}

}  // namespace plant::sparkplug
