#pragma once
/// The Prometheus text exposition format 0.0.4, written once for every
/// program's /metrics: families with HELP and TYPE before their samples,
/// escaped label values, and floats in the form the format wants.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "common/core/latency_histogram.hpp"

namespace plant::prometheus {

/// A label value escaped per the text format: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

/// A float the way the text format wants it: shortest round-trip form, "+Inf", "-Inf", "NaN".
std::string format_value(double value);

using label = std::pair<std::string_view, std::string_view>;

/// Appends metric families in order; each family's HELP and TYPE come once,
/// before its samples, as the format requires.
class text {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<label> labels, std::string_view value);
  void sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value);
  /// A family with one unlabelled sample, the common case.
  void single(std::string_view name, std::string_view type, std::string_view help, std::uint64_t value);
  void single(std::string_view name, std::string_view type, std::string_view help, double value);
  /// A latency histogram in seconds, with the histogram's millisecond bounds as `le` buckets.
  void histogram(std::string_view name, std::string_view help, const latency_histogram& h);
  /// The text so far; the object is empty afterwards.
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace plant::prometheus
