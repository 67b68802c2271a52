#pragma once
/// The "modbus" source: reads a PLC's register map over Modbus TCP or RTU and
/// turns it into one line sample per [[line]] and one stock sample per [[stock]].
///
/// - Blocking: libmodbus blocks, so the core polls this source on a worker
///   thread of its own; every request has the configured timeout as deadline,
///   so a dead device costs its own worker at most `timeout` per request and
///   never delays another source. TCP sources each own their connection; RTU
///   sources on one port share it through rtu_bus and take turns.
/// - Few requests: the points are read by the plan of modbus_request_plan.hpp,
///   logged at debug level when the source is made.
/// - Link failures (refused, timed out, reset, garbled answers) end the poll
///   with an error naming the peer, the request and the reason
///   ("tcp://127.0.0.1:1502 unit 1: read holding 0..11: Connection timed out")
///   and no samples: the core backs off and republishes the last values as stale.
///   A TCP connection is closed after any such failure and reopened by a later
///   poll (counted in reconnects()); how soon is the core's backoff, the same
///   for every source (retry_min_delay .. retry_max_delay).
/// - An exception answer (illegal data address, ...) spoils only its request:
///   the points it covers are published with quality bad, the other requests
///   are read as usual, and the poll's error names the exception.
/// - Values that do not decode (NaN, a state value missing from `map`) are
///   quality bad and reported as rejects naming the key path and the value.
/// - Counters go through part_counter (wraparound and PLC resets); good_rate is
///   parts per minute over the last minute.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/modbus/modbus_settings.hpp"
#include "common/core/log.hpp"
#include "agent/sources/modbus/modbus_client.hpp"
#include "agent/sources/modbus/modbus_decoding.hpp"
#include "agent/sources/modbus/modbus_request_plan.hpp"
#include "agent/sources/modbus/part_counter.hpp"
#include "agent/sources/modbus/rtu_bus.hpp"
#include "agent/sources/source.hpp"
#include "agent/sources/source_registry.hpp"

namespace plant::sources {

class modbus_source final : public source {
 public:
  /// Plans the requests; opens nothing yet (the first poll connects). Throws
  /// std::invalid_argument for an address it cannot use or serial settings that
  /// conflict with another source on the same port (start-up errors).
  explicit modbus_source(const sources::modbus_settings& cfg);
  /// Closes a TCP connection; an RTU port closes with its last source.
  ~modbus_source() override;

  /// The configured name.
  const std::string& name() const override { return cfg_.common.name; }
  /// "modbus".
  std::string_view kind() const override { return "modbus"; }
  /// cfg.interval.
  std::chrono::milliseconds interval() const override { return cfg_.common.interval; }
  /// True: libmodbus blocks.
  bool blocking() const override { return true; }
  /// Connects if needed, runs the plan, decodes; `now` stamps every sample.
  poll_result poll(epoch_ms now) override;
  /// Connections re-established after a loss.
  std::uint64_t reconnects() const override { return reconnects_.load(); }
  /// One line per point of the last poll: key path, area, address, raw registers, value.
  std::vector<std::string> probe_details() const override;
  /// Every configured line and stock, quality bad and without a value.
  std::vector<sample> configured_points(epoch_ms now) const override;
  /// The deadband keys written on the points of the line or stock behind `s`.
  sample_report_rule report_rule(const sample& s) const override;
  /// True when any point has deadband keys of its own.
  bool has_point_report_rules() const override;

  /// The read requests of one poll.
  const std::vector<modbus_request>& plan() const { return plan_; }
  /// "tcp://127.0.0.1:1502 unit 1": how messages name the device.
  const std::string& peer() const { return peer_; }

 private:
  enum class role : std::uint8_t { state, good_count, reject_count, quantity };
  struct point_slot {
    sources::modbus_point point;
    role what;
    std::size_t owner;  // index into cfg_.lines or cfg_.stocks
  };
  struct point_reading {
    point_value value;
    std::vector<std::uint16_t> registers;  // raw registers, or bits as 0/1
    bool read = false;
    bool exception = false;  // refused by an exception answer
  };
  struct line_counters {
    part_counter good;
    part_counter reject;
  };

  poll_result poll_with(modbus_client& client, epoch_ms now);
  bool ensure_connected(modbus_client& client, std::string& error);
  void decode_request(const modbus_request& request, const std::vector<std::uint16_t>& registers,
                      const std::vector<std::uint8_t>& bits, std::vector<point_reading>& readings) const;
  void build_samples(const std::vector<point_reading>& readings, epoch_ms now, poll_result& out);
  void remember_probe(const std::vector<point_reading>& readings);
  std::string probe_line(const point_slot& slot, const point_reading& reading) const;

  sources::modbus_settings cfg_;
  modbus_endpoint endpoint_;
  std::string peer_;
  log::logger log_;
  std::vector<point_slot> points_;
  std::vector<modbus_request> plan_;
  std::vector<line_counters> counters_;   // one per cfg_.lines entry

  std::unique_ptr<modbus_client> own_client_;  // tcp://
  std::shared_ptr<rtu_bus> bus_;               // rtu://

  bool ever_connected_ = false;
  std::atomic<std::uint64_t> reconnects_{0};

  mutable std::mutex probe_mutex_;
  std::vector<std::string> probe_lines_;
};

/// The registry's factory for [[source.modbus]].
std::unique_ptr<source> make_modbus_source(const source_settings& settings, const source_context& context);

}  // namespace plant::sources
