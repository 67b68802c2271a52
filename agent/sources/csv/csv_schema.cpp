#include <filesystem>

#include "agent/sources/csv/csv_settings.hpp"
#include "common/config/checks.hpp"

namespace plant::sources {

namespace {

// move_to defaults to <directory>/done; it must not be the directory itself,
// or a moved file would be found again and republished on every scan.
void check_csv(config::table_value& values, config::diagnostic_sink& sink) {
  check_common_source_keys(values, sink);
  // Columns of another kind are a sign of a mix-up: said, not fatal.
  const config::key_value& kind = values.get("kind");
  if (kind.has) {
    // Receipts and demand are snapshots for the shortage detector, never published:
    // report by exception has nothing to hold back there.
    const std::vector<std::string> stock_only{"timestamp_column", "location_column", "unit_column",
                                              "deadband",         "deadband_percent", "max_interval"};
    const std::vector<std::string> receipts_only{"due_column", "order_column", "supplier_column"};
    const std::vector<std::string> demand_only{"from_column", "to_column"};
    std::vector<std::string> foreign;
    if (kind.text != "stock") foreign.insert(foreign.end(), stock_only.begin(), stock_only.end());
    if (kind.text != "receipts") foreign.insert(foreign.end(), receipts_only.begin(), receipts_only.end());
    if (kind.text != "demand") foreign.insert(foreign.end(), demand_only.begin(), demand_only.end());
    for (const auto& key : foreign) {
      const config::key_value& v = values.get(key);
      if (v.present)
        sink.warning(v.key_at, config::path_of(values, key), "ignored for kind = " + config::quote(kind.text));
    }
  }
  const config::key_value& directory = values.get("directory");
  const config::key_value& after = values.get("after");
  config::key_value& move_to = values.get("move_to");
  if (!after.has || !move_to.has) return;
  const bool moving = after.text == "move";
  if (moving && move_to.text.empty() && directory.has) {
    move_to.text = (std::filesystem::path(directory.text) / "done").lexically_normal().string();
  } else if (!moving && move_to.present && !move_to.text.empty()) {
    sink.warning(move_to.key_at, config::path_of(values, "move_to"), "ignored unless after = \"move\"");
  }
  if (moving && directory.has && !move_to.text.empty()) {
    // Compared as the paths will be used, after symlinks in existing parts are resolved.
    std::error_code ec;
    const auto a = std::filesystem::weakly_canonical(directory.text, ec);
    const auto b = std::filesystem::weakly_canonical(move_to.text, ec);
    if (!ec && a == b) {
      sink.error(config::where_written(move_to, values), config::path_of(values, "move_to"),
                 "must not be the watched directory itself (" + config::quote(directory.text) +
                     "): a moved file would be read again on every scan");
    }
  }
}

}  // namespace

const config::section_spec& csv_schema() {
  static const config::section_spec section = [] {
    using config::make_key;
    using config::quoted;
    using config::store;
    using vt = config::value_type;
    config::section_spec s;
    s.name = "source.csv";
    s.help = "CSV files dropped into a directory (e.g. by an ERP export): one stock level per row.";
    s.check = check_csv;
    common_key_spelling spelling;
    spelling.interval_default = quoted("2s");
    spelling.interval_min = "100ms";
    spelling.interval_help = "How often to look for new files.";
    spelling.interval_aliases = {"poll_interval"};
    s.keys = common_source_keys<csv_settings>(spelling, config::check_name);
    s.keys[0].example_value(quoted("csv-1"));
    for (auto key : {
             make_key("kind", vt::choice).def(quoted("stock")).one_of({"stock", "receipts", "demand"})
                 .describe("stock: one stock level per row; receipts: the plant's open orders (material, quantity, "
                           "due, optional order and supplier); demand: planned consumption (material, quantity, from, "
                           "to). A receipts or demand file is a full snapshot: it replaces the previous one.")
                 .stored(store<&csv_settings::kind>).on_reload_restart(),
             make_key("directory", vt::path).req().example_value(quoted("/var/lib/plant-agent/inbox"))
                 .describe("Directory to watch.").stored(store<&csv_settings::directory>),
             make_key("pattern", vt::string).def(quoted("*.csv")).describe("File name pattern (glob).")
                 .stored(store<&csv_settings::pattern>),
             make_key("material_column", vt::string).def(quoted("material"))
                 .describe("Header of the material id column.").stored(store<&csv_settings::material_column>),
             make_key("quantity_column", vt::string).def(quoted("quantity"))
                 .describe("Header of the quantity column.").stored(store<&csv_settings::quantity_column>),
             make_key("timestamp_column", vt::string).def(quoted("")).example_value(quoted("time"))
                 .describe("Header of the time column (RFC 3339 or epoch seconds); \"\" = the file's modification time.")
                 .stored(store<&csv_settings::timestamp_column>),
             make_key("location_column", vt::string).def(quoted("")).example_value(quoted("location"))
                 .describe("Header of the location column; \"\" = none.").stored(store<&csv_settings::location_column>),
             make_key("unit_column", vt::string).def(quoted("")).example_value(quoted("unit"))
                 .describe("Header of the unit column; \"\" = none.").stored(store<&csv_settings::unit_column>),
             make_key("due_column", vt::string).def(quoted("due"))
                 .describe("receipts: header of the due time column (RFC 3339 or epoch seconds).")
                 .stored(store<&csv_settings::due_column>),
             make_key("order_column", vt::string).def(quoted("")).example_value(quoted("po"))
                 .describe("receipts: header of the order (PO, transfer) number column; \"\" = none.")
                 .stored(store<&csv_settings::order_column>),
             make_key("supplier_column", vt::string).def(quoted("")).example_value(quoted("supplier"))
                 .describe("receipts: header of the supplier column; \"\" = none.")
                 .stored(store<&csv_settings::supplier_column>),
             make_key("from_column", vt::string).def(quoted("from"))
                 .describe("demand: header of the column where the planned consumption starts.")
                 .stored(store<&csv_settings::from_column>),
             make_key("to_column", vt::string).def(quoted("to"))
                 .describe("demand: header of the column where it ends (after from).")
                 .stored(store<&csv_settings::to_column>),
             make_key("delimiter", vt::string).def(quoted(",")).checked(config::check_delimiter).allow_control_characters()
                 .describe("Field separator, one character (\"\\t\" for tabs).").stored(store<&csv_settings::delimiter>),
             make_key("after", vt::choice).def(quoted("keep")).one_of({"keep", "delete", "move"})
                 .example_value(quoted("move"))
                 .describe("What to do with a file once its rows are safe (on disk or acknowledged by the broker).")
                 .stored(store<&csv_settings::after>),
             make_key("move_to", vt::path).def(quoted("")).example_value(quoted("/var/lib/plant-agent/inbox/done"))
                 .describe("Target directory when after = \"move\"; \"\" = <directory>/done.")
                 .stored(store<&csv_settings::move_to>),
             make_key("settle_time", vt::duration).def(quoted("1s")).range("0s", "1h")
                 .describe("A file must be unchanged this long before it is read (it may still be written).")
                 .stored(store<&csv_settings::settle_time>),
             make_key("max_file_bytes", vt::size).def(quoted("64MiB"))
                 .describe("Larger files are skipped and reported.").stored(store<&csv_settings::max_file_bytes>),
         })
      s.keys.push_back(std::move(key));
    s.examples = {
        config::example_spec{"",
                             {"name", "interval", "retry_min_delay", "retry_max_delay", "kind", "directory", "pattern",
                              "material_column", "quantity_column", "timestamp_column", "location_column",
                              "unit_column", "delimiter", "after", "move_to", "settle_time", "max_file_bytes"},
                             {},
                             true},
        config::example_spec{"The plant's open orders (an ERP export of purchase orders and transfers):\n"
                             "each file lists every open order and replaces the one before.",
                             {"name", "kind", "directory", "pattern", "material_column", "quantity_column",
                              "due_column", "order_column", "supplier_column", "after"},
                             {{"name", quoted("erp-orders")},
                              {"kind", quoted("receipts")},
                              {"directory", quoted("/var/lib/plant-agent/orders")},
                              {"after", quoted("delete")}},
                             false},
        config::example_spec{"Planned demand (a production plan export): consumption known ahead.",
                             {"name", "kind", "directory", "material_column", "quantity_column", "from_column",
                              "to_column"},
                             {{"name", quoted("mrp-plan")},
                              {"kind", quoted("demand")},
                              {"directory", quoted("/var/lib/plant-agent/plan")}},
                             false},
    };
    return s;
  }();
  return section;
}

}  // namespace plant::sources
