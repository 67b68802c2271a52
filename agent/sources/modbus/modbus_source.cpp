#include "agent/sources/modbus/modbus_source.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>

namespace plant::sources {

namespace {

bool is_bit_area(sources::modbus_area area) {
  return area == sources::modbus_area::coil || area == sources::modbus_area::discrete;
}

bool is_float(sources::modbus_type type) {
  return type == sources::modbus_type::float32 || type == sources::modbus_type::float64;
}

// The width at which a counter point wraps.
int counter_width(const sources::modbus_point& point) {
  if (is_bit_area(point.area) || point.bit || point.type == sources::modbus_type::boolean) return 16;
  if (is_float(point.type)) return 64;
  return 16 * registers_of(point.type);
}

std::string hex_word(std::uint16_t word) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%04X", static_cast<unsigned>(word));
  return buffer;
}

}  // namespace

modbus_source::modbus_source(const sources::modbus_settings& cfg)
    : cfg_(cfg), log_("modbus", cfg.common.name) {
  const std::string error = parse_endpoint(cfg_, endpoint_);
  if (!error.empty()) throw std::invalid_argument("source '" + cfg_.common.name + "': " + error);
  peer_ = endpoint_.address + " unit " + std::to_string(cfg_.unit_id);

  auto add = [this](const sources::modbus_point& point, role what, std::size_t owner, const std::string& fallback) {
    point_slot slot{point, what, owner};
    // Configs made in code (tests) carry no key path; messages still need one.
    if (slot.point.key_path.empty()) slot.point.key_path = fallback;
    points_.push_back(std::move(slot));
  };
  for (std::size_t i = 0; i < cfg_.lines.size(); ++i) {
    const sources::modbus_line& line = cfg_.lines[i];
    const std::string base = cfg_.common.name + ".line[" + std::to_string(i) + "].";
    if (line.state) add(*line.state, role::state, i, base + "state");
    if (line.good_count) add(*line.good_count, role::good_count, i, base + "good_count");
    if (line.reject_count) add(*line.reject_count, role::reject_count, i, base + "reject_count");
    counters_.push_back({part_counter(line.good_count ? counter_width(*line.good_count) : 32),
                         part_counter(line.reject_count ? counter_width(*line.reject_count) : 32)});
  }
  for (std::size_t i = 0; i < cfg_.stocks.size(); ++i) {
    add(cfg_.stocks[i].quantity, role::quantity, i, cfg_.common.name + ".stock[" + std::to_string(i) + "].quantity");
  }

  std::vector<sources::modbus_point> plain;
  plain.reserve(points_.size());
  for (const auto& slot : points_) plain.push_back(slot.point);
  plan_ = plan_requests(plain, cfg_.max_gap);
  log_.debug("plan: " + std::to_string(plan_.size()) + (plan_.size() == 1 ? " request for " : " requests for ") +
             std::to_string(points_.size()) + " points from " + peer_);
  for (const auto& request : plan_) log_.debug("plan: " + describe(request));

  if (endpoint_.rtu) {
    bus_ = rtu_bus::acquire(endpoint_, cfg_.common.name);
  } else {
    own_client_ = std::make_unique<modbus_client>(endpoint_);
  }
}

modbus_source::~modbus_source() = default;

poll_result modbus_source::poll(epoch_ms now) {
  if (bus_) {
    // A serial bus carries one request at a time: the units on it take turns.
    std::lock_guard<std::mutex> lock(bus_->mutex());
    return poll_with(bus_->client(), now);
  }
  return poll_with(*own_client_, now);
}

bool modbus_source::ensure_connected(modbus_client& client, std::string& error) {
  if (client.connected()) {
    ever_connected_ = true;
    return true;
  }
  // One attempt per poll: when it fails, the poll fails, and the core's backoff
  // (retry_min_delay .. retry_max_delay, with jitter) decides when to poll again.
  std::string reason;
  if (!client.connect(cfg_.timeout, reason)) {
    error = peer_ + ": connect: " + reason;
    return false;
  }
  if (ever_connected_) {
    ++reconnects_;
    log_.info("reconnected to " + peer_);
  } else {
    log_.info("connected to " + peer_);
  }
  ever_connected_ = true;
  return true;
}

poll_result modbus_source::poll_with(modbus_client& client, epoch_ms now) {
  poll_result out;
  std::string error;
  if (!ensure_connected(client, error)) {
    out.error = error;
    return out;
  }
  std::string reason;
  if (!client.prepare(cfg_.unit_id, cfg_.timeout, reason)) {
    out.error = peer_ + ": " + reason;
    return out;
  }

  std::vector<point_reading> readings(points_.size());
  std::string exceptions;
  std::vector<std::uint16_t> registers;
  std::vector<std::uint8_t> bits;
  for (const modbus_request& request : plan_) {
    read_status status;
    if (is_bit_area(request.area)) {
      bits.assign(request.count, 0);
      status = client.read_bits(request.area, request.start, request.count, bits.data());
    } else {
      registers.assign(request.count, 0);
      status = client.read_registers(request.area, request.start, request.count, registers.data());
    }
    if (status.ok()) {
      decode_request(request, registers, bits, readings);
      continue;
    }
    const std::string what = "read " + range_text(request) + ": " + status.reason;
    if (status.kind == read_status::kind_t::exception) {
      // The device is there and answering; only this range is refused.
      for (std::size_t index : request.points) {
        readings[index].value = failed_point(points_[index].point, status.reason);
        readings[index].read = true;
        readings[index].exception = true;
      }
      exceptions += (exceptions.empty() ? "" : "; ") + what;
      continue;
    }
    if (status.must_close) {
      client.close();
    } else {
      client.flush();
    }
    remember_probe(readings);
    out.error = peer_ + ": " + what;
    return out;
  }
  build_samples(readings, now, out);
  remember_probe(readings);
  if (!exceptions.empty()) out.error = peer_ + ": " + exceptions;
  return out;
}

void modbus_source::decode_request(const modbus_request& request, const std::vector<std::uint16_t>& registers,
                                   const std::vector<std::uint8_t>& bits,
                                   std::vector<point_reading>& readings) const {
  for (std::size_t index : request.points) {
    const sources::modbus_point& point = points_[index].point;
    point_reading& reading = readings[index];
    const std::size_t offset = point.address - request.start;
    reading.read = true;
    if (is_bit_area(request.area)) {
      reading.registers.assign(1, bits[offset]);
      reading.value = decode_bit(point, bits[offset] != 0);
    } else {
      const auto width = static_cast<std::size_t>(width_of(point));
      reading.registers.assign(registers.begin() + static_cast<std::ptrdiff_t>(offset),
                               registers.begin() + static_cast<std::ptrdiff_t>(offset + width));
      reading.value = decode_registers(point, registers.data() + offset);
    }
  }
}

namespace {

// A counter reading as the unsigned raw value part_counter expects.
std::optional<std::uint64_t> counter_raw(const sources::modbus_point& point, const point_value& value,
                                         std::string& error) {
  if (is_float(point.type) && !point.bit) {
    if (!value.integer || *value.integer < 0) {
      error = point.key_path + ": count " + value.text + " is not a whole non-negative number";
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*value.integer);
  }
  return value.raw_bits;
}

// The published count: the counter's total, scaled only when asked to, so that
// totals beyond 2^53 stay exact by default.
std::optional<std::uint64_t> scaled_count(const sources::modbus_point& point, std::uint64_t total, std::string& error) {
  if (point.scale == 1.0 && point.offset == 0.0) return total;
  const double v = std::round(static_cast<double>(total) * point.scale + point.offset);
  if (!(v >= 0.0) || v > 1.8e19) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.10g", v);
    error = point.key_path + ": count " + buffer + " is out of range after scale and offset";
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(v);
}

}  // namespace

void modbus_source::build_samples(const std::vector<point_reading>& readings, epoch_ms now, poll_result& out) {
  std::vector<sample> lines(cfg_.lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    sample& s = lines[i];
    s.kind = sample::kind_t::line;
    s.name = cfg_.lines[i].id;
    s.source_time = now;
    s.receive_time = now;
    s.good_count = counters_[i].good.total();
    s.reject_count = counters_[i].reject.total();
  }
  std::vector<sample> stocks(cfg_.stocks.size());
  for (std::size_t i = 0; i < stocks.size(); ++i) {
    sample& s = stocks[i];
    s.kind = sample::kind_t::stock;
    s.name = cfg_.stocks[i].material;
    s.unit = cfg_.stocks[i].unit;
    s.location = cfg_.stocks[i].location;
    s.source_time = now;
    s.receive_time = now;
  }

  for (std::size_t index = 0; index < points_.size(); ++index) {
    const point_slot& slot = points_[index];
    const point_reading& reading = readings[index];
    sample& s = slot.what == role::quantity ? stocks[slot.owner] : lines[slot.owner];
    std::string error;
    if (!reading.read) {
      // Cannot happen (a link error ends the poll before samples are built);
      // kept so a plan bug shows as bad data rather than as a zero.
      error = slot.point.key_path + ": not read";
    } else if (!reading.value.ok) {
      error = reading.value.error;
    } else {
      switch (slot.what) {
        case role::state:
          if (auto state = state_of(slot.point, reading.value, error)) s.state = *state;
          break;
        case role::good_count:
        case role::reject_count: {
          part_counter& counter =
              slot.what == role::good_count ? counters_[slot.owner].good : counters_[slot.owner].reject;
          if (auto raw = counter_raw(slot.point, reading.value, error)) {
            counter.update(*raw, now);
            if (auto count = scaled_count(slot.point, counter.total(), error)) {
              if (slot.what == role::good_count) {
                s.good_count = *count;
                s.good_rate = counter.rate_per_minute() * slot.point.scale;
              } else {
                s.reject_count = *count;
              }
            }
          }
          break;
        }
        case role::quantity:
          s.quantity = reading.value.value;
          break;
      }
    }
    if (error.empty()) continue;
    s.q = quality::bad;
    // Exceptions are already the poll's error; rejects are for values that did not decode.
    if (!reading.exception) out.rejects.push_back(std::move(error));
  }

  out.samples.reserve(lines.size() + stocks.size());
  for (auto& s : lines) out.samples.push_back(std::move(s));
  for (auto& s : stocks) out.samples.push_back(std::move(s));
}

std::string modbus_source::probe_line(const point_slot& slot, const point_reading& reading) const {
  const sources::modbus_point& p = slot.point;
  std::string line = p.key_path + ": " + to_string(p.area) + " " + std::to_string(p.address);
  if (!is_bit_area(p.area)) {
    if (p.bit) {
      line += " bit " + std::to_string(*p.bit);
    } else {
      line += std::string(" ") + to_string(p.type);
      if (registers_of(p.type) > 1) line += std::string(" ") + to_string(p.order);
    }
  }
  line += ": raw";
  if (!reading.read) return line + " -: not read";
  if (reading.registers.empty()) {
    line += " -";
  } else if (is_bit_area(p.area)) {
    for (auto bit : reading.registers) line += bit != 0 ? " 1" : " 0";
  } else {
    for (auto word : reading.registers) line += " " + hex_word(word);
  }
  if (!reading.value.ok) {
    const std::string& error = reading.value.error;
    const std::string prefix = p.key_path + ": ";
    return line + ": bad: " + (error.rfind(prefix, 0) == 0 ? error.substr(prefix.size()) : error);
  }
  line += ": " + reading.value.text;
  if (slot.what == role::state) {
    std::string error;
    auto state = state_of(p, reading.value, error);
    line += state ? " (" + std::string(to_string(*state)) + ")" : " (bad: " + error + ")";
  }
  return line;
}

void modbus_source::remember_probe(const std::vector<point_reading>& readings) {
  std::vector<std::string> lines;
  lines.reserve(points_.size());
  for (std::size_t i = 0; i < points_.size(); ++i) lines.push_back(probe_line(points_[i], readings[i]));
  std::lock_guard<std::mutex> lock(probe_mutex_);
  probe_lines_ = std::move(lines);
}

sample_report_rule modbus_source::report_rule(const sample& s) const {
  // Asked once per point (the core keeps the answer), so a scan is cheap enough.
  sample_report_rule rule;
  if (s.kind == sample::kind_t::line) {
    for (const auto& line : cfg_.lines) {
      if (line.id != s.name) continue;
      if (line.state) rule.value = line.state->report;
      if (line.good_count) rule.good_count = line.good_count->report;
      if (line.reject_count) rule.reject_count = line.reject_count->report;
      break;
    }
  } else {
    for (const auto& stock : cfg_.stocks) {
      if (stock.material != s.name || stock.location != s.location) continue;
      rule.value = stock.quantity.report;
      break;
    }
  }
  return rule;
}

bool modbus_source::has_point_report_rules() const {
  return std::any_of(points_.begin(), points_.end(), [](const point_slot& slot) { return slot.point.report.filters(); });
}

std::vector<sample> modbus_source::configured_points(epoch_ms now) const {
  std::vector<sample> out;
  out.reserve(cfg_.lines.size() + cfg_.stocks.size());
  for (const auto& line : cfg_.lines) {
    sample s;
    s.kind = sample::kind_t::line;
    s.name = line.id;
    s.q = quality::bad;
    s.source_time = now;
    s.receive_time = now;
    out.push_back(std::move(s));
  }
  for (const auto& stock : cfg_.stocks) {
    sample s;
    s.kind = sample::kind_t::stock;
    s.name = stock.material;
    s.unit = stock.unit;
    s.location = stock.location;
    s.q = quality::bad;
    s.source_time = now;
    s.receive_time = now;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> modbus_source::probe_details() const {
  std::lock_guard<std::mutex> lock(probe_mutex_);
  return probe_lines_;
}

std::unique_ptr<source> make_modbus_source(const source_settings& settings, const source_context&) {
  return std::make_unique<modbus_source>(static_cast<const modbus_settings&>(settings));
}

}  // namespace plant::sources
