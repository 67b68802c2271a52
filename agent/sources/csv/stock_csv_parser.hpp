#pragma once
/// Stock-level CSV files -> stock samples. Pure: the caller supplies the text,
/// the file's name for messages and the times; nothing here touches a clock or a disk.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/sample.hpp"

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
