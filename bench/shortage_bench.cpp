// Shortage benchmark: seeded plants (agent/sources/simulator/plant_model) run at
// full speed, their samples fed to the edge shortage_detector and to a fixed
// reorder-point baseline, both scored against the model's ground truth (true
// quantities, deliveries and stockout events). No MQTT and no clocks in the
// measured path: everything runs in plant time and a run is reproducible.
//
//   shortage_bench [--seeds report|tuning] [--seed-count N] [--weeks W] [--scenario NAME] [--explain]
//
// --explain prints one line per missed stockout, per false alert and per flap of
// the detector, with what it saw at the time: the tool the estimator was tuned with.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/config/agent_config.hpp"
#include "common/core/sample.hpp"
#include "agent/edge/shortage_detector.hpp"
#include "agent/sources/simulator/plant_model.hpp"
#include "agent/sources/simulator/seeded_random.hpp"

namespace {

using namespace std::chrono_literals;
using plant::epoch_ms;
using plant::sample;
using plant::edge::stock_status;
using plant::sources::model_params;
using plant::sources::plant_model;

constexpr double ms_per_hour = 3'600'000.0;
constexpr epoch_ms ms_per_day = 24 * 3'600'000LL;
constexpr epoch_ms start_time = 1'767'225'600'000LL;  // 2026-01-01T00:00:00Z
constexpr epoch_ms warm_up = 7 * ms_per_day;          // initial stock and first delivery: not scored
constexpr double slack_share = 0.25;                  // of lead + margin, see print_definitions()

// Tuning looked at the first set only; the table in the report uses the second.
constexpr std::uint64_t tuning_seed_base = 101;
constexpr std::uint64_t report_seed_base = 1001;

struct sensor_faults {
  bool enabled = false;
  double dropouts_per_hour = 0.02;  // per material: its readings stop for 1-8 h
  double glitch_share = 0.002;      // single readings at 0 or 2x, quality good
  double bad_share = 0.005;         // readings marked bad, value garbage
  double duplicate_share = 0.002;   // a reading sent again with the same time and half the value
};

struct scenario {
  std::string name;
  std::string what;
  std::function<void(model_params&)> tweak;
  sensor_faults faults{};
};

// Every scenario: 4 lines, 12 materials, deliveries every 4-7 days, 30 % of them
// late (half of those by 0.8-2 periods, which is what empties a store).
void base_plant(model_params& p) {
  p.lines = 4;
  p.materials = 12;
  p.tick = 60s;
  p.delivery_period_min = 96h;
  p.delivery_period_max = 168h;
  p.late_delivery_probability = 0.3;
  p.severe_late_share = 0.5;
}

std::vector<scenario> scenarios() {
  std::vector<scenario> list;
  list.push_back({"steady", "constant feed rates, no bursts", [](model_params& p) {
                    base_plant(p);
                    p.rate_changes_per_hour = 0.0;
                    p.bursts_per_hour = 0.0;
                  }});
  list.push_back({"bursts", "3x bursts of 20-60 min, 0.1/h per feed", [](model_params& p) {
                    base_plant(p);
                    p.bursts_per_hour = 0.1;
                    p.burst_factor = 3.0;
                    p.burst_duration = 40min;
                  }});
  list.push_back({"rate-shifts", "feed levels jump within 0.5-1.5x nominal, ~every 20 h", [](model_params& p) {
                    base_plant(p);
                    p.rate_changes_per_hour = 0.05;
                    p.rate_change_range = 0.5;
                  }});
  list.push_back({"demand-regimes", "feed levels jump within 0.4-1.6x nominal, ~every 4 days", [](model_params& p) {
                    base_plant(p);
                    p.rate_changes_per_hour = 0.01;
                    p.rate_change_range = 0.6;
                  }});
  list.push_back({"late-deliveries", "50 % of deliveries late, 70 % of those by 0.8-2 periods", [](model_params& p) {
                    base_plant(p);
                    p.late_delivery_probability = 0.5;
                    p.severe_late_share = 0.7;
                  }});
  list.push_back({"noisy-sensor", "reading noise +-3 % of capacity (15x the default)", [](model_params& p) {
                    base_plant(p);
                    p.sensor_noise = 0.03;
                  }});
  list.push_back({"lines-stopping", "faults 0.3/h for 0.5-4 h, idles 0.1/h for 1-12 h, 1-3 h maintenance daily",
                  [](model_params& p) {
                    base_plant(p);
                    p.faults_per_hour = 0.3;
                    p.repair_min = 30min;
                    p.repair_max = 4h;
                    p.idles_per_hour = 0.1;
                    p.idle_min = 1h;
                    p.idle_max = 12h;
                    p.maintenance_min = 1h;
                    p.maintenance_max = 3h;
                  }});
  sensor_faults faults;
  faults.enabled = true;
  list.push_back({"sensor-faults", "dropouts of 1-8 h (0.02/h), 0.2 % glitches, bad-quality and duplicate readings",
                  [](model_params& p) { base_plant(p); }, faults});
  list.push_back({"wms-15min", "readings (and line states) every 15 min, as from a WMS export", [](model_params& p) {
                    base_plant(p);
                    p.tick = 15min;
                  }});
  return list;
}

// One method's episodes of one material: raise .. clear.
struct episode {
  epoch_ms raised = 0;
  epoch_ms cleared = 0;  // 0 = still open at the end
};

struct score {
  double material_days = 0.0;
  int stockouts = 0;
  int warned = 0;               // the stockout's episode was raised >= L before it
  std::vector<double> leads_h;  // per stockout; 0 when no episode contained it
  int judged = 0;               // raises in the scored window
  int no_stockout = 0;          // the brief's literal definition of a false alert
  int false_alerts = 0;         // of those, not ended by a late delivery
  int unjust = 0;               // of those, the claim was wrong even without any delivery
  int flaps = 0;

  void add(const score& o) {
    material_days += o.material_days;
    stockouts += o.stockouts;
    warned += o.warned;
    leads_h.insert(leads_h.end(), o.leads_h.begin(), o.leads_h.end());
    judged += o.judged;
    no_stockout += o.no_stockout;
    false_alerts += o.false_alerts;
    unjust += o.unjust;
    flaps += o.flaps;
  }
  double warned_share() const { return stockouts > 0 ? static_cast<double>(warned) / stockouts : 1.0; }
  double per_100d(int count) const { return 100.0 * count / std::max(1.0, material_days); }
};

// Ground truth of one material, per tick.
struct material_truth {
  std::string name;
  epoch_ms lead = 0;
  epoch_ms margin = 0;
  std::vector<double> true_qty;      // after each tick
  std::vector<double> used;          // cumulative consumption
  std::vector<epoch_ms> deliveries;  // times of delivery ticks
  std::vector<bool> late;            // per delivery: after its scheduled time
  std::vector<epoch_ms> stockouts;   // zero_at of each stockout
};

// What the detector showed at each tick, for --explain.
struct trace_point {
  float level = 0.0f;
  float rate = 0.0f;
  stock_status status = stock_status::unknown;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double days_of(epoch_ms at) { return static_cast<double>(at - start_time) / static_cast<double>(ms_per_day); }

struct explain_context {
  bool on = false;
  const char* scenario = "";
  std::uint64_t seed = 0;
  const std::vector<trace_point>* trace = nullptr;
};

// Scores one material's episodes; print_definitions() states the rules.
void score_material(const material_truth& t, const std::vector<episode>& episodes, epoch_ms end, epoch_ms tick_ms,
                    score& s, const explain_context& why) {
  const epoch_ms scored_from = start_time + warm_up;
  s.material_days += static_cast<double>(end - scored_from) / static_cast<double>(ms_per_day);
  const epoch_ms horizon = t.lead + t.margin;
  const auto slack = static_cast<epoch_ms>(slack_share * static_cast<double>(horizon));
  auto tick_of = [&](epoch_ms at) {
    const epoch_ms k = (at - start_time) / tick_ms - 1;
    return static_cast<std::size_t>(std::clamp<epoch_ms>(k, 0, static_cast<epoch_ms>(t.true_qty.size()) - 1));
  };
  auto seen = [&](epoch_ms at) {
    if (why.trace == nullptr || why.trace->empty()) return std::string();
    const trace_point& p = (*why.trace)[tick_of(at)];
    char text[160];
    std::snprintf(text, sizeof text, "detector: %s level %.1f rate %.2f/h (%.1f h left); true %.1f",
                  std::string(plant::edge::to_string(p.status)).c_str(), p.level, p.rate,
                  p.rate > 0 ? p.level / p.rate : -1.0, t.true_qty[tick_of(at)]);
    return std::string(text);
  };

  for (epoch_ms zero_at : t.stockouts) {
    if (zero_at < scored_from + t.lead) continue;
    ++s.stockouts;
    double lead_h = 0.0;
    for (const episode& e : episodes) {
      if (e.raised <= zero_at && (e.cleared == 0 || e.cleared > zero_at)) {
        lead_h = static_cast<double>(zero_at - e.raised) / ms_per_hour;
        break;
      }
    }
    s.leads_h.push_back(lead_h);
    if (lead_h * ms_per_hour >= static_cast<double>(t.lead)) {
      ++s.warned;
    } else if (why.on) {
      std::printf("MISS  %s seed %llu %s L %.0f h: stockout day %.2f, warned %.1f h ahead; at L before: %s\n",
                  why.scenario, static_cast<unsigned long long>(why.seed), t.name.c_str(), t.lead / ms_per_hour,
                  days_of(zero_at), lead_h, seen(zero_at - t.lead).c_str());
    }
  }

  for (const episode& e : episodes) {
    if (e.raised < scored_from || e.raised + horizon + slack > end) continue;
    ++s.judged;
    const epoch_ms until = std::min(e.cleared == 0 ? end : e.cleared, e.raised + horizon + slack);
    bool stockout = false;
    for (epoch_ms zero_at : t.stockouts) stockout = stockout || (zero_at >= e.raised && zero_at <= until);
    if (stockout) continue;
    ++s.no_stockout;
    bool rescued = false;
    for (std::size_t d = 0; d < t.deliveries.size(); ++d) {
      if (t.deliveries[d] >= e.raised && t.deliveries[d] <= until) {
        rescued = t.late[d];
        break;
      }
    }
    const std::size_t k0 = tick_of(e.raised);
    const std::size_t k1 = tick_of(e.raised + horizon + slack);
    const bool claim_wrong = t.used[k1] - t.used[k0] < t.true_qty[k0];
    if (claim_wrong) ++s.unjust;
    if (rescued) continue;
    ++s.false_alerts;
    if (why.on) {
      std::printf("FALSE %s seed %llu %s L %.0f h: raised day %.2f for %.1f h, used %.1f of %.1f in L+M+slack; %s\n",
                  why.scenario, static_cast<unsigned long long>(why.seed), t.name.c_str(), t.lead / ms_per_hour,
                  days_of(e.raised), static_cast<double>((e.cleared == 0 ? end : e.cleared) - e.raised) / ms_per_hour,
                  t.used[k1] - t.used[k0], t.true_qty[k0], seen(e.raised).c_str());
    }
  }

  // Stock only falls between two deliveries, so one shortage can only be raised once there.
  std::size_t d = 0;
  int raises = 0;
  for (const episode& e : episodes) {
    while (d < t.deliveries.size() && t.deliveries[d] <= e.raised) {
      ++d;
      raises = 0;
    }
    if (e.raised < scored_from) continue;
    if (++raises > 1) {
      ++s.flaps;
      if (why.on) {
        std::printf("FLAP  %s seed %llu %s: raise #%d since the last delivery, day %.2f; %s\n", why.scenario,
                    static_cast<unsigned long long>(why.seed), t.name.c_str(), raises, days_of(e.raised),
                    seen(e.raised).c_str());
      }
    }
  }
}

struct run_result {
  score detector;
  score supply;  // the same detector, also told the plant's open orders
  score baseline;
  std::uint64_t samples = 0;
};

run_result run_one(const scenario& sc, std::uint64_t seed, int weeks, bool explain) {
  model_params p;
  sc.tweak(p);
  p.seed = seed;
  p.start_time = start_time;
  plant_model model(p);
  const std::size_t materials = model.material_count();

  plant::config::shortage_section section;  // the defaults: margin 8 h, rate half-life 2 h
  std::vector<plant::config::material_config> configs;
  std::vector<material_truth> truth(materials);
  std::vector<double> reorder_points(materials);
  std::unordered_map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < materials; ++i) {
    plant::config::material_config c;
    c.id = model.material_name(i);
    c.unit = model.material_unit(i);
    c.lead_time = std::chrono::hours{24 + static_cast<int>(plant::sources::mix64(seed * 1'000'003ULL + i) % 25)};
    c.safety_stock = model.nominal_rate_per_hour(i) * 6.0;
    for (std::size_t line : model.material_lines(i)) c.lines.push_back(model.line_name(line));
    // As an ERP sets it: nominal use over the lead time plus the safety stock.
    reorder_points[i] =
        model.nominal_rate_per_hour(i) * static_cast<double>(c.lead_time.count()) / ms_per_hour + c.safety_stock;
    truth[i].name = c.id;
    truth[i].lead = c.lead_time.count();
    truth[i].margin = section.margin.count();
    index_of[c.id] = i;
    configs.push_back(c);
  }
  plant::edge::shortage_detector detector(configs, section);
  plant::edge::shortage_detector aware(configs, section);  // plus the open orders

  std::vector<std::vector<episode>> ours(materials), supplied(materials), base(materials);
  std::vector<bool> base_open(materials, false);
  std::vector<std::uint64_t> deliveries(materials, 0), late_deliveries(materials, 0);
  std::vector<double> previous_qty(materials);
  for (std::size_t i = 0; i < materials; ++i) previous_qty[i] = model.true_quantity(i);
  std::vector<std::vector<trace_point>> traces(materials);

  // Sensor faults draw from the bench's own stream, so the plant is the same as without them.
  plant::sources::seeded_random faults(seed ^ 0xFA017ULL);
  std::vector<epoch_ms> dropout_until(materials, 0);
  const double tick_h = static_cast<double>(p.tick.count()) / ms_per_hour;
  auto chance = [&](double probability) { return static_cast<double>(faults.next() >> 11) * 0x1.0p-53 < probability; };

  const std::uint64_t ticks = static_cast<std::uint64_t>(weeks) * 7 * static_cast<std::uint64_t>(ms_per_day) /
                              static_cast<std::uint64_t>(p.tick.count());
  for (auto& t : truth) {
    t.true_qty.reserve(ticks);
    t.used.reserve(ticks);
  }
  std::vector<sample> batch;
  std::vector<plant::edge::shortage_alert> alerts, aware_alerts;
  // Both detectors see exactly the same readings, faults included.
  auto observe = [&](const sample& s) {
    detector.observe(s, alerts);
    aware.observe(s, aware_alerts);
  };
  std::vector<std::uint64_t> ordered_after(materials, ~0ULL);
  run_result result;
  for (std::uint64_t k = 0; k < ticks; ++k) {
    model.step();
    const epoch_ms now = model.now();
    alerts.clear();
    aware_alerts.clear();
    // The ERP's open orders: a new snapshot whenever a lot arrived (the schedule moved on).
    bool orders_changed = false;
    for (std::size_t i = 0; i < materials; ++i) orders_changed = orders_changed || ordered_after[i] != model.deliveries(i);
    if (orders_changed) {
      plant::sources::supply_snapshot orders;
      orders.kind = plant::sources::supply_snapshot::kind_t::receipts;
      for (std::size_t i = 0; i < materials; ++i) {
        ordered_after[i] = model.deliveries(i);
        for (const auto& o : model.open_orders(i)) {
          plant::sources::supply_row row;
          row.material = model.material_name(i);
          row.quantity = o.quantity;
          row.due = o.due;
          orders.rows.push_back(std::move(row));
        }
      }
      aware.observe_supply(orders, "erp", aware_alerts);
    }
    for (std::size_t i = 0; i < materials; ++i) {
      material_truth& t = truth[i];
      const double q = model.true_quantity(i);
      const bool delivered = model.deliveries(i) != deliveries[i];
      if (delivered) {
        deliveries[i] = model.deliveries(i);
        t.deliveries.push_back(now);
        t.late.push_back(model.late_deliveries(i) != late_deliveries[i]);
        late_deliveries[i] = model.late_deliveries(i);
      }
      // A delivery tick hides that tick's use; one tick of it does not matter here.
      const double use = delivered ? 0.0 : std::max(0.0, previous_qty[i] - q);
      t.used.push_back((t.used.empty() ? 0.0 : t.used.back()) + use);
      t.true_qty.push_back(q);
      previous_qty[i] = q;
    }

    batch.clear();
    model.emit(batch, now);
    for (const sample& s : batch) {
      if (s.kind == sample::kind_t::stock) {
        const std::size_t i = index_of[s.name];
        // The baseline reads what the store reports, as an ERP would.
        const bool below = s.quantity < reorder_points[i];
        if (below && !base_open[i]) base[i].push_back({now, 0});
        if (!below && base_open[i]) base[i].back().cleared = now;
        base_open[i] = below;
        if (sc.faults.enabled) {
          if (dropout_until[i] > now) continue;
          if (chance(sc.faults.dropouts_per_hour * tick_h)) {
            dropout_until[i] = now + 3'600'000 + static_cast<epoch_ms>(faults.next() % (7 * 3'600'000ULL));
            continue;
          }
          if (chance(sc.faults.bad_share)) {
            sample bad = s;
            bad.q = plant::quality::bad;
            bad.quantity = -1e9;
            observe(bad);
            ++result.samples;
            continue;
          }
          if (chance(sc.faults.glitch_share)) {
            sample glitch = s;
            glitch.quantity = (faults.next() & 1) != 0 ? 0.0 : 2.0 * s.quantity;
            observe(glitch);
            ++result.samples;
            continue;
          }
          if (chance(sc.faults.duplicate_share)) {
            observe(s);
            sample again = s;
            again.quantity = 0.5 * s.quantity;
            observe(again);
            result.samples += 2;
            continue;
          }
        }
      }
      observe(s);
      ++result.samples;
    }
    for (auto [list, episodes] : {std::pair{&alerts, &ours}, std::pair{&aware_alerts, &supplied}}) {
      for (const auto& a : *list) {
        const std::size_t i = index_of[a.material.material];
        const bool quiet_before = a.previous == stock_status::ok || a.previous == stock_status::unknown;
        if (quiet_before && !a.cleared) (*episodes)[i].push_back({a.material.at, 0});
        if (a.cleared && !(*episodes)[i].empty()) (*episodes)[i].back().cleared = a.material.at;
      }
    }
    if (explain) {
      for (std::size_t i = 0; i < materials; ++i) {
        const auto status = detector.status(truth[i].name);
        traces[i].push_back({static_cast<float>(detector.estimator(truth[i].name)->estimate().level),
                             static_cast<float>(status->rate), status->status});
      }
    }
  }
  const epoch_ms end = model.now();
  for (const auto& event : model.stockouts()) truth[event.material].stockouts.push_back(event.zero_at);
  for (std::size_t i = 0; i < materials; ++i) {
    score_material(truth[i], ours[i], end, p.tick.count(), result.detector,
                   explain_context{explain, sc.name.c_str(), seed, &traces[i]});
    score_material(truth[i], supplied[i], end, p.tick.count(), result.supply, explain_context{});
    score_material(truth[i], base[i], end, p.tick.count(), result.baseline, explain_context{});
  }
  return result;
}

void print_header() {
  std::printf("%-16s %-9s %6s %9s %9s %10s %12s %10s %11s %6s\n", "scenario", "method", "mat-wk", "stockouts",
              "warned>=L", "med.lead-h", "nostock/100d", "false/100d", "unjust/100d", "flaps");
}

void print_row(const std::string& name, const char* method, const score& s) {
  char warned[32];
  std::snprintf(warned, sizeof warned, "%.1f%%", 100.0 * s.warned_share());
  std::printf("%-16s %-9s %6.0f %9d %9s %10.1f %12.2f %10.2f %11.2f %6d\n", name.c_str(), method, s.material_days / 7.0,
              s.stockouts, warned, median(s.leads_h), s.per_100d(s.no_stockout), s.per_100d(s.false_alerts),
              s.per_100d(s.unjust), s.flaps);
}

void print_definitions() {
  std::printf(
      "\nDefinitions (per material; L = its lead time, 24-48 h; M = margin, 8 h (the default); slack = 25 %% of\n"
      "L+M; the first 7 days are warm-up (initial stock, first delivery): alerts raised in them are not judged\n"
      "and stockouts before day 7 + L are not counted; the detector sees L and a safety stock of 6 h of nominal\n"
      "use, no reorder point):\n"
      "  stockouts     ground truth: plant_model::stockouts(), the true quantity reached 0\n"
      "  warned>=L     share of stockouts inside an episode (raise .. clear) raised >= L before the stockout\n"
      "  med.lead-h    median over stockouts of (stockout - raise of the episode containing it); 0 when none\n"
      "  nostock/100d  raises whose episode contains no stockout within L+M+slack after the raise, per 100\n"
      "                material-days (raises later than end - (L+M+slack) are not judged)\n"
      "  false/100d    of those, the ones NOT ended by a late delivery (the episode outlasted the window, or the\n"
      "                first delivery in it was on time). A late lot that arrives before the stockout is the\n"
      "                case the warning exists for: it is what ops expedites. THE false-alert figure.\n"
      "  unjust/100d   of the nostock ones, those whose claim was wrong: the true consumption in L+M+slack after\n"
      "                the raise was less than the true quantity at the raise (stock would have lasted anyway)\n"
      "  flaps         raises beyond the first between two consecutive deliveries of the material\n"
      "  detector      the edge detector on the readings alone\n"
      "  supply        the same detector, also given the plant's open orders as the ERP lists them (the next\n"
      "                two scheduled lots per material, a new snapshot whenever a lot arrives; a late lot keeps\n"
      "                its due time): supply-aware detection\n"
      "  baseline      fixed ERP reorder point: alert while the reported quantity < nominal rate x L + safety\n"
      "                stock, clear when it is back above\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string seeds = "report";
  int seed_count = 10;
  int weeks = 6;
  bool explain = false;
  std::string only;
  const char* usage =
      "usage: shortage_bench [--seeds report|tuning] [--seed-count N] [--weeks W] [--scenario NAME] [--explain]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--seeds" && has_value) {
      seeds = argv[++i];
    } else if (arg == "--seed-count" && has_value) {
      seed_count = std::atoi(argv[++i]);
    } else if (arg == "--weeks" && has_value) {
      weeks = std::atoi(argv[++i]);
    } else if (arg == "--scenario" && has_value) {
      only = argv[++i];
    } else if (arg == "--explain") {
      explain = true;
    } else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if ((seeds != "report" && seeds != "tuning") || seed_count < 1 || weeks < 2) {
    std::fprintf(stderr, "shortage_bench: --seeds must be report or tuning, --seed-count >= 1, --weeks >= 2\n%s",
                 usage);
    return 2;
  }
  const std::vector<scenario> all = scenarios();
  if (!only.empty() && std::none_of(all.begin(), all.end(), [&](const scenario& s) { return s.name == only; })) {
    std::fprintf(stderr, "shortage_bench: --scenario %s: no such scenario\n", only.c_str());
    return 2;
  }

  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t seed_base = seeds == "report" ? report_seed_base : tuning_seed_base;
  std::printf("command: ");
  for (int i = 0; i < argc; ++i) std::printf("%s%s", i > 0 ? " " : "", argv[i]);
  std::printf(
      "\nseeds: %s set %llu..%llu (tuning set: %llu.., report set: %llu..; tuning looked at the tuning set only)\n",
      seeds.c_str(), static_cast<unsigned long long>(seed_base),
      static_cast<unsigned long long>(seed_base + static_cast<std::uint64_t>(seed_count) - 1),
      static_cast<unsigned long long>(tuning_seed_base), static_cast<unsigned long long>(report_seed_base));
  std::printf(
      "plant per seed: 4 lines, 12 materials, deliveries every 4-7 days (30 %% late), %d weeks,\n"
      "1-min readings unless the scenario says otherwise\n",
      weeks);
  std::printf("scenarios:\n");
  for (const scenario& sc : all) {
    if (only.empty() || sc.name == only) std::printf("  %-16s %s\n", sc.name.c_str(), sc.what.c_str());
  }
  std::printf("\n");

  std::vector<std::string> rows;
  score total_ours, total_supply, total_base;
  std::uint64_t samples = 0;
  bool header_printed = false;
  for (const scenario& sc : all) {
    if (!only.empty() && sc.name != only) continue;
    score ours, supply, base;
    for (int s = 0; s < seed_count; ++s) {
      const run_result r = run_one(sc, seed_base + static_cast<std::uint64_t>(s), weeks, explain);
      ours.add(r.detector);
      supply.add(r.supply);
      base.add(r.baseline);
      samples += r.samples;
    }
    if (!header_printed) {
      print_header();
      header_printed = true;
    }
    print_row(sc.name, "detector", ours);
    print_row(sc.name, "supply", supply);
    print_row(sc.name, "baseline", base);
    std::fflush(stdout);
    total_ours.add(ours);
    total_supply.add(supply);
    total_base.add(base);
  }
  print_row("TOTAL", "detector", total_ours);
  print_row("TOTAL", "supply", total_supply);
  print_row("TOTAL", "baseline", total_base);
  print_definitions();

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("\ngoals (TOTAL):\n");
  auto goal = [](bool met, const char* text) { std::printf("  [%s] %s\n", met ? "met" : "NOT met", text); };
  goal(total_ours.warned_share() >= 0.95, ">= 95 % of stockouts warned >= L ahead");
  goal(total_ours.per_100d(total_ours.false_alerts) <= 1.0, "<= 1 false alert per 100 material-days (false/100d)");
  goal(total_ours.flaps == 0, "zero flaps");
  goal(total_ours.warned_share() > total_base.warned_share() &&
           total_ours.per_100d(total_ours.false_alerts) < total_base.per_100d(total_base.false_alerts),
       "better than the reorder-point baseline on warned>=L and false/100d");
  std::printf("\ngoals of the supply-aware detector (TOTAL, nostock/100d is the literal false-alert count):\n");
  goal(total_supply.warned_share() >= 0.97, ">= 97 % of stockouts warned >= L ahead");
  goal(total_supply.per_100d(total_supply.no_stockout) <= 0.5, "<= 0.5 literal false alerts per 100 material-days");
  goal(total_supply.flaps == 0, "zero flaps");
  goal(total_supply.warned_share() > std::max(total_ours.warned_share(), total_base.warned_share()) &&
           total_supply.no_stockout * total_ours.material_days < total_ours.no_stockout * total_supply.material_days &&
           total_supply.no_stockout * total_base.material_days < total_base.no_stockout * total_supply.material_days,
       "better than the detector without orders and the baseline on warned>=L and literal false alerts");
  std::printf("\n%llu samples through the detector in %.1f s (%.0f k samples/s, model included)\n",
              static_cast<unsigned long long>(samples), seconds, static_cast<double>(samples) / seconds / 1000.0);
  return 0;
}
