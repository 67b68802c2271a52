#include "common/http/prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace plant::prometheus {

namespace {

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

void text::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void text::sample(std::string_view name, std::initializer_list<label> labels, std::string_view value) {
  out_ += name;
  if (labels.size() > 0) {
    out_ += '{';
    bool first = true;
    for (const auto& [key, text] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += key;
      out_ += "=\"";
      out_ += escape_label_value(text);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void text::sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value) {
  sample(name, labels, std::to_string(value));
}

void text::single(std::string_view name, std::string_view type, std::string_view help, std::uint64_t value) {
  family(name, type, help);
  sample(name, {}, value);
}

void text::single(std::string_view name, std::string_view type, std::string_view help, double value) {
  family(name, type, help);
  sample(name, {}, format_value(value));
}

void text::histogram(std::string_view name, std::string_view help, const latency_histogram& h) {
  family(name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < latency_histogram::bounds_ms.size(); ++i) {
    const std::string le = format_value(latency_histogram::bounds_ms[i] / 1000.0);
    sample(bucket, {{"le", le}}, h.cumulative(i));
  }
  sample(bucket, {{"le", "+Inf"}}, h.count());
  sample(std::string(name) + "_sum", {}, format_value(static_cast<double>(h.sum_us()) / 1e6));
  sample(std::string(name) + "_count", {}, h.count());
}

}  // namespace plant::prometheus
