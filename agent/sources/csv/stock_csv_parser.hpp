#pragma once
/// Stock-level CSV files -> stock samples. Pure: the caller supplies the text,
/// the file's name for messages and the times; nothing here touches a clock or a disk.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/sample.hpp"
#include "agent/sources/csv/csv_reader.hpp"

namespace plant::sources {

/// Header names of the columns to read (matched after trimming, case-sensitively).
/// An empty optional name means the file has no such column. Every non-empty
/// name must be present in the header or the whole file is refused.
struct stock_csv_columns {
  std::string material = "material";  ///< required
  std::string quantity = "quantity";  ///< required
  std::string timestamp;              ///< optional: RFC 3339 or epoch seconds
  std::string location;               ///< optional
  std::string unit;                   ///< optional
};

/// The outcome of parsing one file.
struct stock_csv_result {
  std::vector<sample> samples;       ///< one per good row, in file order
  std::vector<std::string> rejects;  ///< "stock.csv:7: quantity: 'abc' is not a number"; at most max_listed_rejects + 1
  std::size_t rejected_rows = 0;     ///< every bad row, including those not listed in `rejects`
  std::optional<std::string> error;  ///< the file as a whole was unusable; `samples` is then empty
};

/// Rejects listed per file; the rest are counted in one closing line, so a file of
/// a million bad rows cannot fill memory with messages.
inline constexpr std::size_t max_listed_rejects = 100;

/// Longest material, unit or location a row may give (bytes); longer cells reject the row.
inline constexpr std::size_t max_text_bytes = 256;

/// Turns records into stock samples, one at a time, so a file can be parsed as it
/// is read: the header first, then each row to a sample or a located reject.
class stock_row_parser {
 public:
  /// `display_name` prefixes every message; `fallback_source_time` (the file's mtime)
  /// dates rows when there is no timestamp column.
  stock_row_parser(std::string display_name, stock_csv_columns columns, epoch_ms fallback_source_time,
                   epoch_ms receive_time);
  /// Takes the header record; false with `error` ("file:line: no column 'qty' ...") when the file cannot be used.
  bool take_header(const csv_record& record, std::string& error);
  /// True once a header was taken.
  bool has_header() const { return has_header_; }
  /// One data record: its sample, or nothing with `reject` set ("file:7: quantity: 'abc' is not a
  /// number"), or nothing and no reject for a blank line.
  std::optional<sample> take_row(const csv_record& record, std::string& reject);

 private:
  /// A text cell checked (UTF-8, no control characters, bounded) into `out`; the reason when not.
  std::string text_cell(const csv_record& record, std::size_t index, const std::string& column,
                        std::string& out) const;

  std::string file_;
  stock_csv_columns columns_;
  epoch_ms fallback_source_time_;
  epoch_ms receive_time_;
  std::vector<std::string> header_;
  std::optional<std::size_t> material_, quantity_, timestamp_, location_, unit_;
  bool has_header_ = false;
};

/// Parses `text` (the whole file). `display_name` prefixes every message;
/// `fallback_source_time` (the file's mtime) dates rows when there is no timestamp column.
stock_csv_result parse_stock_csv(std::string_view text, std::string_view display_name, const stock_csv_columns& columns,
                                 char delimiter, epoch_ms fallback_source_time, epoch_ms receive_time);

/// A plain decimal number: optional sign, digits with an optional '.', optional
/// exponent, surrounding spaces ignored. NaN, infinities, hex, ',' decimals and
/// values out of double's range are refused.
bool parse_csv_number(std::string_view text, double& out);

/// RFC 3339 with a mandatory offset ("2026-11-22T07:30:00Z", "...00.250+01:00";
/// 't', 'z' and a space for 'T' accepted), or non-negative epoch seconds with an
/// optional fraction ("1795332600", "1795332600.5"). Fractions below a millisecond are truncated.
bool parse_timestamp(std::string_view text, epoch_ms& out);

/// Days since 1970-01-01 of a proleptic Gregorian date; `month` 1..12, `day` 1..31.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

}  // namespace plant::sources
