#include "agent/sources/simulator/simulator_settings.hpp"

#include "common/config/checks.hpp"

namespace plant::sources {

const config::section_spec& simulator_schema() {
  static const config::section_spec section = [] {
    using config::make_key;
    using config::quoted;
    using config::store;
    using vt = config::value_type;
    config::section_spec s;
    s.name = "source.simulator";
    s.help = "A simulated plant: lines that run, stop and fail, and materials they consume.";
    s.check = check_common_source_keys;
    common_key_spelling spelling;
    spelling.interval_min = "1ms";
    spelling.interval_help = "Time between samples, in plant time (the poll period is this divided by speed).";
    spelling.interval_aliases = {"sample_interval"};
    s.keys = common_source_keys<simulator_settings>(spelling, config::check_name);
    s.keys[0].example_value(quoted("sim-1"));
    for (auto key : {
             make_key("seed", vt::integer).def("1").range("0", "")
                 .describe("Random seed; the same seed gives the same plant.").stored(store<&simulator_settings::seed>),
             make_key("lines", vt::integer).def("3").range("1", "10000")
                 .describe("Number of simulated lines.").stored(store<&simulator_settings::lines>),
             make_key("materials", vt::integer).def("8").range("0", "100000")
                 .describe("Number of simulated materials.").stored(store<&simulator_settings::materials>),
             make_key("speed", vt::number).def("1.0").range("0", "1e9")
                 .describe("Plant seconds per wall-clock second; 0 = as fast as publishing drains.")
                 .stored(store<&simulator_settings::speed>),
             make_key("receipts", vt::boolean).def("false")
                 .describe("Also hand the shortage detector the plant's open orders (the next two lots of each "
                           "material, a late one past its due time), as a CSV source of kind receipts would.")
                 .stored(store<&simulator_settings::receipts>),
         })
      s.keys.push_back(std::move(key));
    return s;
  }();
  return section;
}

}  // namespace plant::sources
