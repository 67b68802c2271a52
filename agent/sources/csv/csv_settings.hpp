#pragma once
/// [[source.csv]]: files dropped into a directory (WMS/ERP exports, scales, scripts).
#include <cstdint>
#include <string>

#include "agent/sources/source_settings.hpp"

namespace plant::sources {

/// What happens to a file once its rows are safe: "keep" | "delete" | "move".
enum class csv_after { keep, remove, move };

/// What the rows are: stock levels (samples), the plant's open orders, or its planned demand.
enum class csv_kind { stock, receipts, demand };

struct csv_settings final : source_settings {
  // common.interval is how often the directory is scanned (formerly poll_interval).
  csv_settings() { common.interval = std::chrono::milliseconds(2000); }
  csv_kind kind = csv_kind::stock;
  std::string directory;
  std::string pattern = "*.csv";
  std::string material_column = "material";
  std::string quantity_column = "quantity";
  std::string timestamp_column;               ///< optional: RFC 3339 or epoch seconds
  std::string location_column;
  std::string unit_column;
  std::string due_column = "due";             ///< receipts
  std::string order_column;                   ///< receipts, optional
  std::string supplier_column;                ///< receipts, optional
  std::string from_column = "from";           ///< demand
  std::string to_column = "to";               ///< demand
  char delimiter = ',';
  csv_after after = csv_after::keep;
  std::string move_to;                        ///< after = "move": target directory (default <directory>/done)
  std::chrono::milliseconds settle_time{1000};  ///< a file must be unchanged this long to count as complete
  std::uint64_t max_file_bytes = 64ull << 20;
};

/// The [[source.csv]] section of the schema.
const config::section_spec& csv_schema();

}  // namespace plant::sources
