#include "common/sparkplug/sparkplug_metrics.hpp"

namespace plant::sparkplug {

std::int32_t quality_code(quality q) {
  switch (q) {
    case quality::good:
      return quality_good;
    case quality::stale:
      return quality_stale;
    case quality::bad:
      break;
  }
  return quality_bad;
}

std::string_view quality_name(std::int32_t code) {
  switch (code) {
    case quality_good:
      return "good";
    case quality_stale:
      return "stale";
    case quality_bad:
      return "bad";
    default:
      return "other";
  }
}

std::string line_metric(std::string_view line, std::string_view field) {
  std::string name = "line/";
  name.append(line).append("/").append(field);
  return name;
}

std::string stock_metric(std::string_view material) {
  std::string name = "stock/";
  name.append(material).append("/quantity");
  return name;
}

std::string shortage_metric(std::string_view material, std::string_view field) {
  std::string name = "shortage/";
  name.append(material).append("/").append(field);
  return name;
}

bool split_metric_name(std::string_view name, std::string& kind, std::string& subject, std::string& field) {
  const std::size_t first = name.find('/');
  const std::size_t last = name.rfind('/');
  if (first == std::string_view::npos || first == last) return false;
  kind = std::string(name.substr(0, first));
  if (kind != "line" && kind != "stock" && kind != "shortage") return false;
  subject = std::string(name.substr(first + 1, last - first - 1));
  field = std::string(name.substr(last + 1));
  return !subject.empty() && !field.empty();
}

}  // namespace plant::sparkplug
