#include "agent/edge/supply_projection.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace plant::edge {
namespace {

constexpr epoch_ms h = 3'600'000;
constexpr epoch_ms now = 1'790'812'800'000;  // 2026-10-01T00:00:00Z

// 1000 on hand, 10 an hour, safety stock 100: covered for 90 h, out after 100 h.
supply_input base(const std::vector<open_receipt>* receipts = nullptr, const std::vector<planned_demand>* demand = nullptr) {
  supply_input in;
  in.now = now;
  in.level = 1000;
  in.rate = 10;
  in.safety_stock = 100;
  in.lead_time_ms = 72 * h;
  in.late_grace_ms = 4 * h;
  in.receipts = receipts;
  in.demand = demand;
  return in;
}

TEST(supply_projection, without_receipts_or_plan_it_is_level_over_rate) {
  const auto p = project_supply(base());
  ASSERT_TRUE(p.stockout.has_value());
  EXPECT_EQ(*p.stockout, now + 100 * h);
  EXPECT_EQ(*p.covered_until, now + 90 * h);
  EXPECT_EQ(p.counted_receipts, 0u);
  EXPECT_EQ(p.incoming, 0.0);
  EXPECT_EQ(p.next_receipt, 0);
  EXPECT_EQ(reason_for(p), shortage_reason::no_cover);
}

TEST(supply_projection, a_receipt_due_in_time_moves_the_stockout_by_what_it_brings) {
  const std::vector<open_receipt> r{{2000, now + 50 * h, "PO-1", "acme"}};
  const auto p = project_supply(base(&r));
  EXPECT_EQ(p.counted_receipts, 1u);
  EXPECT_EQ(*p.covered_until, now + 290 * h);  // 500 left at 50 h, +2000, then 10/h down to 100
  EXPECT_EQ(*p.stockout, now + 300 * h);
  EXPECT_EQ(p.incoming, 2000.0);
  EXPECT_EQ(p.on_order, 2000.0);
  EXPECT_EQ(p.next_receipt, now + 50 * h);
  EXPECT_EQ(p.open_receipts, 1u);
}

TEST(supply_projection, a_receipt_too_small_covers_only_what_it_brings) {
  const std::vector<open_receipt> r{{100, now + 50 * h, "", ""}};
  const auto p = project_supply(base(&r));
  EXPECT_EQ(*p.covered_until, now + 100 * h);
  EXPECT_EQ(*p.stockout, now + 110 * h);
  EXPECT_EQ(reason_for(p), shortage_reason::receipt_too_small);
}

TEST(supply_projection, a_receipt_due_after_the_stock_reaches_safety_stock_does_not_count) {
  const std::vector<open_receipt> r{{5000, now + 95 * h, "", ""}};
  const auto p = project_supply(base(&r));
  EXPECT_EQ(p.counted_receipts, 0u);
  EXPECT_EQ(*p.covered_until, now + 90 * h);
  EXPECT_EQ(*p.stockout, now + 100 * h);
  EXPECT_EQ(p.incoming, 0.0) << "due after the 72 h lead time";
  EXPECT_EQ(p.on_order, 5000.0) << "but on order all the same";
  EXPECT_EQ(p.next_receipt, now + 95 * h);
  EXPECT_EQ(reason_for(p), shortage_reason::no_cover) << "an order due after the stock is gone is no cover";
}

TEST(supply_projection, two_receipts_count_in_due_order_while_they_keep_the_stock_above_safety) {
  const std::vector<open_receipt> r{{300, now + 80 * h, "PO-2", ""}, {200, now + 20 * h, "PO-1", ""}};
  const auto p = project_supply(base(&r));
  // 800 at 20 h (+200 = 1000), 400 at 80 h (+300 = 700), then safety at 140 h and out at 150 h.
  EXPECT_EQ(p.counted_receipts, 2u);
  EXPECT_EQ(*p.covered_until, now + 140 * h);
  EXPECT_EQ(*p.stockout, now + 150 * h);
  EXPECT_EQ(p.next_receipt, now + 20 * h);
  EXPECT_EQ(p.incoming, 200.0) << "the 80 h one is due after the 72 h lead time";
}

TEST(supply_projection, a_late_receipt_counts_for_its_grace_then_no_more_and_a_delivery_closes_it) {
  const std::vector<open_receipt> r{{2000, now - 1 * h, "PO-9", ""}};
  auto in = base(&r);
  auto p = project_supply(in);
  EXPECT_EQ(p.late_receipts, 1u);
  EXPECT_EQ(p.late_quantity, 2000.0);
  EXPECT_EQ(p.counted_receipts, 1u) << "1 h late, grace 4 h: still expected";
  EXPECT_EQ(*p.stockout, now + 300 * h);
  EXPECT_EQ(reason_for(p), shortage_reason::late_receipt);

  in.now = now + 4 * h;  // 5 h late: past the grace
  p = project_supply(in);
  EXPECT_EQ(p.on_order, 0.0) << "no longer expected";
  EXPECT_EQ(p.late_receipts, 1u);
  EXPECT_EQ(p.counted_receipts, 0u);
  EXPECT_EQ(*p.stockout, now + 4 * h + 100 * h);

  in.last_delivery_at = now + 3 * h;  // the stock rose after the due time: it arrived
  p = project_supply(in);
  EXPECT_EQ(p.late_receipts, 0u);
  EXPECT_EQ(p.open_receipts, 0u);
  EXPECT_EQ(reason_for(p), shortage_reason::no_cover);
}

TEST(supply_projection, planned_demand_above_the_observed_rate_brings_the_stockout_forward) {
  const std::vector<planned_demand> plan{{900, now + 10 * h, now + 40 * h}};  // 30 an hour for 30 h
  const auto p = project_supply(base(nullptr, &plan));
  // 900 at 10 h, then 30/h: 0 at 40 h.
  EXPECT_TRUE(p.plan_used);
  EXPECT_EQ(*p.stockout, now + 40 * h);
  EXPECT_EQ(*p.covered_until, now + 10 * h + 800 * h / 30);
  EXPECT_FALSE(p.demand_above_plan);
}

TEST(supply_projection, an_observed_rate_above_the_plan_is_used_and_named) {
  const std::vector<planned_demand> plan{{50, now - 5 * h, now + 5 * h}};  // 5 an hour, observed 10
  const auto p = project_supply(base(nullptr, &plan));
  EXPECT_TRUE(p.demand_above_plan);
  EXPECT_EQ(*p.stockout, now + 100 * h) << "the higher, observed rate";
  EXPECT_EQ(reason_for(p), shortage_reason::demand_above_plan);
}

TEST(supply_projection, a_receipt_for_a_material_not_consumed_is_incoming_and_nothing_runs_out) {
  const std::vector<open_receipt> r{{500, now + 24 * h, "PO-3", "acme"}};
  auto in = base(&r);
  in.rate = 0;
  const auto p = project_supply(in);
  EXPECT_FALSE(p.stockout.has_value());
  EXPECT_FALSE(p.covered_until.has_value());
  EXPECT_EQ(p.incoming, 500.0);
  EXPECT_EQ(p.next_receipt, now + 24 * h);
}

TEST(supply_projection, stock_already_below_safety_is_covered_until_now_and_later_receipts_do_not_count) {
  const std::vector<open_receipt> r{{5000, now + 2 * h, "", ""}};
  auto in = base(&r);
  in.level = 50;
  const auto p = project_supply(in);
  EXPECT_EQ(*p.covered_until, now);
  EXPECT_EQ(p.counted_receipts, 0u);
  EXPECT_EQ(*p.stockout, now + 5 * h);
}

TEST(supply_projection, hostile_receipts_are_ignored) {
  const std::vector<open_receipt> r{{-5, now + h, "", ""}, {std::nan(""), now + h, "", ""}, {0, now + h, "", ""}};
  const auto p = project_supply(base(&r));
  EXPECT_EQ(p.open_receipts, 0u);
  EXPECT_EQ(*p.stockout, now + 100 * h);
}

TEST(safety_stock_formula, z_values_and_the_usual_form) {
  EXPECT_NEAR(normal_quantile(0.95), 1.644854, 1e-6);
  EXPECT_NEAR(normal_quantile(0.99), 2.326348, 1e-6);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-9);
  EXPECT_NEAR(normal_quantile(0.001), -3.090232, 1e-6);
  EXPECT_TRUE(std::isnan(normal_quantile(1.0)));
  // z(0.95) * sqrt(24 h * 2^2 + 10^2 * 4 h^2) = 1.6449 * sqrt(1696)
  EXPECT_NEAR(variability_safety_stock(0.95, 10, 2, 24, 4), 1.644854 * std::sqrt(1696.0), 1e-4);
  EXPECT_EQ(variability_safety_stock(0.95, 0, 0, 24, 0), 0.0);
}

}  // namespace
}  // namespace plant::edge
