#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/sources/simulator/plant_model.hpp"
#include "agent/sources/simulator/seeded_random.hpp"
#include "agent/sources/simulator/simulator_source.hpp"

namespace plant::sources {
namespace {

using std::chrono::milliseconds;

constexpr epoch_ms wall_start = 1'700'000'000'000;

sources::simulator_settings sim_config(std::uint64_t seed = 1, double speed = 1.0) {
  sources::simulator_settings cfg;
  cfg.common.name = "sim";
  cfg.seed = seed;
  cfg.speed = speed;
  return cfg;
}

bool same_except_receive_time(const sample& a, const sample& b) {
  return a.kind == b.kind && a.name == b.name && a.q == b.q && a.source_time == b.source_time &&
         a.state == b.state && a.good_count == b.good_count && a.reject_count == b.reject_count &&
         a.good_rate == b.good_rate && a.quantity == b.quantity && a.unit == b.unit && a.location == b.location;
}

// Index of the first sample that differs, or -1 when both sequences are equal.
long first_difference(const std::vector<sample>& a, const std::vector<sample>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!same_except_receive_time(a[i], b[i])) return static_cast<long>(i);
  }
  return a.size() == b.size() ? -1 : static_cast<long>(n);
}

void append(std::vector<sample>& all, poll_result&& r) {
  ASSERT_FALSE(r.error.has_value());
  ASSERT_TRUE(r.rejects.empty());
  all.insert(all.end(), std::make_move_iterator(r.samples.begin()), std::make_move_iterator(r.samples.end()));
}

model_params minute_ticks(std::uint64_t seed) {
  model_params p;
  p.seed = seed;
  p.tick = std::chrono::minutes{1};
  p.start_time = wall_start;
  return p;
}

bool any_input_empty(const plant_model& m, std::size_t line) {
  for (std::size_t input : m.line_inputs(line)) {
    if (m.true_quantity(input) == 0.0) return true;
  }
  return false;
}

// --- random numbers -----------------------------------------------------------

TEST(seeded_random, splitmix64_matches_the_reference_sequence) {
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(state), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(splitmix64_next(state), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(splitmix64_next(state), 0x06C45D188009454Full);
}

TEST(seeded_random, uniform_stays_in_range_and_covers_it) {
  seeded_random rng(7);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::int64_t v = rng.uniform(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST(seeded_random, threshold53_edges) {
  EXPECT_EQ(threshold53(0.0), 0u);
  EXPECT_EQ(threshold53(-1.0), 0u);
  EXPECT_EQ(threshold53(1.0), 1ull << 53);
  EXPECT_EQ(threshold53(2.0), 1ull << 53);
  EXPECT_EQ(threshold53(0.5), 1ull << 52);
}

// --- the model -----------------------------------------------------------------

TEST(plant_model, names_units_and_topology) {
  model_params p;
  p.lines = 3;
  p.materials = 10;
  plant_model m(p);
  ASSERT_EQ(m.line_count(), 3u);
  EXPECT_EQ(m.line_name(0), "line-1");
  EXPECT_EQ(m.line_name(2), "line-3");
  const std::vector<std::string> names{"steel-coil-1.2", "resin-pellets", "paint-base-ral7035", "cardboard-500",
                                       "screws-m6",      "adhesive-pu",   "label-roll",         "stretch-film",
                                       "material-9",     "material-10"};
  const std::vector<std::string> units{"kg", "kg", "l", "pcs", "pcs", "kg", "pcs", "m", "kg", "kg"};
  ASSERT_EQ(m.material_count(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(m.material_name(i), names[i]);
    EXPECT_EQ(m.material_unit(i), units[i]) << names[i];
    EXPECT_GE(m.material_lines(i).size(), 1u);
    EXPECT_LE(m.material_lines(i).size(), 2u);
    for (std::size_t line : m.material_lines(i)) {
      const auto& inputs = m.line_inputs(line);
      EXPECT_NE(std::find(inputs.begin(), inputs.end(), i), inputs.end()) << names[i];
    }
  }
  for (std::size_t line = 0; line < m.line_count(); ++line) EXPECT_FALSE(m.line_inputs(line).empty());
}

TEST(plant_model, every_line_has_an_input_when_materials_at_least_lines) {
  for (int lines = 1; lines <= 12; ++lines) {
    model_params p;
    p.lines = lines;
    p.materials = lines;
    plant_model m(p);
    for (std::size_t line = 0; line < m.line_count(); ++line) {
      EXPECT_FALSE(m.line_inputs(line).empty()) << lines << " lines, line " << line;
    }
  }
}

TEST(plant_model, emit_layout_lines_then_materials) {
  model_params p;
  p.start_time = wall_start;
  plant_model m(p);
  m.step();
  std::vector<sample> out;
  m.emit(out, wall_start + 5);
  ASSERT_EQ(out.size(), 11u);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const sample& s = out[i];
    EXPECT_EQ(s.kind, i < 3 ? sample::kind_t::line : sample::kind_t::stock);
    EXPECT_EQ(s.q, quality::good);
    EXPECT_EQ(s.source_time, wall_start + 1000);
    EXPECT_EQ(s.receive_time, wall_start + 5);
    if (i >= 3) {
      EXPECT_EQ(s.name, m.material_name(i - 3));
      EXPECT_EQ(s.unit, m.material_unit(i - 3));
      EXPECT_EQ(s.location, "store-1");
      EXPECT_EQ(s.quantity, m.reported_quantity(i - 3));
    } else {
      EXPECT_EQ(s.name, m.line_name(i));
      EXPECT_EQ(s.state, line_state::running);
    }
  }
}

TEST(plant_model, emit_does_not_change_the_plant) {
  plant_model with_emit(minute_ticks(3));
  plant_model without(minute_ticks(3));
  std::vector<sample> out;
  for (int i = 0; i < 2000; ++i) {
    with_emit.step();
    with_emit.emit(out, 0);
    with_emit.emit(out, 0);
    without.step();
  }
  std::vector<sample> a;
  std::vector<sample> b;
  with_emit.emit(a, 0);
  without.emit(b, 0);
  EXPECT_EQ(first_difference(a, b), -1);
}

TEST(plant_model, two_seeds_differ) {
  plant_model a(minute_ticks(1));
  plant_model b(minute_ticks(2));
  std::vector<sample> sa;
  std::vector<sample> sb;
  for (int i = 0; i < 60; ++i) {
    a.step();
    b.step();
    a.emit(sa, 0);
    b.emit(sb, 0);
  }
  ASSERT_EQ(sa.size(), sb.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < sa.size(); ++i) differing += same_except_receive_time(sa[i], sb[i]) ? 0 : 1;
  EXPECT_GT(differing, sa.size() / 2);
}

// A fingerprint of seed 42's first 2000 ticks. It changes whenever the model's
// behaviour changes (update it deliberately then) and must be the same on every
// platform: run this test on arm64/armhf builds too.
TEST(plant_model, golden_fingerprint) {
  model_params p;
  p.seed = 42;
  p.tick = std::chrono::seconds{30};
  p.start_time = wall_start;
  plant_model m(p);
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ull; };
  std::vector<sample> out;
  for (int i = 0; i < 2000; ++i) {
    m.step();
    out.clear();
    m.emit(out, 0);
    for (const sample& s : out) {
      std::uint64_t rate_bits = 0;
      std::uint64_t qty_bits = 0;
      std::memcpy(&rate_bits, &s.good_rate, sizeof rate_bits);
      std::memcpy(&qty_bits, &s.quantity, sizeof qty_bits);
      mix(static_cast<std::uint64_t>(s.source_time));
      mix(static_cast<std::uint64_t>(s.state));
      mix(s.good_count);
      mix(s.reject_count);
      mix(rate_bits);
      mix(qty_bits);
    }
  }
  EXPECT_EQ(h, 0xff7555d6b3794fe1ull) << std::hex << h;
}

TEST(plant_model, lines_are_starved_exactly_while_an_input_is_at_zero) {
  std::uint64_t starved_ticks = 0;
  std::uint64_t running_ticks = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    plant_model m(minute_ticks(seed));
    for (int t = 0; t < 10 * 24 * 60; ++t) {
      m.step();
      for (std::size_t line = 0; line < m.line_count(); ++line) {
        const bool empty = any_input_empty(m, line);
        ASSERT_EQ(m.state(line) == line_state::starved, empty)
            << "seed " << seed << " tick " << m.ticks() << " " << m.line_name(line);
        starved_ticks += empty ? 1 : 0;
        running_ticks += m.state(line) == line_state::running ? 1 : 0;
      }
    }
  }
  // Both sides of the equivalence must have been exercised.
  EXPECT_GT(starved_ticks, 100u);
  EXPECT_GT(running_ticks, 1000u);
}

TEST(plant_model, a_starved_line_makes_no_parts_and_resumes_when_stock_returns) {
  plant_model m(minute_ticks(1));
  bool saw_resume = false;
  std::vector<std::uint64_t> good(m.line_count());
  std::vector<line_state> before(m.line_count(), line_state::running);
  for (int t = 0; t < 30 * 24 * 60; ++t) {
    for (std::size_t line = 0; line < m.line_count(); ++line) good[line] = m.good_count(line);
    m.step();
    for (std::size_t line = 0; line < m.line_count(); ++line) {
      if (before[line] == line_state::starved && m.state(line) == line_state::starved) {
        ASSERT_EQ(m.good_count(line), good[line]) << "tick " << m.ticks();
      }
      if (before[line] == line_state::starved && m.state(line) != line_state::starved) saw_resume = true;
      before[line] = m.state(line);
    }
  }
  EXPECT_TRUE(saw_resume);
}

TEST(plant_model, counters_are_monotonic_and_states_vary) {
  plant_model m(minute_ticks(5));
  std::vector<std::uint64_t> good(m.line_count(), 0);
  std::vector<std::uint64_t> rejects(m.line_count(), 0);
  std::map<line_state, std::uint64_t> seen;
  const int ticks = 20 * 24 * 60;
  for (int t = 0; t < ticks; ++t) {
    m.step();
    for (std::size_t line = 0; line < m.line_count(); ++line) {
      ASSERT_GE(m.good_count(line), good[line]);
      ASSERT_GE(m.reject_count(line), rejects[line]);
      good[line] = m.good_count(line);
      rejects[line] = m.reject_count(line);
      ++seen[m.state(line)];
    }
  }
  for (std::size_t line = 0; line < m.line_count(); ++line) {
    EXPECT_GT(good[line], 100000u);
    EXPECT_GT(rejects[line], 0u);
    EXPECT_LT(rejects[line] * 10, good[line]);  // a small share
  }
  for (line_state s : {line_state::running, line_state::idle, line_state::blocked, line_state::fault,
                       line_state::maintenance}) {
    EXPECT_GT(seen[s], 0u) << to_string(s);
  }
  EXPECT_GT(seen[line_state::running] * 10, static_cast<std::uint64_t>(ticks) * m.line_count() * 7);
}

TEST(plant_model, good_rate_is_positive_only_while_running) {
  plant_model m(minute_ticks(4));
  std::vector<sample> out;
  for (int t = 0; t < 3 * 24 * 60; ++t) {
    m.step();
    out.clear();
    m.emit(out, 0);
    for (std::size_t line = 0; line < m.line_count(); ++line) {
      if (out[line].state == line_state::running) {
        ASSERT_GT(out[line].good_rate, 5.0);
        ASSERT_LT(out[line].good_rate, 60.0);
      } else {
        ASSERT_EQ(out[line].good_rate, 0.0);
      }
    }
  }
}

TEST(plant_model, quantities_are_never_negative_and_noise_is_bounded) {
  model_params p = minute_ticks(6);
  plant_model m(p);
  bool saw_noise = false;
  for (int t = 0; t < 10 * 24 * 60; ++t) {
    m.step();
    for (std::size_t i = 0; i < m.material_count(); ++i) {
      const double truth = m.true_quantity(i);
      const double reported = m.reported_quantity(i);
      ASSERT_GE(truth, 0.0);
      ASSERT_GE(reported, 0.0);
      ASSERT_LE(truth, m.capacity(i));
      ASSERT_LE(std::abs(reported - truth), p.sensor_noise * m.capacity(i) + 0.001) << m.material_name(i);
      if (truth == 0.0) {
        ASSERT_EQ(reported, 0.0);
      }
      saw_noise = saw_noise || reported != truth;
    }
  }
  EXPECT_TRUE(saw_noise);
}

TEST(plant_model, no_noise_when_sensor_noise_is_zero) {
  model_params p = minute_ticks(6);
  p.sensor_noise = 0.0;
  plant_model m(p);
  for (int t = 0; t < 1000; ++t) {
    m.step();
    for (std::size_t i = 0; i < m.material_count(); ++i) ASSERT_EQ(m.reported_quantity(i), m.true_quantity(i));
  }
}

TEST(plant_model, every_material_gets_deliveries) {
  model_params p = minute_ticks(8);
  p.materials = 12;
  plant_model m(p);
  std::vector<double> previous(m.material_count());
  std::vector<int> increases(m.material_count(), 0);
  for (std::size_t i = 0; i < m.material_count(); ++i) previous[i] = m.true_quantity(i);
  for (int t = 0; t < 3 * 24 * 60; ++t) {
    m.step();
    for (std::size_t i = 0; i < m.material_count(); ++i) {
      if (m.true_quantity(i) > previous[i]) ++increases[i];
      previous[i] = m.true_quantity(i);
    }
  }
  for (std::size_t i = 0; i < m.material_count(); ++i) {
    EXPECT_GE(m.deliveries(i), 2u) << m.material_name(i);
    EXPECT_GE(increases[i], 1) << m.material_name(i);
  }
}

TEST(plant_model, stockout_log_matches_the_true_quantities) {
  bool found_late_stockout = false;
  for (std::uint64_t seed = 1; seed <= 4 && !found_late_stockout; ++seed) {
    plant_model m(minute_ticks(seed));
    std::vector<stockout_event> expected;
    std::vector<long> open(m.material_count(), -1);
    for (int t = 0; t < 30 * 24 * 60; ++t) {
      m.step();
      for (std::size_t i = 0; i < m.material_count(); ++i) {
        const bool empty = m.true_quantity(i) == 0.0;
        if (empty && open[i] < 0) {
          open[i] = static_cast<long>(expected.size());
          stockout_event e;
          e.material = i;
          e.zero_at = m.now();
          expected.push_back(e);
        } else if (!empty && open[i] >= 0) {
          expected[static_cast<std::size_t>(open[i])].recovered_at = m.now();
          open[i] = -1;
        }
      }
    }
    ASSERT_EQ(m.stockouts_dropped(), 0u);
    ASSERT_EQ(m.stockouts().size(), expected.size()) << "seed " << seed;
    for (std::size_t k = 0; k < expected.size(); ++k) {
      const stockout_event& got = m.stockouts()[k];
      EXPECT_EQ(got.material, expected[k].material);
      EXPECT_EQ(got.zero_at, expected[k].zero_at);
      EXPECT_EQ(got.recovered_at, expected[k].recovered_at);
      if (got.late_delivery && got.recovered_at) found_late_stockout = true;
    }
  }
  EXPECT_TRUE(found_late_stockout);
}

TEST(plant_model, stockout_log_is_bounded) {
  model_params p = minute_ticks(1);
  p.max_stockout_events = 2;
  plant_model bounded(p);
  plant_model full(minute_ticks(1));
  for (int t = 0; t < 30 * 24 * 60; ++t) {
    bounded.step();
    full.step();
  }
  ASSERT_GT(full.stockouts().size(), 3u);
  ASSERT_EQ(bounded.stockouts().size(), 2u);
  EXPECT_EQ(bounded.stockouts_dropped(), full.stockouts().size() - 2);
  EXPECT_EQ(bounded.stockouts().back().zero_at, full.stockouts().back().zero_at);
  EXPECT_EQ(bounded.stockouts().back().recovered_at, full.stockouts().back().recovered_at);
  EXPECT_EQ(bounded.stockouts().front().zero_at, full.stockouts()[full.stockouts().size() - 2].zero_at);
}

TEST(plant_model, late_deliveries_happen_at_the_configured_share) {
  model_params p = minute_ticks(9);
  p.materials = 20;
  plant_model m(p);
  for (int t = 0; t < 30 * 24 * 60; ++t) m.step();
  std::uint64_t deliveries = 0;
  std::uint64_t late = 0;
  for (std::size_t i = 0; i < m.material_count(); ++i) {
    deliveries += m.deliveries(i);
    late += m.late_deliveries(i);
  }
  ASSERT_GT(deliveries, 1000u);
  const double share = static_cast<double>(late) / static_cast<double>(deliveries);
  EXPECT_GT(share, 0.10);
  EXPECT_LT(share, 0.20);
}

TEST(plant_model, no_late_deliveries_no_stockouts_from_lateness) {
  model_params p = minute_ticks(1);
  p.late_delivery_probability = 0.0;
  plant_model m(p);
  for (int t = 0; t < 30 * 24 * 60; ++t) m.step();
  for (std::size_t i = 0; i < m.material_count(); ++i) EXPECT_EQ(m.late_deliveries(i), 0u);
  for (const stockout_event& e : m.stockouts()) EXPECT_FALSE(e.late_delivery);
}

TEST(plant_model, rejects_parameters_out_of_range_with_the_key) {
  auto message = [](const model_params& p) {
    try {
      plant_model m(p);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  model_params p;
  p.lines = 0;
  EXPECT_EQ(message(p), "lines: must be between 1 and 100000, got 0");
  p = model_params{};
  p.materials = -1;
  EXPECT_EQ(message(p), "materials: must be between 0 and 100000, got -1");
  p = model_params{};
  p.tick = milliseconds{0};
  EXPECT_EQ(message(p), "tick: must be between 1 ms and 24 h, got 0 ms");
  p = model_params{};
  p.delivery_period_min = std::chrono::hours{13};
  EXPECT_EQ(message(p), "delivery_period_min: must not exceed delivery_period_max (46800000 ms > 43200000 ms)");
  p = model_params{};
  p.late_delivery_probability = 1.5;
  EXPECT_EQ(message(p), "late_delivery_probability: must be between 0.000000 and 1.000000, got 1.500000");
}

// --- the source ------------------------------------------------------------------

TEST(simulator_source, kind_name_and_not_blocking) {
  simulator_source src(sim_config(), wall_start);
  EXPECT_EQ(src.kind(), "simulator");
  EXPECT_EQ(src.name(), "sim");
  EXPECT_FALSE(src.blocking());
}

TEST(simulator_source, default_config_gives_eleven_samples_per_tick) {
  simulator_source src(sim_config(), wall_start);
  EXPECT_EQ(src.poll(wall_start + 999).samples.size(), 0u);
  poll_result r = src.poll(wall_start + 1000);
  ASSERT_EQ(r.samples.size(), 11u);
  std::size_t lines = 0;
  for (const sample& s : r.samples) {
    lines += s.kind == sample::kind_t::line ? 1 : 0;
    EXPECT_EQ(s.source_time, wall_start + 1000);
    EXPECT_EQ(s.receive_time, wall_start + 1000);
  }
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(src.poll(wall_start + 3500).samples.size(), 22u);
}

TEST(simulator_source, one_poll_or_many_give_the_same_samples) {
  const epoch_ms hour = 3'600'000;
  std::vector<sample> one;
  {
    // One wall-clock instant an hour in: the per-poll cap splits it, the content may not change.
    simulator_source src(sim_config(11), wall_start);
    do {
      append(one, src.poll(wall_start + hour));
    } while (src.lag() > std::chrono::milliseconds{0});
  }
  ASSERT_EQ(one.size(), 3600u * 11);

  std::vector<sample> per_second;
  {
    simulator_source src(sim_config(11), wall_start);
    for (epoch_ms t = 1000; t <= hour; t += 1000) append(per_second, src.poll(wall_start + t));
  }
  EXPECT_EQ(first_difference(one, per_second), -1);

  std::vector<sample> irregular;
  {
    simulator_source src(sim_config(11), wall_start);
    seeded_random gaps(5);
    epoch_ms t = 0;
    while (t < hour) {
      t = std::min(hour, t + gaps.uniform(1, 7000));
      append(irregular, src.poll(wall_start + t));
    }
  }
  EXPECT_EQ(first_difference(one, irregular), -1);
}

TEST(simulator_source, speed_maps_wall_time_to_plant_time) {
  simulator_source src(sim_config(1, 60.0), wall_start);
  EXPECT_EQ(src.interval(), milliseconds{16});
  poll_result r = src.poll(wall_start + 1000);
  ASSERT_EQ(r.samples.size(), 60u * 11);
  EXPECT_EQ(r.samples.front().source_time, wall_start + 1000);
  EXPECT_EQ(r.samples.back().source_time, wall_start + 60'000);
  EXPECT_EQ(src.plant_time(), wall_start + 60'000);
  EXPECT_EQ(src.lag(), milliseconds{0});

  simulator_source slow(sim_config(1, 0.5), wall_start);
  EXPECT_EQ(slow.interval(), milliseconds{1000});
  EXPECT_EQ(slow.poll(wall_start + 1999).samples.size(), 0u);
  EXPECT_EQ(slow.lag(), milliseconds{999});
  EXPECT_EQ(slow.poll(wall_start + 2000).samples.size(), 11u);
  EXPECT_EQ(slow.plant_time(), wall_start + 1000);

  simulator_source fast(sim_config(1, 1000.0), wall_start);
  EXPECT_EQ(fast.interval(), milliseconds{5});
}

TEST(simulator_source, a_wall_clock_stepping_back_does_not_rewind_the_plant) {
  simulator_source src(sim_config(), wall_start);
  EXPECT_EQ(src.poll(wall_start + 10'000).samples.size(), 110u);
  EXPECT_EQ(src.poll(wall_start + 5'000).samples.size(), 0u);
  EXPECT_EQ(src.poll(wall_start - 5'000).samples.size(), 0u);
  EXPECT_EQ(src.plant_time(), wall_start + 10'000);
  EXPECT_EQ(src.poll(wall_start + 11'000).samples.size(), 11u);
}

TEST(simulator_source, a_poll_is_capped_and_the_rest_follows) {
  // Speed 3600 for 10 s of wall time: 36000 plant ticks of 11 samples.
  simulator_source src(sim_config(2, 3600.0), wall_start);
  const epoch_ms now = wall_start + 10'000;
  const std::size_t cap_ticks = simulator_source::max_samples_per_poll / 11;

  std::vector<sample> all;
  poll_result first = src.poll(now);
  EXPECT_EQ(first.samples.size(), cap_ticks * 11);
  EXPECT_EQ(src.capped_polls(), 1u);
  EXPECT_EQ(src.lag(), milliseconds{(36000 - static_cast<std::int64_t>(cap_ticks)) * 1000});
  append(all, std::move(first));

  // Catching up takes as many polls as the cap demands, none over it.
  std::size_t polls = 1;
  while (src.lag() > milliseconds{0}) {
    poll_result next = src.poll(now);
    ASSERT_LE(next.samples.size(), cap_ticks * 11);
    ASSERT_FALSE(next.samples.empty());
    append(all, std::move(next));
    ASSERT_LT(++polls, 100u);
  }
  EXPECT_EQ(polls, (36000 + cap_ticks - 1) / cap_ticks);
  EXPECT_EQ(all.size(), 36000u * 11);
  EXPECT_EQ(src.poll(now).samples.size(), 0u);

  model_params p;
  p.seed = 2;
  p.start_time = wall_start;
  plant_model reference(p);
  std::vector<sample> expected;
  for (int t = 0; t < 36000; ++t) {
    reference.step();
    reference.emit(expected, now);
  }
  EXPECT_EQ(first_difference(all, expected), -1);
}

TEST(simulator_source, unthrottled_polls_emit_a_fixed_batch) {
  simulator_source src(sim_config(3, 0.0), wall_start);
  EXPECT_EQ(src.interval(), milliseconds{0});
  const std::size_t ticks = simulator_source::unthrottled_samples_per_poll / 11;
  poll_result a = src.poll(wall_start);
  ASSERT_EQ(a.samples.size(), ticks * 11);
  poll_result b = src.poll(wall_start);
  ASSERT_EQ(b.samples.size(), ticks * 11);
  EXPECT_EQ(b.samples.front().source_time, wall_start + static_cast<epoch_ms>(ticks + 1) * 1000);
  EXPECT_EQ(src.plant_time(), wall_start + static_cast<epoch_ms>(2 * ticks) * 1000);
  EXPECT_EQ(src.lag(), milliseconds{0});
}

TEST(simulator_source, a_huge_plant_still_advances_one_tick_per_poll) {
  sources::simulator_settings cfg = sim_config(1, 0.0);
  cfg.lines = 15000;
  cfg.materials = 15000;
  simulator_source src(cfg, wall_start);
  EXPECT_EQ(src.poll(wall_start).samples.size(), 30000u);
}

TEST(simulator_source, config_errors_name_the_source_and_key) {
  auto message = [](const sources::simulator_settings& cfg) {
    try {
      simulator_source src(cfg, wall_start);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  sources::simulator_settings cfg = sim_config();
  cfg.lines = 0;
  EXPECT_EQ(message(cfg), "simulator source \"sim\": lines: must be between 1 and 100000, got 0");
  cfg = sim_config();
  cfg.speed = -1.0;
  EXPECT_EQ(message(cfg), "simulator source \"sim\": speed: must be 0 or a positive number, got -1.000000");
  cfg = sim_config();
  cfg.common.interval = milliseconds{0};
  EXPECT_EQ(message(cfg), "simulator source \"sim\": interval: must be between 1 ms and 24 h, got 0 ms");
}


TEST(simulator_source, receipts_hands_on_the_open_orders_at_the_start_and_when_a_lot_arrives) {
  auto cfg = sim_config(3, 0.0);  // unthrottled: a day of plant time in a few polls
  cfg.receipts = true;
  simulator_source src(cfg, wall_start);
  const auto first = src.poll(wall_start);
  ASSERT_EQ(first.supplies.size(), 1u);
  const auto& orders = first.supplies[0];
  EXPECT_EQ(orders.kind, supply_snapshot::kind_t::receipts);
  ASSERT_EQ(orders.rows.size(), 2 * src.model().material_count()) << "the next two lots of each material";
  EXPECT_EQ(orders.rows[0].material, src.model().material_name(0));
  EXPECT_DOUBLE_EQ(orders.rows[0].quantity, src.model().lot_size(0));
  EXPECT_EQ(orders.rows[1].due - orders.rows[0].due, src.model().delivery_period(0).count());
  std::uint64_t deliveries = 0, snapshots = 0;
  for (int i = 0; i < 50; ++i) {
    const std::uint64_t before = src.model().deliveries(0);
    const auto r = src.poll(wall_start + i);
    snapshots += r.supplies.size();
    deliveries += src.model().deliveries(0) - before;
  }
  EXPECT_GT(deliveries, 0u);
  EXPECT_GE(snapshots, 1u) << "a lot arrived: the schedule moved on";
  EXPECT_LT(snapshots, 50u) << "not every poll: only changes";
  simulator_source quiet(sim_config(3, 0.0), wall_start);
  EXPECT_TRUE(quiet.poll(wall_start).supplies.empty()) << "off by default";
}

}  // namespace
}  // namespace plant::sources
