#include "agent/edge/supply_projection.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace plant::edge {

namespace {

constexpr double ms_per_hour = 3'600'000.0;
constexpr epoch_ms default_horizon_ms = 400LL * 24 * 3600 * 1000;

struct arrival {
  epoch_ms at = 0;
  double quantity = 0.0;
};

// The planned rate over time, swept forward once: windows [from, to) add their rate
// while they cover the time (they add up). Sorted once per projection, so a long plan
// costs n log n, not n per step.
class plan_sweep {
 public:
  explicit plan_sweep(const std::vector<planned_demand>* demand) {
    if (demand == nullptr) return;
    for (const auto& d : *demand) {
      if (!(d.to > d.from) || !(d.quantity > 0.0) || !std::isfinite(d.quantity)) continue;
      const double rate = d.quantity / (static_cast<double>(d.to - d.from) / ms_per_hour);
      events_.push_back({d.from, rate, 1});
      events_.push_back({d.to, -rate, -1});
    }
    std::sort(events_.begin(), events_.end(), [](const event& a, const event& b) { return a.at < b.at; });
  }
  /// Applies every window edge at or before `t`.
  void advance_to(epoch_ms t) {
    while (next_ < events_.size() && events_[next_].at <= t) {
      sum_ += events_[next_].rate;
      active_ += events_[next_].count;
      ++next_;
    }
    if (active_ == 0) sum_ = 0.0;  // no drift from adding and taking away
  }
  bool planned() const { return active_ > 0; }
  double plan_rate() const { return sum_; }
  /// The rate to project with: the plan's where one covers the time, unless the observed
  /// rate is higher (plans can be optimistic, stock cannot).
  double rate(double observed) const { return planned() ? std::max(sum_, observed) : observed; }
  /// The next edge after `t`, or `limit`.
  epoch_ms next_edge_after(epoch_ms t, epoch_ms limit) const {
    for (std::size_t i = next_; i < events_.size(); ++i)
      if (events_[i].at > t) return std::min(events_[i].at, limit);
    return limit;
  }

 private:
  struct event {
    epoch_ms at;
    double rate;
    int count;
  };
  std::vector<event> events_;
  std::size_t next_ = 0;
  double sum_ = 0.0;
  int active_ = 0;
};

// When, after `t`, stock `s` falling at `rate` per hour reaches `floor`, if before `until`.
std::optional<epoch_ms> crossing(epoch_ms t, double s, double rate, double floor, epoch_ms until) {
  if (s <= floor) return t;
  if (rate <= 0.0) return std::nullopt;
  const double hours = (s - floor) / rate;
  const double at = static_cast<double>(t) + hours * ms_per_hour;
  if (at >= static_cast<double>(until)) return std::nullopt;
  return static_cast<epoch_ms>(std::ceil(at));
}

}  // namespace

const char* to_string(shortage_reason reason) {
  switch (reason) {
    case shortage_reason::none: return "";
    case shortage_reason::no_cover: return "no_cover";
    case shortage_reason::late_receipt: return "late_receipt";
    case shortage_reason::receipt_too_small: return "receipt_too_small";
    case shortage_reason::demand_above_plan: return "demand_above_plan";
  }
  return "";
}

supply_projection project_supply(const supply_input& in) {
  supply_projection p;
  const epoch_ms horizon_end = in.now + (in.horizon_ms > 0 ? in.horizon_ms : default_horizon_ms);

  // Which receipts are still open, which are late, and when each would arrive.
  std::vector<arrival> arrivals;
  if (in.receipts != nullptr) {
    for (const auto& r : *in.receipts) {
      if (!(r.quantity > 0.0) || !std::isfinite(r.quantity)) continue;
      if (r.due <= in.now && in.last_delivery_at >= r.due) continue;  // the stock rose since: delivered
      ++p.open_receipts;
      if (r.due <= in.now) {
        ++p.late_receipts;
        p.late_quantity += r.quantity;
        p.incoming += r.quantity;
        if (in.now - r.due <= in.late_grace_ms) {
          arrivals.push_back({in.now, r.quantity});
          p.on_order += r.quantity;
        }
        continue;
      }
      p.on_order += r.quantity;
      if (r.due - in.now <= in.lead_time_ms) p.incoming += r.quantity;
      if (p.next_receipt == 0 || r.due < p.next_receipt) p.next_receipt = r.due;
      arrivals.push_back({r.due, r.quantity});
    }
  }
  std::sort(arrivals.begin(), arrivals.end(), [](const arrival& a, const arrival& b) { return a.at < b.at; });

  plan_sweep plan(in.demand);
  plan.advance_to(in.now);
  p.demand_above_plan = plan.planned() && in.rate > 1.1 * plan.plan_rate();

  // Walk the future piece by piece: constant rate between edges, receipts at their times.
  // Late receipts in their grace arrive "now", before anything else.
  epoch_ms t = in.now;
  double stock = in.level;
  std::size_t next_arrival = 0;
  while (next_arrival < arrivals.size() && arrivals[next_arrival].at <= t) {
    stock += arrivals[next_arrival++].quantity;
    ++p.counted_receipts;
  }
  bool below_safety = stock <= in.safety_stock;
  if (below_safety) p.covered_until = in.now;
  while (t < horizon_end) {
    const epoch_ms arrival_at = next_arrival < arrivals.size() ? arrivals[next_arrival].at : horizon_end;
    const epoch_ms until = std::min(arrival_at, plan.next_edge_after(t, horizon_end));
    const double rate = plan.rate(in.rate);
    if (plan.planned() && rate > 0.0) p.plan_used = true;
    if (!p.covered_until) {
      if (const auto at = crossing(t, stock, rate, in.safety_stock, until)) {
        p.covered_until = *at;
        below_safety = true;
      }
    }
    if (const auto at = crossing(t, stock, rate, 0.0, until)) {
      p.stockout = *at;
      return p;
    }
    stock -= rate * static_cast<double>(until - t) / ms_per_hour;
    t = until;
    plan.advance_to(t);
    while (next_arrival < arrivals.size() && arrivals[next_arrival].at <= t) {
      // Only a receipt due before the stock reaches the safety stock counts: one after
      // it does not keep the plant out of its safety stock.
      if (!below_safety) {
        stock += arrivals[next_arrival].quantity;
        ++p.counted_receipts;
      }
      ++next_arrival;
    }
  }
  return p;
}

shortage_reason reason_for(const supply_projection& p) {
  if (p.late_receipts > 0) return shortage_reason::late_receipt;
  if (p.demand_above_plan) return shortage_reason::demand_above_plan;
  // A receipt that counted but does not last; one due too late to count is no cover.
  if (p.counted_receipts > 0) return shortage_reason::receipt_too_small;
  return shortage_reason::no_cover;
}

double normal_quantile(double p) {
  // Acklam's rational approximation (relative error below 1.2e-9), refined by one
  // Halley step against erfc; exact enough for a safety factor.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (!(p > 0.0 && p < 1.0)) return std::numeric_limits<double>::quiet_NaN();
  const double low = 0.02425;
  double x = 0.0;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double variability_safety_stock(double service_level, double rate, double rate_sd, double lead_time_h,
                                double lead_time_sd_h) {
  const double z = normal_quantile(service_level);
  if (!std::isfinite(z) || z <= 0.0) return 0.0;
  const double variance = lead_time_h * rate_sd * rate_sd + rate * rate * lead_time_sd_h * lead_time_sd_h;
  return variance > 0.0 ? z * std::sqrt(variance) : 0.0;
}

}  // namespace plant::edge
