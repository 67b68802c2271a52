// Report-by-exception benchmark: the MQTT payload bytes one hour of polling costs
// per point, every sample against deadband + max_interval, side by side in one run.
//
// The samples go through the agent's own report-by-exception filter and telemetry
// encoder (plant.v1 envelopes, one per publish_interval, as the pipeline seals them);
// the hour is simulated, with time passed in, so the figures are exact and repeatable.
// Printed per scenario: payload bytes and messages per hour, bytes per point per hour,
// and the ratio (goal: at least 30x on constant values with deadband and
// max_interval = "60s").
//   scripts/bench-report
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/encoding/telemetry_batcher.hpp"
#include "agent/sources/report_by_exception.hpp"

namespace {

using namespace std::chrono_literals;
using plant::epoch_ms;
using plant::sample;

struct scenario {
  std::string name;
  std::size_t lines = 0;
  std::size_t stocks = 0;
  bool noisy = false;  ///< stock levels fall slowly and carry sensor noise
};

struct hour_cost {
  std::size_t bytes = 0;
  std::size_t messages = 0;
  std::size_t samples = 0;
};

/// One poll of every point at `now`: a running line with a constant count, stocks
/// constant or (noisy) falling 1 unit per minute with +-0.2 of noise.
std::vector<sample> poll(const scenario& s, epoch_ms now, epoch_ms start) {
  std::vector<sample> out;
  for (std::size_t i = 0; i < s.lines; ++i) {
    sample line;
    line.kind = sample::kind_t::line;
    line.name = "line-" + std::to_string(i + 1);
    line.state = plant::line_state::running;
    line.good_count = 123456;
    line.source_time = line.receive_time = now;
    out.push_back(line);
  }
  for (std::size_t i = 0; i < s.stocks; ++i) {
    sample stock;
    stock.kind = sample::kind_t::stock;
    stock.name = "silo-" + std::to_string(i + 1);
    stock.unit = "t";
    stock.quantity = 1234.5;
    if (s.noisy) {
      const double minutes = static_cast<double>(now - start) / 60000.0;
      // A fixed pseudo-random sequence, so every run prints the same figures.
      const double noise = 0.2 * std::sin(static_cast<double>(now / 1000) * 12.9898 + static_cast<double>(i));
      stock.quantity = 1234.5 - minutes + noise;
    }
    stock.source_time = stock.receive_time = now;
    out.push_back(stock);
  }
  return out;
}

/// One simulated hour, polled every second and sealed every second (the defaults).
hour_cost run_hour(const scenario& s, const plant::sources::report_policy& policy) {
  plant::encoding::telemetry_batcher batcher({"gw-1", "plant-1"});
  plant::sources::exception_filter filter;
  plant::sources::sample_report_rule rule;
  rule.value = rule.good_count = rule.reject_count = policy;
  const auto find_rule = [&](const sample&) { return rule; };
  hour_cost cost;
  const epoch_ms start = 1'800'000'000'000;
  std::uint64_t seq = 1;
  for (epoch_ms now = start; now < start + 3'600'000; now += 1000) {
    for (const sample& x : poll(s, now, start)) {
      if (policy.filters() && !filter.should_report(x, now, find_rule)) continue;
      batcher.add(x, "plc");
      ++cost.samples;
    }
    if (batcher.empty()) continue;  // the pipeline seals nothing when nothing was published
    cost.bytes += batcher.seal(seq++, now).size();
    ++cost.messages;
  }
  return cost;
}

}  // namespace

int main() {
  plant::sources::report_policy every_sample;
  plant::sources::report_policy exception;
  exception.deadband = 0.5;
  exception.max_interval = 60s;
  const std::vector<scenario> scenarios = {
      {"2 points, constant", 1, 1, false},
      {"1,000 points, constant", 0, 1000, false},
      {"100 stocks, falling 1/min with noise", 0, 100, true},
  };
  std::printf("report by exception: one simulated hour, polled and sealed every second; "
              "deadband = 0.5, max_interval = \"60s\" against every sample\n");
  std::printf("%-38s %14s %10s %14s %10s %14s %8s\n", "scenario", "every: bytes", "messages", "rbe: bytes",
              "messages", "rbe B/pt/h", "ratio");
  for (const scenario& s : scenarios) {
    const hour_cost all = run_hour(s, every_sample);
    const hour_cost held = run_hour(s, exception);
    const double points = static_cast<double>(s.lines + s.stocks);
    std::printf("%-38s %14zu %10zu %14zu %10zu %14.0f %7.1fx\n", s.name.c_str(), all.bytes, all.messages, held.bytes,
                held.messages, static_cast<double>(held.bytes) / points,
                static_cast<double>(all.bytes) / static_cast<double>(held.bytes));
  }
  return 0;
}
