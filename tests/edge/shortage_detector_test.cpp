#include "agent/edge/shortage_detector.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/sources/simulator/plant_model.hpp"
#include "tests/edge/edge_test_support.hpp"

namespace plant::edge {
namespace {

using namespace std::chrono_literals;

using test::hour;
using test::minute;
using test::noise_source;
using test::t0;

sample stock(const std::string& material, epoch_ms at, double quantity, quality q = quality::good) {
  sample s;
  s.kind = sample::kind_t::stock;
  s.name = material;
  s.q = q;
  s.source_time = at;
  s.receive_time = at;
  s.quantity = quantity;
  s.unit = "kg";
  return s;
}

sample line(const std::string& id, epoch_ms at, line_state state, quality q = quality::good) {
  sample s;
  s.kind = sample::kind_t::line;
  s.name = id;
  s.q = q;
  s.source_time = at;
  s.receive_time = at;
  s.state = state;
  return s;
}

config::material_config material(const std::string& id, std::chrono::milliseconds lead,
                                 std::vector<std::string> lines = {"line-1"}) {
  config::material_config m;
  m.id = id;
  m.unit = "kg";
  m.lead_time = lead;
  m.lines = std::move(lines);
  return m;
}

// One-minute readings of a stock falling at `rate` per hour, with noise; collects alerts.
struct run {
  shortage_detector& detector;
  std::string id;
  noise_source noise{11};
  double noise_half = 0.0;
  std::vector<shortage_alert> alerts{};

  double feed(epoch_ms from, epoch_ms to, double quantity, double rate) {
    for (epoch_ms t = from; t < to; t += minute) {
      const double reading = quantity > 0.0 ? std::max(0.0, quantity + noise_half * noise.next()) : 0.0;
      detector.observe(stock(id, t, reading), alerts);
      quantity = std::max(0.0, quantity - rate / 60.0);
    }
    return quantity;
  }
};

TEST(stock_status, names) {
  EXPECT_EQ(to_string(stock_status::ok), "ok");
  EXPECT_EQ(to_string(stock_status::low), "low");
  EXPECT_EQ(to_string(stock_status::critical), "critical");
  EXPECT_EQ(to_string(stock_status::out), "out");
  EXPECT_EQ(to_string(stock_status::unknown), "unknown");
  EXPECT_EQ(to_string(static_cast<stock_status>(9)), "unknown");
  stock_status parsed = stock_status::unknown;
  EXPECT_TRUE(parse_stock_status("critical", parsed));
  EXPECT_EQ(parsed, stock_status::critical);
  EXPECT_FALSE(parse_stock_status("Critical", parsed));
}

TEST(shortage_detector, snapshot_before_any_sample_is_unknown_in_config_order) {
  auto b = material("b", 24h);
  b.reorder_point = 50.0;
  b.safety_stock = 10.0;
  shortage_detector d({material("a", 24h), b}, config::shortage_section{});
  const auto all = d.snapshot();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].material, "a");
  EXPECT_EQ(all[1].material, "b");
  EXPECT_EQ(all[1].status, stock_status::unknown);
  EXPECT_EQ(all[1].reorder_point, 50.0);
  EXPECT_EQ(all[1].safety_stock, 10.0);
  EXPECT_EQ(all[1].lead_time_ms, 24 * hour);
  EXPECT_EQ(all[1].lines, std::vector<std::string>{"line-1"});
  EXPECT_FALSE(d.status("nope").has_value());
}

TEST(shortage_detector, steady_consumption_escalates_low_critical_out_as_one_episode) {
  // lead 24 h, margin 8 h: low at 32 h left, critical at 24 h left.
  shortage_detector d({material("resin", 24h)}, config::shortage_section{});
  run r{d, "resin"};
  r.noise_half = 3.0;
  r.feed(t0, t0 + 64 * hour, 6000.0, 100.0);  // 60 h of stock
  ASSERT_EQ(r.alerts.size(), 3u);
  EXPECT_EQ(r.alerts[0].previous, stock_status::ok);  // unknown -> ok on the first reading is no alert
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_NEAR(static_cast<double>(r.alerts[0].material.at - t0) / hour, 28.0, 1.0);
  EXPECT_EQ(r.alerts[1].material.status, stock_status::critical);
  EXPECT_NEAR(static_cast<double>(r.alerts[1].material.at - t0) / hour, 36.0, 1.0);
  EXPECT_EQ(r.alerts[2].material.status, stock_status::out);
  EXPECT_NEAR(static_cast<double>(r.alerts[2].material.at - t0) / hour, 60.0, 0.1);
  for (const auto& a : r.alerts) EXPECT_FALSE(a.cleared);
  EXPECT_EQ(d.counters().raised, 1u);
  EXPECT_EQ(d.counters().cleared, 0u);

  // The alert carries the picture the decision was made on.
  const material_status& low = r.alerts[0].material;
  EXPECT_EQ(low.material, "resin");
  EXPECT_EQ(low.unit, "kg");
  EXPECT_NEAR(low.rate, 100.0, 5.0);
  EXPECT_NEAR(static_cast<double>(low.projected_stockout - low.at) / hour, 32.0, 1.0);
  EXPECT_EQ(low.lead_time_ms, 24 * hour);
  EXPECT_EQ(low.lines, std::vector<std::string>{"line-1"});

  // A delivery ends the episode at once: one clear.
  r.feed(t0 + 64 * hour, t0 + 65 * hour, 20'000.0, 100.0);
  ASSERT_EQ(r.alerts.size(), 4u);
  EXPECT_TRUE(r.alerts[3].cleared);
  EXPECT_EQ(r.alerts[3].previous, stock_status::out);
  EXPECT_EQ(r.alerts[3].material.status, stock_status::ok);
  EXPECT_LT(r.alerts[3].material.at, t0 + 64 * hour + 5 * minute);
  EXPECT_EQ(d.counters().cleared, 1u);
}

TEST(shortage_detector, noise_does_not_trigger_alerts) {
  shortage_detector d({material("film", 24h)}, config::shortage_section{});
  run r{d, "film"};
  r.noise_half = 150.0;                        // +-1.5 % of the stock on every reading
  r.feed(t0, t0 + 72 * hour, 10'000.0, 20.0);  // ~500 h left throughout
  EXPECT_TRUE(r.alerts.empty()) << to_string(r.alerts.front().material.status);
  EXPECT_EQ(d.status("film")->status, stock_status::ok);
}

TEST(shortage_detector, noise_around_a_threshold_raises_once) {
  auto m = material("paint", 24h);
  m.safety_stock = 1000.0;
  shortage_detector d({m}, config::shortage_section{});
  run r{d, "paint"};
  r.noise_half = 60.0;
  r.feed(t0, t0 + 72 * hour, 1000.0, 0.0);  // no consumption, hovering on the safety stock
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_EQ(d.counters().raised, 1u);
  EXPECT_EQ(d.counters().changes, 1u);
}

TEST(shortage_detector, stock_hovering_at_the_low_horizon_raises_once) {
  // lead 24 h + margin 8 h: low below 32 h left. Hourly small lots keep the
  // stock between 31 and 33 h of use, with noise on top.
  shortage_detector d({material("film", 24h)}, config::shortage_section{});
  run r{d, "film"};
  r.noise_half = 10.0;
  for (int h = 0; h < 72; ++h) {
    const double start = h % 2 == 0 ? 3300.0 : 3250.0;
    r.feed(t0 + h * hour, t0 + (h + 1) * hour, start, 100.0);
  }
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_EQ(d.counters().raised, 1u);
  EXPECT_GT(d.estimator("film")->counters().deliveries, 60u);
}

TEST(shortage_detector, idle_lines_consume_nothing_and_raise_nothing) {
  shortage_detector d({material("screws", 24h)}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  noise_source noise(3);
  // Learn the rate for 6 h, then the line stands idle for three days with
  // 40 h of (running) stock left: no consumption, so no stockout coming.
  double q = 4600.0;
  for (epoch_ms t = t0; t < t0 + 78 * hour; t += minute) {
    const bool running = t < t0 + 6 * hour;
    d.observe(line("line-1", t, running ? line_state::running : line_state::idle), alerts);
    d.observe(stock("screws", t, q + 2.0 * noise.next()), alerts);
    if (running) q -= 100.0 / 60.0;
  }
  EXPECT_TRUE(alerts.empty());
  const auto s = d.status("screws");
  EXPECT_EQ(s->status, stock_status::ok);
  EXPECT_NEAR(s->rate_running, 100.0, 10.0);  // per running hour: kept
  EXPECT_LT(s->running_share, 0.01);
  EXPECT_LT(s->rate, 1.0);
}

TEST(shortage_detector, out_with_starved_lines) {
  shortage_detector d({material("labels", 24h, {"line-1", "line-2"})}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  double q = 300.0;
  for (epoch_ms t = t0; t < t0 + 4 * hour; t += minute) {
    const bool empty = q <= 0.0 && t > t0 + 3 * hour;  // the line notices a tick after the store
    d.observe(line("line-1", t, empty ? line_state::starved : line_state::running), alerts);
    d.observe(line("line-2", t, line_state::running), alerts);  // runs on something else
    d.observe(stock("labels", t, std::max(0.0, q)), alerts);
    q -= 100.0 / 60.0;
    if (q < 1e-6) q = 0.0;
  }
  // The reading of 0 comes a tick before line-1 reports starved: out first,
  // then an update that names the starved line.
  ASSERT_GE(alerts.size(), 2u);
  EXPECT_EQ(alerts[alerts.size() - 2].material.status, stock_status::out);
  EXPECT_TRUE(alerts[alerts.size() - 2].material.starved_lines.empty());
  EXPECT_EQ(alerts.back().material.status, stock_status::out);
  EXPECT_EQ(alerts.back().previous, stock_status::out);
  EXPECT_FALSE(alerts.back().cleared);
  EXPECT_EQ(alerts.back().material.starved_lines, std::vector<std::string>{"line-1"});
  EXPECT_EQ(d.counters().starved_updates, 1u);
  EXPECT_EQ(d.counters().raised, 1u);
  const auto s = d.status("labels");
  EXPECT_EQ(s->status, stock_status::out);
  EXPECT_EQ(s->quantity, 0.0);
  EXPECT_EQ(s->starved_lines, std::vector<std::string>{"line-1"});
  EXPECT_EQ(s->lines, (std::vector<std::string>{"line-1", "line-2"}));
}

TEST(shortage_detector, safety_stock_floor_and_deliveries_end_the_episode_only_clearly_above) {
  auto m = material("pellets", 24h);
  m.safety_stock = 500.0;
  shortage_detector d({m}, config::shortage_section{});
  run r{d, "pellets"};
  r.feed(t0, t0 + 2 * hour, 450.0, 0.0);
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  // A small lot lifts the stock above the safety stock, but not by the 10 % the exit needs.
  r.feed(t0 + 2 * hour, t0 + 12 * hour, 520.0, 0.0);
  EXPECT_EQ(d.status("pellets")->status, stock_status::low);
  EXPECT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(d.estimator("pellets")->counters().deliveries, 1u);
  // The next one does: the episode ends at once, no dwell after a delivery.
  r.feed(t0 + 12 * hour, t0 + 13 * hour, 600.0, 0.0);
  ASSERT_EQ(r.alerts.size(), 2u);
  EXPECT_TRUE(r.alerts[1].cleared);
  EXPECT_LT(r.alerts[1].material.at, t0 + 12 * hour + 5 * minute);
}

TEST(shortage_detector, without_a_delivery_the_exit_condition_must_hold_for_the_dwell) {
  auto m = material("pellets", 24h);
  m.safety_stock = 500.0;
  shortage_detector d({m}, config::shortage_section{});  // dwell: 2 x 2 h
  run r{d, "pellets"};
  r.noise_half = 5.0;
  r.feed(t0, t0 + 2 * hour, 450.0, 0.0);
  ASSERT_EQ(r.alerts.size(), 1u);
  // Stock creeps up (returns from the line) by 20 an hour: above 550 after 5 h.
  r.feed(t0 + 2 * hour, t0 + 10 * hour + 30 * minute, 450.0, -20.0);
  EXPECT_EQ(d.status("pellets")->status, stock_status::low);
  r.feed(t0 + 10 * hour + 30 * minute, t0 + 12 * hour, 620.0, 0.0);
  ASSERT_EQ(r.alerts.size(), 2u);
  EXPECT_TRUE(r.alerts[1].cleared);
  EXPECT_NEAR(static_cast<double>(r.alerts[1].material.at - t0) / hour, 11.0, 0.5);
  EXPECT_EQ(d.estimator("pellets")->counters().deliveries, 0u);
}

TEST(shortage_detector, reorder_point_is_a_floor) {
  auto m = material("coil", 24h);
  m.reorder_point = 5000.0;
  shortage_detector d({m}, config::shortage_section{});
  run r{d, "coil"};
  r.feed(t0, t0 + 2 * hour, 4900.0, 0.0);  // no consumption at all, yet below the reorder point
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_EQ(r.alerts[0].material.reorder_point, 5000.0);
}

TEST(shortage_detector, critical_horizon_and_margin_overrides) {
  auto m = material("adhesive", 24h);
  m.margin = 16h;            // low at 40 h left
  m.critical_horizon = 12h;  // critical at 12 h left
  shortage_detector d({m}, config::shortage_section{});
  run r{d, "adhesive"};
  r.feed(t0, t0 + 50 * hour, 6000.0, 100.0);
  ASSERT_GE(r.alerts.size(), 2u);
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_NEAR(static_cast<double>(r.alerts[0].material.at - t0) / hour, 20.0, 1.0);
  EXPECT_EQ(r.alerts[1].material.status, stock_status::critical);
  EXPECT_NEAR(static_cast<double>(r.alerts[1].material.at - t0) / hour, 48.0, 1.0);
}

TEST(shortage_detector, bad_and_stale_samples_and_unknown_names_are_ignored) {
  shortage_detector d({material("resin", 24h)}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  d.observe(stock("resin", t0, 10'000.0), alerts);
  d.observe(stock("resin", t0 + minute, 0.0, quality::bad), alerts);
  d.observe(stock("resin", t0 + 2 * minute, 0.0, quality::stale), alerts);
  d.observe(line("line-1", t0 + 2 * minute, line_state::fault, quality::bad), alerts);
  d.observe(stock("other", t0 + 3 * minute, 0.0), alerts);
  d.observe(line("line-9", t0 + 3 * minute, line_state::fault), alerts);
  d.observe(stock("resin", t0, 0.0), alerts);  // same time again
  EXPECT_TRUE(alerts.empty());
  EXPECT_EQ(d.status("resin")->quantity, 10'000.0);
  EXPECT_EQ(d.status("resin")->status, stock_status::ok);
  EXPECT_EQ(d.counters().ignored_quality, 3u);
  EXPECT_EQ(d.counters().unknown_names, 2u);
  EXPECT_EQ(d.counters().ignored_time, 1u);
}

// The samples a small simulated plant emits over `days`, in emission order.
std::vector<sample> plant_samples(int days) {
  sources::model_params p;
  p.seed = 7;
  p.lines = 2;
  p.materials = 4;
  p.tick = 60s;
  p.start_time = t0;
  p.delivery_period_min = 24h;
  p.delivery_period_max = 48h;
  p.late_delivery_probability = 0.5;
  p.severe_late_share = 1.0;
  sources::plant_model model(p);
  std::vector<sample> out;
  for (int i = 0; i < days * 24 * 60; ++i) {
    model.step();
    model.emit(out, 0);
  }
  return out;
}

std::vector<config::material_config> plant_materials() {
  std::vector<config::material_config> m;
  for (const char* id : {"steel-coil-1.2", "resin-pellets", "paint-base-ral7035", "cardboard-500"}) {
    m.push_back(material(id, 12h, {"line-1", "line-2"}));
  }
  return m;
}

std::string describe(const std::vector<shortage_alert>& alerts) {
  std::string text;
  for (const auto& a : alerts) {
    text += a.material.material + " " + std::string(to_string(a.previous)) + "->" +
            std::string(to_string(a.material.status)) + " at " + std::to_string(a.material.at) + " q " +
            std::to_string(a.material.quantity) + " p " + std::to_string(a.material.projected_stockout) + "\n";
  }
  return text;
}

TEST(shortage_detector, replay_gives_the_same_alerts_however_chunked_and_whenever_received) {
  const std::vector<sample> samples = plant_samples(8);
  std::vector<shortage_alert> whole;
  {
    shortage_detector d(plant_materials(), config::shortage_section{});
    for (const sample& s : samples) d.observe(s, whole);
  }
  ASSERT_GE(whole.size(), 4u) << "the plant should run short at least once";

  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1000}, samples.size()}) {
    shortage_detector d(plant_materials(), config::shortage_section{});
    std::vector<shortage_alert> chunked;
    for (std::size_t i = 0; i < samples.size(); i += chunk) {
      // Each chunk as its own batch, received "now" at some arbitrary time:
      // decisions must come from the samples' own times only.
      for (std::size_t j = i; j < std::min(samples.size(), i + chunk); ++j) {
        sample s = samples[j];
        s.receive_time = static_cast<epoch_ms>(9'000'000'000'000 + 17 * i);
        const auto out = d.observe(s);
        chunked.insert(chunked.end(), out.begin(), out.end());
      }
    }
    EXPECT_EQ(describe(chunked), describe(whole)) << "chunk " << chunk;
  }
}


// --- the supply side: open receipts and planned demand -------------------------------

namespace supply {

sources::supply_snapshot receipts(std::vector<std::pair<double, epoch_ms>> rows, const std::string& material = "resin") {
  sources::supply_snapshot s;
  s.kind = sources::supply_snapshot::kind_t::receipts;
  for (const auto& [quantity, due] : rows) {
    sources::supply_row r;
    r.material = material;
    r.quantity = quantity;
    r.due = due;
    r.order = "PO-" + std::to_string(due / hour);
    s.rows.push_back(r);
  }
  return s;
}

// Resin: lead time 24 h (low below 32 h left), reorder point 2000, safety stock 200.
config::material_config resin() {
  auto m = material("resin", 24h);
  m.reorder_point = 2000.0;
  m.safety_stock = 200.0;
  return m;
}

}  // namespace supply

TEST(shortage_detector_supply, a_material_covered_by_an_order_due_in_time_raises_nothing) {
  shortage_detector d({supply::resin()}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  d.observe_supply(supply::receipts({{3000, t0 + 10 * hour}}), "erp", alerts);
  run r{d, "resin"};
  // 1500 falling 50 an hour: 26 h to the safety stock, below the reorder point; the
  // order brings 3000 in 10 h.
  r.feed(t0, t0 + 8 * hour, 1500.0, 50.0);
  EXPECT_TRUE(r.alerts.empty()) << to_string(r.alerts.front().material.status) << " "
                                << to_string(r.alerts.front().material.reason);
  const auto s = d.status("resin");
  EXPECT_EQ(s->status, stock_status::ok);
  EXPECT_EQ(s->incoming, 3000.0);
  EXPECT_EQ(s->next_receipt, t0 + 10 * hour);
  EXPECT_GT(s->covered_until, t0 + 80 * hour) << "1100 + 3000 lasts past 80 h at 50 an hour";
  EXPECT_EQ(s->reason, shortage_reason::none);
}

TEST(shortage_detector_supply, without_the_order_the_same_stock_raises_low_with_no_cover) {
  shortage_detector d({supply::resin()}, config::shortage_section{});
  run r{d, "resin"};
  r.feed(t0, t0 + 8 * hour, 1500.0, 50.0);
  ASSERT_FALSE(r.alerts.empty());
  EXPECT_EQ(r.alerts.front().material.status, stock_status::low);
  EXPECT_EQ(r.alerts.front().material.reason, shortage_reason::no_cover);
}

TEST(shortage_detector_supply, an_order_that_turns_late_raises_low_at_once_and_its_delivery_closes_it) {
  shortage_detector d({supply::resin()}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  d.observe_supply(supply::receipts({{3000, t0 + 3 * hour}}), "erp", alerts);
  run r{d, "resin"};
  // 1650 falling 50 an hour: short without the order, covered with it.
  r.feed(t0, t0 + 3 * hour, 1650.0, 50.0);
  EXPECT_TRUE(r.alerts.empty());
  // Due at 3 h and no rise of the stock: late from the first reading after it.
  const double left = r.feed(t0 + 3 * hour, t0 + 3 * hour + 2 * minute, 1500.0, 50.0);
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_EQ(r.alerts[0].material.reason, shortage_reason::late_receipt);
  EXPECT_EQ(r.alerts[0].material.late_receipts, 1u);
  EXPECT_EQ(r.alerts[0].material.late_quantity, 3000.0);
  // The delivery arrives (a confirmed rise): the late receipt is closed, and the stock lasts.
  r.feed(t0 + 3 * hour + 2 * minute, t0 + 12 * hour, left + 3000.0, 50.0);
  const auto s = d.status("resin");
  EXPECT_EQ(s->late_receipts, 0u);
  EXPECT_EQ(s->status, stock_status::ok) << to_string(s->reason);
}

TEST(shortage_detector_supply, a_late_order_the_stock_does_not_need_yet_is_no_alarm) {
  shortage_detector d({supply::resin()}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  d.observe_supply(supply::receipts({{3000, t0 + 3 * hour}}), "erp", alerts);
  run r{d, "resin"};
  r.feed(t0, t0 + 6 * hour, 6000.0, 50.0);  // 120 h of stock: the late lot can wait
  EXPECT_TRUE(r.alerts.empty()) << to_string(r.alerts.front().material.reason);
  EXPECT_EQ(d.status("resin")->late_receipts, 1u) << "still reported as late";
  EXPECT_EQ(d.status("resin")->status, stock_status::ok);
}

TEST(shortage_detector_supply, an_order_moved_past_the_stockout_is_no_cover_and_a_new_snapshot_replaces_the_old) {
  shortage_detector d({supply::resin()}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  d.observe_supply(supply::receipts({{3000, t0 + 10 * hour}}), "erp", alerts);
  run r{d, "resin"};
  r.feed(t0, t0 + 6 * hour, 1500.0, 50.0);
  EXPECT_TRUE(r.alerts.empty());
  // The supplier moves the order to 60 h: after the stock reaches its safety stock.
  d.observe_supply(supply::receipts({{3000, t0 + 60 * hour}}), "erp", r.alerts);
  ASSERT_EQ(r.alerts.size(), 1u) << "decided again at once, without a new reading";
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_EQ(r.alerts[0].material.reason, shortage_reason::no_cover);
  EXPECT_EQ(r.alerts[0].material.next_receipt, t0 + 60 * hour);
  // The next export has the order back at 10 h: covered again at once, like a delivery,
  // without waiting for the dwell (in sample time, which stands still between readings).
  d.observe_supply(supply::receipts({{3000, t0 + 10 * hour}}), "erp", r.alerts);
  ASSERT_EQ(r.alerts.size(), 2u);
  EXPECT_EQ(r.alerts[1].material.status, stock_status::ok);
  EXPECT_TRUE(r.alerts[1].cleared);
  r.feed(t0 + 6 * hour, t0 + 9 * hour, 1200.0, 50.0);
  EXPECT_EQ(d.status("resin")->status, stock_status::ok);
  EXPECT_EQ(d.status("resin")->incoming, 3000.0);
  EXPECT_GT(d.status("resin")->covered_until, t0 + 60 * hour);
}

TEST(shortage_detector_supply, snapshots_of_two_sources_add_up_and_each_replaces_only_its_own) {
  shortage_detector d({supply::resin()}, config::shortage_section{});
  std::vector<shortage_alert> alerts;
  d.observe_supply(supply::receipts({{1000, t0 + 10 * hour}}), "erp", alerts);
  d.observe_supply(supply::receipts({{500, t0 + 12 * hour}}), "transfers", alerts);
  run r{d, "resin"};
  r.feed(t0, t0 + hour, 1500.0, 50.0);
  EXPECT_EQ(d.status("resin")->incoming, 1500.0);
  d.observe_supply(supply::receipts({}), "transfers", alerts);
  EXPECT_EQ(d.status("resin")->incoming, 1000.0);
  d.observe_supply(supply::receipts({{7, t0}}, "no-such-material"), "erp", alerts);
  EXPECT_EQ(d.status("resin")->incoming, 0.0) << "the erp snapshot has no resin order any more";
  EXPECT_GE(d.counters().unknown_names, 1u);
}

TEST(shortage_detector_supply, planned_demand_above_the_observed_rate_warns_before_the_campaign) {
  shortage_detector d({supply::resin()}, config::shortage_section{});
  sources::supply_snapshot plan;
  plan.kind = sources::supply_snapshot::kind_t::demand;
  sources::supply_row campaign;
  campaign.material = "resin";
  campaign.quantity = 6000;  // 300 an hour for 20 h, starting in 12 h
  campaign.from = t0 + 20 * hour;
  campaign.to = t0 + 40 * hour;
  plan.rows.push_back(campaign);
  std::vector<shortage_alert> alerts;
  run r{d, "resin"};
  r.feed(t0, t0 + 8 * hour, 6000.0, 20.0);  // 300 h left at the observed rate
  EXPECT_TRUE(r.alerts.empty());
  d.observe_supply(plan, "mrp", r.alerts);
  ASSERT_EQ(r.alerts.size(), 1u);
  // 5840 at 8 h, 5600 at 20 h, then 300 an hour: at the safety stock at 38 h, out at 38.7 h,
  // 30.7 h from now: inside the 32 h low horizon.
  EXPECT_EQ(r.alerts[0].material.status, stock_status::low);
  EXPECT_NEAR(static_cast<double>(r.alerts[0].material.covered_until - t0) / hour, 38.0, 0.2);
  EXPECT_NEAR(static_cast<double>(r.alerts[0].material.projected_stockout - t0) / hour, 38.7, 0.2);
}

TEST(shortage_detector_supply, a_service_level_sets_the_safety_stock_from_variability) {
  auto m = material("resin", 24h);
  m.service_level = 0.95;
  m.lead_time_sd = 8h;
  shortage_detector d({m}, config::shortage_section{});
  run r{d, "resin"};
  r.noise_half = 5.0;
  r.feed(t0, t0 + 24 * hour, 50000.0, 40.0);
  const auto s = d.status("resin");
  // z(0.95) * sqrt(24 * sd^2 + 40^2 * 8^2) >= 1.645 * 320 = 526
  EXPECT_GT(s->safety_stock, 520.0);
  EXPECT_LT(s->safety_stock, 700.0);
}

}  // namespace
}  // namespace plant::edge
