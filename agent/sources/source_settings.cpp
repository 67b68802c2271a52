#include "agent/sources/source_settings.hpp"

#include "common/config/checks.hpp"

namespace plant::sources {

void check_common_source_keys(config::table_value& values, config::diagnostic_sink& sink) {
  config::check_delay_order(values, sink, "retry_min_delay", "retry_max_delay");
}

}  // namespace plant::sources
