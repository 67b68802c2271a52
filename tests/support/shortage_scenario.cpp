#include "tests/support/shortage_scenario.hpp"

#include <gtest/gtest.h>
#include <stdio.h>

#include <algorithm>
#include <cmath>

#include "tests/support/text_files.hpp"

namespace plant::test {

// Hourly readings: 100 kg/h consumption from 10 t with a little sensor noise,
// empty after 100 h, then a delivery at 110 h.
std::string consuming_history(int last_hour) {
  std::string csv = "material,quantity,unit,time\n";
  for (int h = 0; h <= last_hour; ++h) {
    double quantity = h < 110 ? std::max(0.0, 10000.0 - 100.0 * h) : 10000.0 - 100.0 * (h - 110);
    if (quantity > 0) quantity += 4.0 * std::sin(h * 1.7);
    csv += "resin," + std::to_string(quantity) + ",kg," + std::to_string((history_start + h * hour) / 1000) + "\n";
  }
  return csv;
}

// A plant with plenty: steady stock far above its reorder point.
std::string surplus_history() {
  std::string csv = "material,quantity,unit,time\n";
  for (int h = 0; h <= 48; ++h) {
    csv += "resin," + std::to_string(50000.0 + 3.0 * std::sin(h)) + ",kg," +
           std::to_string((history_start + h * hour) / 1000) + "\n";
  }
  return csv;
}

const std::string material_section =
    "[[material]]\nid = \"resin\"\nunit = \"kg\"\nsafety_stock = 500.0\nreorder_point = 5000.0\n"
    "lead_time = \"24h\"\n\n[shortage]\nmargin = \"8h\"\n";

edge::shortage_detector scenario_detector() {
  config::material_config resin;
  resin.id = "resin";
  resin.unit = "kg";
  resin.safety_stock = 500.0;
  resin.reorder_point = 5000.0;
  resin.lead_time = std::chrono::hours(24);
  config::shortage_section section;
  section.margin = std::chrono::hours(8);
  return edge::shortage_detector({resin}, section);
}

std::string csv_section(const std::string& directory) {
  return "[[source.csv]]\nname = \"wms\"\ndirectory = \"" + directory +
         "\"\ntimestamp_column = \"time\"\nunit_column = \"unit\"\ninterval = \"100ms\"\nsettle_time = \"0s\"\n";
}

void drop_file(const temp_dir& dir, const std::string& directory, const std::string& name, const std::string& text) {
  ASSERT_TRUE(write_file(dir.file(name + ".tmp"), text));
  ASSERT_EQ(::rename(dir.file(name + ".tmp").c_str(), (directory + "/" + name).c_str()), 0);
}

}  // namespace plant::test
