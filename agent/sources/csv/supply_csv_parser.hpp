#pragma once
/// Receipts and demand CSV files -> supply rows (kind = "receipts" / "demand").
/// Pure, one record at a time like the stock parser: the header, then each row
/// to a supply_row or a located reject ("orders.csv:4: due: 'soon' is not RFC
/// 3339 or epoch seconds").
///   receipts: material, quantity (> 0), due, optional order and supplier
///   demand:   material, quantity (> 0), from, to (to after from)
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/csv/csv_reader.hpp"
#include "agent/sources/supply_snapshot.hpp"

namespace plant::sources {

/// Header names; "" for an optional column means the file has none.
struct supply_csv_columns {
  std::string material = "material";
  std::string quantity = "quantity";
  std::string due = "due";        ///< receipts
  std::string order;              ///< receipts, optional
  std::string supplier;           ///< receipts, optional
  std::string from = "from";      ///< demand
  std::string to = "to";          ///< demand
};

class supply_row_parser {
 public:
  supply_row_parser(std::string display_name, supply_snapshot::kind_t kind, supply_csv_columns columns);
  /// Takes the header record; false with `error` when a column is missing.
  bool take_header(const csv_record& record, std::string& error);
  bool has_header() const { return has_header_; }
  /// One data record: its row, or nothing with `reject` set, or nothing for a blank line.
  std::optional<supply_row> take_row(const csv_record& record, std::string& reject);

 private:
  std::string file_;
  supply_snapshot::kind_t kind_;
  supply_csv_columns columns_;
  std::vector<std::string> header_;
  std::optional<std::size_t> material_, quantity_, due_, order_, supplier_, from_, to_;
  bool has_header_ = false;
};

}  // namespace plant::sources
