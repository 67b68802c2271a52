#pragma once
/// The supply side of a shortage decision, as a pure function of one
/// material's open orders, its planned demand, its on-hand level and observed
/// rate, and the time (sample time): what an ERP planner calls the projected
/// stock. It says when the stock would reach the safety stock (covered_until)
/// and zero (stockout) on
///
///   on hand − consumption (the observed rate, or the plan where one covers the
///   time, whichever is higher) + receipts at their due time,
///
/// where a receipt counts only if it is due before the stock would reach the
/// safety stock, a receipt is "late" once its due time has passed with no
/// delivery seen since, and a late receipt still counts (as due now) for
/// late_grace, then no more. No receipts and no plan give exactly level / rate.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/core/clock.hpp"

namespace plant::edge {

/// One open order (purchase order, transfer) of a material.
struct open_receipt {
  double quantity = 0.0;
  epoch_ms due = 0;
  std::string order;     ///< PO or transfer number, "" when not given
  std::string supplier;  ///< "" when not given
};

/// Consumption the production plan knows: `quantity` over [from, to).
struct planned_demand {
  double quantity = 0.0;
  epoch_ms from = 0;
  epoch_ms to = 0;
};

/// Why a material is short (none while ok); names as on the wire.
enum class shortage_reason : std::uint8_t { none = 0, no_cover, late_receipt, receipt_too_small, demand_above_plan };
const char* to_string(shortage_reason reason);

struct supply_input {
  epoch_ms now = 0;                 ///< decision time (the newest reading's sample time)
  double level = 0.0;               ///< stock on hand now
  double rate = 0.0;                ///< observed consumption, units per plant hour (>= 0)
  double safety_stock = 0.0;
  epoch_ms lead_time_ms = 0;        ///< for `incoming`
  epoch_ms late_grace_ms = 0;       ///< how long a late receipt still counts
  epoch_ms last_delivery_at = 0;    ///< the newest confirmed delivery (a rise of the stock), 0 = none seen
  epoch_ms horizon_ms = 0;          ///< how far ahead to project (0 = 400 days)
  const std::vector<open_receipt>* receipts = nullptr;
  const std::vector<planned_demand>* demand = nullptr;
};

struct supply_projection {
  std::optional<epoch_ms> stockout;       ///< projected stock reaches 0; empty: not within the horizon
  std::optional<epoch_ms> covered_until;  ///< projected stock reaches the safety stock; empty: not within the horizon
  double incoming = 0.0;                  ///< open receipts due within the lead time (late ones included)
  double on_order = 0.0;                  ///< every open receipt still expected (late ones only in their grace)
  epoch_ms next_receipt = 0;              ///< the earliest due time still ahead, 0 = none
  std::uint32_t late_receipts = 0;        ///< due passed, no delivery since
  double late_quantity = 0.0;
  std::uint32_t counted_receipts = 0;     ///< receipts the projection added
  std::uint32_t open_receipts = 0;        ///< receipts not yet delivered (on time or late)
  bool plan_used = false;                 ///< a plan window set the rate somewhere ahead
  bool demand_above_plan = false;         ///< the observed rate is above the plan (by 10 %) where one covers now
};

supply_projection project_supply(const supply_input& in);

/// The reason to give a status that is not ok, from what the projection saw.
shortage_reason reason_for(const supply_projection& p);

/// The z value of a one-sided service level (the standard normal's inverse
/// distribution function), for 0 < p < 1.
double normal_quantile(double p);

/// Safety stock from variability: z * sqrt(LT * sigma_d^2 + d^2 * sigma_LT^2), with
/// d and sigma_d in units per hour and LT, sigma_LT in hours.
double variability_safety_stock(double service_level, double rate, double rate_sd, double lead_time_h,
                                double lead_time_sd_h);

}  // namespace plant::edge
