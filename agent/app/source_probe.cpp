#include "agent/app/source_probe.hpp"

#include <cstdio>

#include "agent/sources/polled_source.hpp"
#include "agent/sources/source_registry.hpp"

namespace plant::app {

int probe_source(const config::agent_config& config, const std::string& source_name) {
  auto made = sources::make_sources(config.sources, sources::source_context{config.agent.state_dir, wall_clock_ms()});
  for (auto& source : made) {
    if (source->name() != source_name) continue;
    auto result = source->poll(wall_clock_ms());
    for (const auto& detail : source->probe_details()) std::printf("%s\n", detail.c_str());
    for (const auto& s : result.samples) {
      if (s.kind == sample::kind_t::line) {
        std::printf("line %-20s state=%s good=%llu reject=%llu quality=%s\n", s.name.c_str(),
                    std::string(to_string(s.state)).c_str(), static_cast<unsigned long long>(s.good_count),
                    static_cast<unsigned long long>(s.reject_count), std::string(to_string(s.q)).c_str());
      } else {
        std::printf("stock %-19s quantity=%g %s quality=%s\n", s.name.c_str(), s.quantity, s.unit.c_str(),
                    std::string(to_string(s.q)).c_str());
      }
    }
    for (const auto& reject : result.rejects) std::printf("rejected: %s\n", reject.c_str());
    if (result.error) {
      std::fprintf(stderr, "plant-agent: probe %s: %s\n", source_name.c_str(), result.error->c_str());
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "plant-agent: --probe: no source named '%s' in the configuration\n", source_name.c_str());
  return 1;
}

}  // namespace plant::app
