#pragma once
/// Aligned text columns for plant-watch's tables.
#include <cstdint>
#include <string>
#include <vector>

namespace plant::watch {

class text_table {
 public:
  /// Column alignment.
  enum class align { left, right };

  /// Declares the columns: header titles and their alignment.
  text_table(std::vector<std::string> headers, std::vector<align> alignment);
  /// Longest cell shown; longer ones are cut with "...".
  static constexpr std::size_t max_cell_bytes = 200;
  /// Adds a row; missing cells are blank, extra cells are ignored; cells are escaped.
  void add_row(std::vector<std::string> cells);
  /// The table: header and rows, each line starting with `indent`, columns two spaces apart,
  /// no trailing blanks, every line ending in '\n'.
  std::string render(const std::string& indent = {}) const;

 private:
  std::vector<std::string> headers_;
  std::vector<align> alignment_;
  std::vector<std::vector<std::string>> rows_;
};

/// A quantity without noise: at most `decimals` places, trailing zeros removed ("12", "12.5").
std::string format_number(double value, int decimals = 2);
/// "512 B", "12.3 KiB", "4.5 MiB", "1.2 GiB".
std::string format_bytes(std::uint64_t bytes);

}  // namespace plant::watch
