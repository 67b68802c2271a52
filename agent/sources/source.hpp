#pragma once
/// The source contract: a source knows how to read its data and nothing else.
/// Scheduling, deadlines, backoff, stats, log prefixes and quality marking live
/// in polled_source, which wraps every source.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/report_by_exception.hpp"
#include "agent/sources/supply_snapshot.hpp"
#include "common/core/sample.hpp"

namespace plant::sources {

/// What one poll produced.
struct poll_result {
  std::vector<sample> samples;
  /// Per-item problems that did not fail the poll (a bad CSV row, an undecodable
  /// point), already carrying their location, e.g. "stock.csv:12: quantity: ...".
  std::vector<std::string> rejects;
  /// Set when the poll failed as a whole (device unreachable, directory missing).
  std::optional<std::string> error;
  /// Sources that consume their input: nonzero names what these samples came from;
  /// settle(token, safe) reports later whether they were made safe.
  std::uint64_t settle_token = 0;
  /// The source has more ready right now (the next chunk of a file): poll again at once.
  bool more = false;
  /// Receipts or demand snapshots read by this poll (CSV kinds receipts and demand).
  std::vector<supply_snapshot> supplies;
};

class source {
 public:
  virtual ~source() = default;
  /// The configured name, unique across all sources.
  virtual const std::string& name() const = 0;
  /// "simulator", "csv", "modbus".
  virtual std::string_view kind() const = 0;
  /// Wall-clock period between polls.
  virtual std::chrono::milliseconds interval() const = 0;
  /// True when poll() may block on I/O; such sources are polled on a worker
  /// thread of their own so that one slow device never delays another.
  virtual bool blocking() const { return false; }
  /// Reads whatever is due. `now` is the wall clock at the tick (Unix ms).
  virtual poll_result poll(epoch_ms now) = 0;
  /// True for sources whose every poll reports the current value of each point
  /// (PLCs, simulator): while they fail, the core republishes their last values
  /// as stale. False for event-like sources such as file drops.
  virtual bool reports_current_values() const { return true; }
  /// The samples of the poll that returned `token` are safe (on disk or acknowledged by the
  /// broker: `safe` true) or were dropped before they were (`safe` false). A source that
  /// consumes its input (a CSV file) gives it up only on true, and reads it again on false.
  /// Calls may come in any order.
  virtual void settle(std::uint64_t token, bool safe) {
    (void)token;
    (void)safe;
  }
  /// Every point the source is configured to read, with quality bad and no value: published
  /// when it has never answered, so every configured point is visible from the first poll.
  virtual std::vector<sample> configured_points(epoch_ms now) const {
    (void)now;
    return {};
  }
  /// The report-by-exception keys of the point behind `s` as written on the point itself
  /// (Modbus points); the core lays them over the source's own keys. {} for sources
  /// whose points have no keys of their own.
  virtual sample_report_rule report_rule(const sample& s) const {
    (void)s;
    return {};
  }
  /// True when some point has report-by-exception keys of its own.
  virtual bool has_point_report_rules() const { return false; }
  /// Reconnects the source made so far (devices with connections).
  virtual std::uint64_t reconnects() const { return 0; }
  /// For `plant-agent --probe`: one line per point of the last poll, with its
  /// raw registers and decoded value. Empty for sources with nothing raw to show.
  virtual std::vector<std::string> probe_details() const { return {}; }
};

}  // namespace plant::sources
