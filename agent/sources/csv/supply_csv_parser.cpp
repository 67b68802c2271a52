#include "agent/sources/csv/supply_csv_parser.hpp"

#include "agent/sources/csv/csv_row_checks.hpp"
#include "agent/sources/csv/stock_csv_parser.hpp"

namespace plant::sources {

supply_row_parser::supply_row_parser(std::string display_name, supply_snapshot::kind_t kind, supply_csv_columns columns)
    : file_(std::move(display_name)), kind_(kind), columns_(std::move(columns)) {}

bool supply_row_parser::take_header(const csv_record& record, std::string& error) {
  const bool receipts = kind_ == supply_snapshot::kind_t::receipts;
  std::vector<column_slot> slots{{&columns_.material, &material_, true}, {&columns_.quantity, &quantity_, true}};
  if (receipts) {
    slots.push_back({&columns_.due, &due_, true});
    slots.push_back({&columns_.order, &order_, false});
    slots.push_back({&columns_.supplier, &supplier_, false});
  } else {
    slots.push_back({&columns_.from, &from_, true});
    slots.push_back({&columns_.to, &to_, true});
  }
  has_header_ = find_columns(record, file_, slots, header_, error);
  return has_header_;
}

std::optional<supply_row> supply_row_parser::take_row(const csv_record& record, std::string& reject) {
  reject.clear();
  if (record.blank) return std::nullopt;
  if (unusable_record(record, header_.size(), file_, reject)) return std::nullopt;
  const std::string where = file_ + ":" + std::to_string(record.line) + ": ";
  supply_row row;
  std::string problem = text_cell(record.fields[*material_], columns_.material, row.material);
  if (problem.empty() && row.material.empty()) problem = columns_.material + ": empty";
  if (!problem.empty()) {
    reject = where + problem;
    return std::nullopt;
  }
  const std::string_view quantity = trim_cell(record.fields[*quantity_]);
  if (!parse_csv_number(quantity, row.quantity)) {
    reject = where + columns_.quantity + ": " + (quantity.empty() ? std::string("empty") : quoted_cell(quantity) + " is not a number");
    return std::nullopt;
  }
  if (!(row.quantity > 0.0)) {
    reject = where + columns_.quantity + ": " + quoted_cell(quantity) + " must be above 0";
    return std::nullopt;
  }
  auto time_cell = [&](const std::optional<std::size_t>& index, const std::string& column, epoch_ms& out) {
    const std::string_view cell = trim_cell(record.fields[*index]);
    if (cell.empty()) {
      reject = where + column + ": empty";
      return false;
    }
    if (!parse_timestamp(cell, out)) {
      reject = where + column + ": " + quoted_cell(cell) + " is not RFC 3339 or epoch seconds";
      return false;
    }
    return true;
  };
  if (kind_ == supply_snapshot::kind_t::receipts) {
    if (!time_cell(due_, columns_.due, row.due)) return std::nullopt;
    for (const auto& [index, column, target] : {std::tuple{order_, &columns_.order, &row.order},
                                                std::tuple{supplier_, &columns_.supplier, &row.supplier}}) {
      if (!index) continue;
      problem = text_cell(record.fields[*index], *column, *target);
      if (!problem.empty()) {
        reject = where + problem;
        return std::nullopt;
      }
    }
  } else {
    if (!time_cell(from_, columns_.from, row.from) || !time_cell(to_, columns_.to, row.to)) return std::nullopt;
    if (row.to <= row.from) {
      reject = where + columns_.to + ": is not after " + columns_.from;
      return std::nullopt;
    }
  }
  return row;
}

}  // namespace plant::sources
