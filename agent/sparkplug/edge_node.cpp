#include "agent/sparkplug/edge_node.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "agent/sparkplug/sparkplug_payloads.hpp"
#include "common/wire/json_reader.hpp"
#include "common/wire/wire_names.hpp"
#include "plant/v1/plant.pb.h"

namespace plant::sparkplug {
namespace {

// Room a metric needs besides its own bytes (field tag and length) when deciding splits.
constexpr std::size_t per_metric_overhead = 8;
// The payload's timestamp and seq.
constexpr std::size_t payload_overhead = 32;

quality quality_of(v1::Quality q) {
  switch (q) {
    case v1::QUALITY_STALE:
      return quality::stale;
    case v1::QUALITY_BAD:
      return quality::bad;
    default:
      return quality::good;
  }
}

}  // namespace

edge_node::edge_node(boost::asio::io_context& io, edge_node_settings settings, transport::publisher_events outer,
                     std::function<std::string()> status_now)
    : io_(io),
      settings_(std::move(settings)),
      outer_(std::move(outer)),
      status_now_(std::move(status_now)),
      bdseq_(settings_.bdseq_file) {
  if (!bdseq_.last_error().empty()) log_.warn(bdseq_.last_error());
  host_online_ = settings_.primary_host_id.empty();
  declare_node_metrics();
}

transport::publisher_events edge_node::wire_events() {
  transport::publisher_events events;
  events.connected = [this] { on_wire_connected(); };
  events.connection_lost = [this](const std::string& reason) { on_wire_lost(reason); };
  events.delivered = [this](std::uint64_t tag) { on_wire_delivered(tag); };
  events.refused = [this](std::uint64_t tag, const transport::publish_refusal& refusal) {
    on_wire_refused(tag, refusal);
  };
  events.message = [this](const std::string& topic, const std::string& payload) { on_message(topic, payload); };
  return events;
}

std::optional<mqtt_link::will_message> edge_node::will_for_next_connect() {
  const std::uint64_t number = bdseq_.for_next_connect();
  if (!bdseq_.last_error().empty()) log_.limited(log::level::warn, "bdseq-file", bdseq_.last_error());
  mqtt_link::will_message will;
  will.topic = topic_for(message_type::ndeath);
  will.payload = encode_ndeath(number, wall_clock_ms());
  will.qos = 1;             // specification: NDEATH Will with QoS 1
  will.retained = false;    // and not retained
  return will;
}

std::vector<std::string> edge_node::subscriptions() const {
  std::vector<std::string> filters{topic_for(message_type::ncmd), topic_for(message_type::dcmd, "+")};
  if (!settings_.primary_host_id.empty()) filters.push_back(state_topic(settings_.primary_host_id));
  return filters;
}

void edge_node::attach(transport::message_publisher& wire, std::function<void(const std::string&)> restart_session) {
  wire_ = &wire;
  restart_session_ = std::move(restart_session);
}

std::string edge_node::topic_for(message_type type, const std::string& device) const {
  topic t;
  t.type = type;
  t.group_id = settings_.group_id;
  t.edge_node_id = settings_.edge_node_id;
  t.device_id = device;
  return format_topic(t);
}

std::uint64_t edge_node::next_seq() {
  const std::uint64_t seq = seq_;
  seq_ = (seq_ + 1) % 256;
  return seq;
}

// --- node metrics -------------------------------------------------------------------

void edge_node::declare_node_metrics() {
  bool added = false;
  std::size_t bdseq = table_.declare("", std::string(bdseq_metric), datatype::uint64, "", false, added);
  table_.at(bdseq).carries_quality = false;
  // Hosts send the rebirth request by name; it must have no alias (sparkplug PR #270).
  std::size_t rebirth = table_.declare("", std::string(rebirth_metric), datatype::boolean, "", false, added);
  table_.at(rebirth).carries_quality = false;
  table_.set_current({rebirth, metric_value::of_flag(false), quality_good, 0});
  std::size_t version = table_.declare("", std::string(version_metric), datatype::string, "", true, added);
  table_.at(version).carries_quality = false;
  table_.set_current({version, metric_value::of_text(settings_.version), quality_good, 0});
  for (std::string_view name : {backlog_messages_metric, backlog_oldest_age_metric, dropped_metric, corrupted_metric})
    table_.declare("", std::string(name), datatype::uint64, "", true, added);
  for (const std::string& material : settings_.materials) {
    table_.declare("", shortage_metric(material, "status"), datatype::string, "", true, added);
    table_.declare("", shortage_metric(material, "projected_stockout"), datatype::datetime, "", true, added);
    table_.declare("", shortage_metric(material, "rate"), datatype::double_, "", true, added);
  }
}

std::size_t edge_node::node_metric(const std::string& name) const { return table_.find("", name); }

std::vector<metric_reading> edge_node::readings_of_material(const v1::MaterialStatus& material, epoch_ms at) {
  std::vector<metric_reading> readings;
  const std::size_t status = node_metric(shortage_metric(material.material(), "status"));
  if (status == metric_table::npos) return readings;  // not a configured [[material]]
  // Before its first decision a material has no status: null rather than a word outside ok|low|critical|out.
  readings.push_back({status,
                      material.status() == v1::STOCK_STATUS_UNKNOWN
                          ? metric_value{}
                          : metric_value::of_text(std::string(wire::stock_status_name(material.status()))),
                      quality_good, at});
  readings.push_back({node_metric(shortage_metric(material.material(), "projected_stockout")),
                      metric_value::of_integer(static_cast<std::uint64_t>(std::max<std::int64_t>(0, material.projected_stockout()))),
                      quality_good, at});
  readings.push_back({node_metric(shortage_metric(material.material(), "rate")), metric_value::of_number(material.rate()),
                      quality_good, at});
  return readings;
}

std::vector<metric_reading> edge_node::readings_of_status(const v1::AgentStatus& status, epoch_ms at) {
  std::vector<metric_reading> readings{
      {node_metric(std::string(backlog_messages_metric)), metric_value::of_integer(status.backlog().messages()),
       quality_good, at},
      {node_metric(std::string(backlog_oldest_age_metric)),
       metric_value::of_integer(static_cast<std::uint64_t>(std::max<std::int64_t>(0, status.backlog().oldest_age_ms()))),
       quality_good, at},
      {node_metric(std::string(dropped_metric)), metric_value::of_integer(status.dropped()), quality_good, at},
      {node_metric(std::string(corrupted_metric)), metric_value::of_integer(status.corrupted()), quality_good, at},
  };
  for (const v1::MaterialStatus& material : status.materials()) {
    std::vector<metric_reading> more = readings_of_material(material, at);
    readings.insert(readings.end(), more.begin(), more.end());
  }
  return readings;
}

// --- births ---------------------------------------------------------------------------

void edge_node::publish_device_birth(const std::string& device, epoch_ms now, std::vector<outgoing>& out) {
  tahu::Payload payload;
  payload.set_timestamp(static_cast<std::uint64_t>(now));
  for (std::size_t index : table_.metrics_of(device)) add_birth_metric(payload, table_.at(index));
  payload.set_seq(next_seq());
  out.push_back({topic_for(message_type::dbirth, device), payload.SerializeAsString()});
  table_.mark_born(device);
  born_devices_.insert(device);
}

void edge_node::publish_births(epoch_ms now) {
  // The node metrics as the agent sees them right now.
  if (status_now_) {
    v1::Envelope envelope;
    if (envelope.ParseFromString(status_now_()) && envelope.has_status())
      for (const metric_reading& reading : readings_of_status(envelope.status(), now)) table_.set_current(reading);
  }
  table_.set_current({node_metric(std::string(bdseq_metric)), metric_value::of_integer(bdseq_.current()), quality_good, 0});
  std::vector<outgoing> out;
  seq_ = 0;
  tahu::Payload nbirth;
  nbirth.set_timestamp(static_cast<std::uint64_t>(now));
  for (std::size_t index : table_.metrics_of("")) add_birth_metric(nbirth, table_.at(index));
  nbirth.set_seq(next_seq());
  out.push_back({topic_for(message_type::nbirth), nbirth.SerializeAsString()});
  table_.mark_born("");
  born_devices_.clear();
  for (const std::string& device : table_.devices())
    if (dead_devices_.count(device) == 0) publish_device_birth(device, now, out);
  ++counters_.births;
  rebirth_due_ = false;
  send_all(out, 0);
}

// --- the connection -----------------------------------------------------------------

void edge_node::on_wire_connected() {
  wire_connected_ = true;
  bdseq_.session_established();
  born_devices_.clear();
  if (!settings_.primary_host_id.empty()) {
    // A new session learns the host's state again (its retained STATE arrives next).
    host_online_ = false;
    log_.info("connected; waiting for the primary host " + settings_.primary_host_id + " (" +
              state_topic(settings_.primary_host_id) + ") to be online before the birth");
    return;
  }
  go_online();
}

void edge_node::go_online() {
  if (online_ || !wire_connected_ || !wire_) return;
  publish_births(wall_clock_ms());
  if (!wire_->connected()) return;  // the births found the connection gone
  online_ = true;
  log_.info("born as " + topic_for(message_type::nbirth) + " (bdSeq " + std::to_string(bdseq_.current()) + ", " +
            std::to_string(born_devices_.size()) + " devices)");
  if (outer_.connected) outer_.connected();
}

void edge_node::go_offline(const std::string& reason) {
  if (!online_) return;
  // The specification has the node end its session when the primary host goes away:
  // an NDEATH now, then a new session (new bdSeq) that waits for the host to return.
  std::vector<outgoing> out{{topic_for(message_type::ndeath), encode_ndeath(bdseq_.current(), wall_clock_ms())}};
  wire_->publish(out.front().topic, std::move(out.front().payload), 1, false, next_wire_tag_++);
  online_ = false;
  wire_to_outer_.clear();
  outer_pending_.clear();
  if (outer_.connection_lost) outer_.connection_lost(reason);
  if (restart_session_) restart_session_(reason);
}

void edge_node::on_wire_lost(const std::string& reason) {
  wire_connected_ = false;
  wire_to_outer_.clear();
  outer_pending_.clear();
  born_devices_.clear();
  if (!online_) return;
  online_ = false;
  if (outer_.connection_lost) outer_.connection_lost(reason);
}

void edge_node::on_wire_delivered(std::uint64_t wire_tag) {
  auto found = wire_to_outer_.find(wire_tag);
  if (found == wire_to_outer_.end()) return;
  const std::uint64_t outer_tag = found->second;
  wire_to_outer_.erase(found);
  auto pending = outer_pending_.find(outer_tag);
  if (pending == outer_pending_.end()) return;
  if (--pending->second > 0) return;
  outer_pending_.erase(pending);
  if (outer_.delivered) outer_.delivered(outer_tag);
}

void edge_node::on_wire_refused(std::uint64_t wire_tag, const transport::publish_refusal& refusal) {
  auto found = wire_to_outer_.find(wire_tag);
  if (found == wire_to_outer_.end()) return;
  const std::uint64_t outer_tag = found->second;
  // One refusal settles the whole outbox message; its other parts no longer count.
  for (auto it = wire_to_outer_.begin(); it != wire_to_outer_.end();)
    it = it->second == outer_tag ? wire_to_outer_.erase(it) : std::next(it);
  outer_pending_.erase(outer_tag);
  if (outer_tag != 0 && outer_.refused) outer_.refused(outer_tag, refusal);
}

void edge_node::on_message(const std::string& topic_text, const std::string& payload) {
  const std::optional<topic> t = parse_topic(topic_text);
  if (!t) return;
  if (t->type == message_type::state) {
    if (t->edge_node_id == settings_.primary_host_id) on_state(payload);
    return;
  }
  if ((t->type == message_type::ncmd || t->type == message_type::dcmd) && t->group_id == settings_.group_id &&
      t->edge_node_id == settings_.edge_node_id)
    on_command(*t, payload);
}

void edge_node::on_state(const std::string& payload) {
  const std::string where = state_topic(settings_.primary_host_id);
  // A STATE is a few dozen bytes; anything large is not one, and is not parsed.
  constexpr std::size_t max_state_bytes = 4096;
  if (payload.size() > max_state_bytes) {
    log_.limited(log::level::warn, "state-payload",
                 where + ": " + std::to_string(payload.size()) + " bytes is not a STATE payload; ignored");
    return;
  }
  const wire::json_parse_result parsed = wire::parse_json(payload, 4);
  const wire::json_value* online = parsed.ok() ? parsed.value.find("online") : nullptr;
  const wire::json_value* timestamp = parsed.ok() ? parsed.value.find("timestamp") : nullptr;
  if (!online || !online->is_bool() || !timestamp || !timestamp->is_number()) {
    log_.limited(log::level::warn, "state-payload",
                 where + ": not a Sparkplug 3.0 STATE payload ({\"online\":bool,\"timestamp\":ms})" +
                     (parsed.ok() ? std::string() : ": " + parsed.error) + "; ignored");
    return;
  }
  const auto at = static_cast<std::int64_t>(timestamp->as_number());
  // A STATE older than one already taken is a stale retained copy (specification 5.x: compare timestamps).
  if (at < host_state_time_) return;
  host_state_time_ = at;
  if (online->as_bool()) {
    if (!host_online_) log_.info("primary host " + settings_.primary_host_id + " is online");
    host_online_ = true;
    go_online();
    return;
  }
  if (host_online_) {
    ++counters_.host_offline;
    log_.warn("primary host " + settings_.primary_host_id +
              " is offline: holding data in the spool until it is back (then sent as is_historical)");
  }
  host_online_ = false;
  go_offline("primary host " + settings_.primary_host_id + " offline");
}

void edge_node::on_command(const topic& t, const std::string& payload) {
  tahu::Payload command;
  if (!command.ParseFromString(payload)) {
    log_.limited(log::level::warn, "command-payload", format_topic(t) + ": not a Sparkplug B payload; ignored");
    return;
  }
  for (const tahu::Payload::Metric& metric : command.metrics()) {
    if (t.type == message_type::ncmd && metric.name() == rebirth_metric) {
      if (!metric.boolean_value()) continue;
      ++counters_.rebirth_requests;
      log_.info("rebirth requested by " + format_topic(t));
      if (online_) publish_births(wall_clock_ms());
      continue;
    }
    ++counters_.commands_ignored;
    log_.limited(log::level::info, "command-ignored",
                 format_topic(t) + ": metric '" + (metric.has_name() ? metric.name() : "alias " + std::to_string(metric.alias())) +
                     "' ignored (plant-agent writes nothing to devices)");
  }
}

// --- data ---------------------------------------------------------------------------

transport::publish_outcome edge_node::publish(const std::string&, std::string payload, int, bool, std::uint64_t tag) {
  if (!online_ || !wire_ || !wire_->connected()) return transport::publish_outcome::retry;
  v1::Envelope envelope;
  if (!envelope.ParseFromString(payload)) {
    log_.limited(log::level::error, "envelope", "message " + std::to_string(tag) + " is not a plant.v1 envelope; dropped");
    return transport::publish_outcome::drop;
  }
  const epoch_ms now = wall_clock_ms();
  if (rebirth_due_) publish_births(now);
  if (!online_ || !wire_->connected()) return transport::publish_outcome::retry;
  const bool historical = envelope.replayed();
  std::vector<outgoing> out;
  switch (envelope.body_case()) {
    case v1::Envelope::kTelemetry:
      if (!encode_telemetry(envelope.telemetry(), historical, now, out)) return transport::publish_outcome::retry;
      break;
    case v1::Envelope::kAlert:
      encode_node_data(readings_of_material(envelope.alert().material(), envelope.alert().material().at()),
                       historical, now, out);
      break;
    case v1::Envelope::kStatus:
      if (envelope.status().state() == v1::AgentStatus::STATE_OFFLINE) {
        // A clean stop: the node says its own NDEATH (the DISCONNECT that follows discards the Will).
        out.push_back({topic_for(message_type::ndeath), encode_ndeath(bdseq_.current(), now)});
        online_ = false;
        const std::uint64_t wire_tag = next_wire_tag_++;
        return wire_->publish(out.front().topic, std::move(out.front().payload), 1, false, wire_tag);
      }
      encode_node_data(readings_of_status(envelope.status(), envelope.status().time()), false, now, out);
      break;
    default:
      return transport::publish_outcome::drop;
  }
  if (out.empty()) {
    // Nothing changed (report by exception): the message is as good as delivered.
    if (tag != 0)
      boost::asio::post(io_, [this, tag] {
        if (outer_.delivered) outer_.delivered(tag);
      });
    return transport::publish_outcome::ok;
  }
  return send_all(out, tag);
}

bool edge_node::encode_telemetry(const v1::TelemetryBatch& batch, bool historical, epoch_ms now,
                                 std::vector<outgoing>& out) {
  struct device_readings {
    std::string device;
    std::vector<metric_reading> readings;
    bool stale = false;   ///< the source stopped answering (its values are republished stale)
    bool new_metric = false;
    bool rebury = false;  ///< held data of a source that is dead now: DBIRTH, the data, DDEATH again
  };
  std::vector<device_readings> devices;
  auto device_of = [&](std::uint32_t source) -> device_readings& {
    const std::string name = static_cast<int>(source) < batch.sources_size() ? batch.sources(static_cast<int>(source))
                                                                           : "source-" + std::to_string(source);
    for (auto& d : devices)
      if (d.device == name) return d;
    devices.push_back({name, {}, false, false, false});
    return devices.back();
  };
  auto add = [&](device_readings& d, const std::string& name, datatype type, const std::string& unit,
                 metric_value value, quality q, epoch_ms at) {
    bool added = false;
    if (table_.size() >= settings_.max_metrics && table_.find(d.device, name) == metric_table::npos) {
      ++counters_.metrics_dropped;
      log_.limited(log::level::warn, "max-metrics",
                   d.device + ": more than " + std::to_string(settings_.max_metrics) + " metrics; '" + name +
                       "' and further new ones are not sent (counted in plant_agent_sparkplug_metrics_dropped_total)");
      return;
    }
    const std::size_t index = table_.declare(d.device, name, type, unit, true, added);
    d.new_metric = d.new_metric || added;
    if (q == quality::bad) value = metric_value{};  // a failed read has no value
    d.readings.push_back({index, std::move(value), quality_code(q), at});
    if (q == quality::stale) d.stale = true;
  };
  const epoch_ms base = batch.base_time();
  for (const v1::LineStatus& line : batch.lines()) {
    device_readings& d = device_of(line.source());
    const quality q = quality_of(line.quality());
    const epoch_ms at = base + line.source_time();
    add(d, line_metric(line.line(), "state"), datatype::string, "",
        metric_value::of_text(std::string(wire::line_state_name(line.state()))), q, at);
    add(d, line_metric(line.line(), "good_count"), datatype::uint64, "", metric_value::of_integer(line.good_count()), q, at);
    add(d, line_metric(line.line(), "reject_count"), datatype::uint64, "", metric_value::of_integer(line.reject_count()), q,
        at);
    add(d, line_metric(line.line(), "good_rate"), datatype::double_, "", metric_value::of_number(line.good_rate()), q, at);
  }
  for (const v1::StockLevel& stock : batch.stocks()) {
    device_readings& d = device_of(stock.source());
    add(d, stock_metric(stock.material()), datatype::double_, stock.unit(), metric_value::of_number(stock.quantity()),
        quality_of(stock.quality()), base + stock.source_time());
  }

  // Births first, so every data message after them has a seq above theirs.
  bool node_rebirth = false;
  std::vector<std::string> device_births;
  for (device_readings& d : devices) {
    const bool born = born_devices_.count(d.device) > 0;
    if (!historical && d.stale) continue;  // dying: handled below, no birth
    const bool returning = !historical && dead_devices_.count(d.device) > 0;
    if (born && d.new_metric) node_rebirth = true;
    if (born && !d.new_metric) continue;
    // Held data of a source that is dead now still goes out, framed by a birth and a death,
    // since nothing may arrive for a dead device and nothing held may be lost.
    if (!born && historical && dead_devices_.count(d.device) > 0) d.rebury = true;
    // A birth shows the first reading of this message: for every metric with live data, for
    // metrics that have no value yet with held data, so the host starts from real values.
    std::set<std::size_t> seeded;
    for (const metric_reading& r : d.readings) {
      const metric_entry& m = table_.at(r.metric);
      if (historical && !(m.current_time == 0 && m.current.is_null)) continue;
      if (seeded.insert(r.metric).second) table_.set_current(r);
    }
    if (returning) {
      dead_devices_.erase(d.device);
      log_.info(d.device + " answers again: DBIRTH");
    }
    if (!born) device_births.push_back(d.device);
  }
  if (node_rebirth) {
    publish_births(now);
    if (!wire_->connected()) return false;
  } else if (!device_births.empty()) {
    std::vector<outgoing> births;
    for (const std::string& device : device_births) publish_device_birth(device, now, births);
    if (send_all(births, 0) != transport::publish_outcome::ok) return false;
  }

  for (device_readings& d : devices) {
    if (!historical && d.stale) {
      if (dead_devices_.insert(d.device).second) {
        table_.mark_stale(d.device);
        if (born_devices_.erase(d.device) > 0) {
          out.push_back(device_death(d.device, now));
          ++counters_.device_deaths;
          log_.warn(d.device + " stopped answering: DDEATH");
        }
      }
      continue;
    }
    if (born_devices_.count(d.device) == 0) continue;
    encode_data(message_type::ddata, d.device, d.readings, historical, now, out);
    if (d.rebury) {
      born_devices_.erase(d.device);
      out.push_back(device_death(d.device, now));
    }
  }
  return true;
}

edge_node::outgoing edge_node::device_death(const std::string& device, epoch_ms now) {
  tahu::Payload death;
  death.set_timestamp(static_cast<std::uint64_t>(now));
  death.set_seq(next_seq());
  return {topic_for(message_type::ddeath, device), death.SerializeAsString()};
}

void edge_node::encode_node_data(const std::vector<metric_reading>& readings, bool historical, epoch_ms now,
                                 std::vector<outgoing>& out) {
  encode_data(message_type::ndata, "", readings, historical, now, out);
}

void edge_node::encode_data(message_type type, const std::string& device, const std::vector<metric_reading>& readings,
                            bool historical, epoch_ms now, std::vector<outgoing>& out) {
  std::vector<tahu::Payload> payloads(1);
  std::size_t bytes = payload_overhead;
  for (const metric_reading& r : readings) {
    if (r.metric == metric_table::npos) continue;
    const metric_entry& m = table_.at(r.metric);
    bool with_quality = r.quality != quality_good;
    if (!historical) {
      with_quality = with_quality || !m.ever_reported || m.reported_quality != r.quality;
      const bool changed = table_.take_change(r);
      table_.set_current(r);
      if (!changed) continue;  // report by exception
    }
    tahu::Payload::Metric probe;
    {
      tahu::Payload one;
      add_data_metric(one, m, r, with_quality, historical);
      probe = one.metrics(0);
    }
    const std::size_t cost = probe.ByteSizeLong() + per_metric_overhead;
    if (payloads.back().metrics_size() > 0 && bytes + cost > settings_.max_payload_bytes) {
      payloads.emplace_back();
      bytes = payload_overhead;
    }
    *payloads.back().add_metrics() = std::move(probe);
    bytes += cost;
  }
  for (tahu::Payload& payload : payloads) {
    if (payload.metrics_size() == 0) continue;
    payload.set_timestamp(static_cast<std::uint64_t>(now));
    payload.set_seq(next_seq());
    out.push_back({topic_for(type, device), payload.SerializeAsString()});
  }
}

transport::publish_outcome edge_node::send_all(std::vector<outgoing>& out, std::uint64_t outer_tag) {
  if (out.empty()) return transport::publish_outcome::ok;
  if (outer_tag != 0) outer_pending_[outer_tag] = out.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint64_t wire_tag = next_wire_tag_++;
    const transport::publish_outcome outcome =
        wire_->publish(out[i].topic, std::move(out[i].payload), settings_.qos, false, wire_tag);
    if (outcome == transport::publish_outcome::ok) {
      wire_to_outer_[wire_tag] = outer_tag;
      continue;
    }
    // What was sent of this message no longer settles it: it goes again whole.
    for (auto it = wire_to_outer_.begin(); it != wire_to_outer_.end();)
      it = (outer_tag != 0 && it->second == outer_tag) ? wire_to_outer_.erase(it) : std::next(it);
    outer_pending_.erase(outer_tag);
    // The seqs given to what was not sent would look like a gap to the host: start over
    // with a rebirth (seq 0) before the next message.
    if (wire_->connected()) rebirth_due_ = true;
    return outcome;
  }
  return transport::publish_outcome::ok;
}

}  // namespace plant::sparkplug
