#include "agent/sources/csv/csv_row_checks.hpp"

#include "agent/sources/csv/stock_csv_parser.hpp"
#include "common/core/text.hpp"

namespace plant::sources {

namespace {
constexpr std::size_t max_quoted_value = 40;
constexpr std::size_t max_listed_columns = 10;
}  // namespace

std::string_view trim_cell(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string quoted_cell(std::string_view value) { return quoted_excerpt(value, max_quoted_value); }

bool find_columns(const csv_record& record, const std::string& file, const std::vector<column_slot>& slots,
                  std::vector<std::string>& header, std::string& error) {
  if (record.error) {
    error = file + ":" + std::to_string(record.error->line) + ":" + std::to_string(record.error->column) +
            ": header: " + record.error->reason;
    return false;
  }
  header.clear();
  // A header tried before (and refused) must not leave its column positions behind:
  // they could point past the fields of the rows under this one (found by fuzz_csv).
  for (const auto& slot : slots) slot.index->reset();
  for (const auto& name : record.fields) header.emplace_back(trim_cell(name));
  for (const auto& slot : slots) {
    if (slot.name->empty() && !slot.required) continue;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == *slot.name) {
        *slot.index = i;
        break;  // a duplicated header name: the first one wins
      }
    }
    if (!*slot.index) {
      // A short, escaped excerpt only: the "header" may be any file's first line (a key, a password).
      std::string listed;
      std::size_t shown = 0;
      for (const auto& column : header) {
        if (shown == max_listed_columns || listed.size() > 200) {
          listed += ", ... (" + std::to_string(header.size()) + " columns)";
          break;
        }
        listed += (listed.empty() ? "" : ", ") + quoted_cell(column);
        ++shown;
      }
      error = file + ":" + std::to_string(record.line) + ": no column " + quoted_cell(*slot.name) +
              " in the header (columns: " + listed + ")";
      return false;
    }
  }
  return true;
}

bool unusable_record(const csv_record& record, std::size_t header_fields, const std::string& file,
                     std::string& reject) {
  if (record.error) {
    reject = file + ":" + std::to_string(record.error->line) + ":" + std::to_string(record.error->column) + ": " +
             record.error->reason;
    return true;
  }
  if (record.fields.size() != header_fields) {
    reject = file + ":" + std::to_string(record.line) + ": expected " + std::to_string(header_fields) +
             " fields, got " + std::to_string(record.fields.size());
    return true;
  }
  return false;
}

std::string text_cell(std::string_view raw, const std::string& column, std::string& out) {
  const std::string_view cell = trim_cell(raw);
  // Names become topic levels and table cells downstream: bytes a consumer cannot
  // decode or a terminal would obey are refused here, where the row is known.
  if (!valid_utf8(cell)) return column + ": invalid UTF-8";
  if (has_control_characters(cell)) return column + ": " + text_problem(cell);
  if (cell.size() > max_text_bytes) {
    return column + ": " + std::to_string(cell.size()) + " bytes is longer than the limit of " +
           std::to_string(max_text_bytes);
  }
  out.assign(cell);
  return {};
}

}  // namespace plant::sources
