#pragma once
/// Diagnostics of the config loader: "FILE:LINE:COLUMN: error: key.path: message",
/// the form compilers use, so a technician's editor jumps straight to the spot.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plant::config {

/// The pseudo file name of diagnostics about `--set key.path=value` overrides
/// (line = 1-based index of the override, column 1).
inline constexpr const char* override_file = "--set";

/// The display name of a config file, shared by every position in it rather
/// than copied into each: a config of 1,000 Modbus points holds some 30,000
/// positions (two per key, defaulted keys included), and a copy of the name in
/// each was about 1 MB of heap for as long as the agent keeps its config tree.
class file_name {
 public:
  file_name() = default;
  file_name(std::string name)  // NOLINT(google-explicit-constructor): a file name reads as a string
      : name_(std::make_shared<const std::string>(std::move(name))) {}
  file_name(const char* name) : file_name(std::string(name)) {}  // NOLINT(google-explicit-constructor)
  /// Shares toml++'s own copy (toml::source_region::path), which every node of a document points to.
  explicit file_name(std::shared_ptr<const std::string> shared) : name_(std::move(shared)) {}

  const std::string& str() const;
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  bool operator==(std::string_view other) const { return str() == other; }
  bool operator!=(std::string_view other) const { return str() != other; }

 private:
  std::shared_ptr<const std::string> name_;
};

/// A place in a config file (or in the overrides).
struct position {
  file_name file;    ///< display name of the file, or override_file
  int line = 0;      ///< 1-based; 0 when the whole file is meant
  int column = 0;    ///< 1-based; 0 when the whole file is meant
};

/// "FILE:LINE:COLUMN", or just "FILE" when line is 0.
std::string to_string(const position& at);

/// File order: the config file by line and column, then the overrides by index.
bool comes_before(const position& a, const position& b);

enum class severity { error, warning };

/// One finding of the loader, with its location and the key it is about.
struct diagnostic {
  std::string file;                   ///< display name of the file, or "--set"
  int line = 0;                       ///< 1-based; 0 when the whole file is meant
  int column = 0;                     ///< 1-based; 0 when the whole file is meant
  std::string path;                   ///< key path such as "source.csv[1].pattern"; may be empty
  std::string message;                ///< what is wrong and why
  severity level = severity::error;   ///< errors make the config unusable, warnings do not
  /// "FILE:LINE:COLUMN: error: key.path: message" ("warning" for warnings).
  std::string to_string() const;
};

/// Collects every finding of one load so that all of them are reported in one run.
class diagnostic_sink {
 public:
  /// At most this many errors (and as many warnings) are returned; a last line counts the rest.
  static constexpr std::size_t max_reported = 100;

  /// Records an error at `at` about the key `path`.
  void error(const position& at, std::string path, std::string message);
  /// Records a warning at `at` about the key `path`.
  void warning(const position& at, std::string path, std::string message);
  /// True once any error was recorded.
  bool has_errors() const { return !errors_.empty(); }
  /// The errors in file order: the file first (by line, column), then the overrides.
  std::vector<diagnostic> take_errors();
  /// The warnings in file order.
  std::vector<diagnostic> take_warnings();

 private:
  static std::vector<diagnostic> take(std::vector<diagnostic>& list);

  std::vector<diagnostic> errors_;
  std::vector<diagnostic> warnings_;
};

/// Sorts by file position (stable): the config file by line and column, then "--set" by index.
void sort_by_position(std::vector<diagnostic>& list);

}  // namespace plant::config
