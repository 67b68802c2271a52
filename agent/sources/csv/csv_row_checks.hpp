#pragma once
/// What every CSV row parser (stock, receipts, demand) checks the same way:
/// the header's named columns, a record's shape, and text cells that become
/// names downstream. Messages are located ("export.csv:7: material: empty")
/// and quote cells only as short escaped excerpts.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/csv/csv_reader.hpp"

namespace plant::sources {

/// A column the parser wants: its header name ("" = not configured), where it was found.
struct column_slot {
  const std::string* name;
  std::optional<std::size_t>* index;
  bool required;
};

/// Fills every slot from the header record (`header` gets the trimmed names); false with
/// `error` ("file:1: no column 'qty' in the header (columns: ...)") when one is missing.
bool find_columns(const csv_record& record, const std::string& file, const std::vector<column_slot>& slots,
                  std::vector<std::string>& header, std::string& error);

/// A data record that cannot be used at all (a quoting error, the wrong number of
/// fields): true with `reject` set.
bool unusable_record(const csv_record& record, std::size_t header_fields, const std::string& file,
                     std::string& reject);

/// Checks a text cell (valid UTF-8, no control characters, at most 256 bytes) into `out`;
/// returns the reason ("material: invalid UTF-8") or "".
std::string text_cell(std::string_view cell, const std::string& column, std::string& out);

/// A cell trimmed of surrounding spaces and tabs.
std::string_view trim_cell(std::string_view text);

/// A cell quoted for a message: escaped and shortened.
std::string quoted_cell(std::string_view value);

}  // namespace plant::sources
