#include "common/config/diagnostics.hpp"

#include <algorithm>
#include <tuple>

namespace plant::config {

const std::string& file_name::str() const {
  static const std::string unnamed;
  return name_ ? *name_ : unnamed;
}

std::string to_string(const position& at) {
  if (at.line <= 0) return at.file;
  return at.file.str() + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

bool comes_before(const position& a, const position& b) {
  // Overrides are applied after the file, so their findings read best after the file's.
  auto key = [](const position& p) { return std::make_tuple(p.file == override_file ? 1 : 0, p.line, p.column); };
  return key(a) < key(b);
}

std::string diagnostic::to_string() const {
  std::string out = config::to_string(position{file, line, column});
  out += level == severity::error ? ": error: " : ": warning: ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += message;
  return out;
}

void diagnostic_sink::error(const position& at, std::string path, std::string message) {
  errors_.push_back(diagnostic{at.file, at.line, at.column, std::move(path), std::move(message), severity::error});
}

void diagnostic_sink::warning(const position& at, std::string path, std::string message) {
  warnings_.push_back(diagnostic{at.file, at.line, at.column, std::move(path), std::move(message), severity::warning});
}

std::vector<diagnostic> diagnostic_sink::take(std::vector<diagnostic>& list) {
  sort_by_position(list);
  std::vector<diagnostic> out = std::move(list);
  list.clear();
  // A wrong file (say, a CSV passed as config) must not bury the first, useful lines.
  if (out.size() > max_reported) {
    const std::size_t dropped = out.size() - max_reported;
    const diagnostic last{out.front().file, 0, 0, "",
                          std::to_string(dropped) + " more " + (out.front().level == severity::error ? "errors" : "warnings") +
                              " not shown",
                          out.front().level};
    out.resize(max_reported);
    out.push_back(last);
  }
  return out;
}

std::vector<diagnostic> diagnostic_sink::take_errors() { return take(errors_); }

std::vector<diagnostic> diagnostic_sink::take_warnings() { return take(warnings_); }

void sort_by_position(std::vector<diagnostic>& list) {
  std::stable_sort(list.begin(), list.end(), [](const diagnostic& a, const diagnostic& b) {
    return comes_before(position{a.file, a.line, a.column}, position{b.file, b.line, b.column});
  });
}

}  // namespace plant::config
