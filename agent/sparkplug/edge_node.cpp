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
  events.session_started = [this] { on_session_started(); };
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

void edge_node::attach(transport::message_publisher& wire,
                       std::function<void(const std::string& reason, bool at_once)> restart_session) {
  wire_ = &wire;
  restart_session_ = std::move(restart_session);
}

void edge_node::set_broker_limits(std::size_t receive_maximum, std::size_t max_payload_bytes) {
  receive_maximum_ = receive_maximum == 0 ? 65535 : receive_maximum;
  broker_payload_limit_ = max_payload_bytes;
}

std::string edge_node::topic_for(message_type type, const std::string& device) const {
  topic t;
  t.type = type;
  t.group_id = settings_.group_id;
  t.edge_node_id = settings_.edge_node_id;
  t.device_id = device;
  return format_topic(t);
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
  for (const std::string& material : settings_.materials) declare_material(material);
}

void edge_node::declare_material(const std::string& material) {
  bool added = false;
  table_.declare("", shortage_metric(material, "status"), datatype::string, "", true, added);
  table_.declare("", shortage_metric(material, "projected_stockout"), datatype::datetime, "", true, added);
  table_.declare("", shortage_metric(material, "rate"), datatype::double_, "", true, added);
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

void edge_node::append_device_birth(const std::string& device, epoch_ms now, std::vector<outgoing>& out) {
  tahu::Payload payload;
  payload.set_timestamp(static_cast<std::uint64_t>(now));
  for (std::size_t index : table_.metrics_of(device)) add_birth_metric(payload, table_.at(index));
  outgoing birth{topic_for(message_type::dbirth, device), payload.SerializeAsString()};
  birth.birth = true;
  if (broker_payload_limit_ > 0 && birth.payload.size() > broker_payload_limit_)
    log_.limited(log::level::error, "birth-size",
                 "the DBIRTH of " + device + " is " + std::to_string(birth.payload.size()) +
                     " bytes, above the broker's maximum packet size of " + std::to_string(broker_payload_limit_) +
                     "; a birth is not split: configure fewer points for this source or raise the broker's limit");
  out.push_back(std::move(birth));
  table_.mark_born(device);
  born_devices_.insert(device);
  dead_devices_.erase(device);
}

void edge_node::append_device_death(const std::string& device, epoch_ms now, std::vector<outgoing>& out) {
  tahu::Payload death;
  death.set_timestamp(static_cast<std::uint64_t>(now));
  out.push_back({topic_for(message_type::ddeath, device), death.SerializeAsString()});
  born_devices_.erase(device);
}

void edge_node::append_births(epoch_ms now, std::vector<outgoing>& out) {
  // The node metrics as the agent sees them right now.
  if (status_now_) {
    v1::Envelope envelope;
    if (envelope.ParseFromString(status_now_()) && envelope.has_status())
      for (const metric_reading& reading : readings_of_status(envelope.status(), now)) table_.set_current(reading);
  }
  table_.set_current({node_metric(std::string(bdseq_metric)), metric_value::of_integer(bdseq_.current()), quality_good, 0});
  tahu::Payload nbirth;
  nbirth.set_timestamp(static_cast<std::uint64_t>(now));
  for (std::size_t index : table_.metrics_of("")) add_birth_metric(nbirth, table_.at(index));
  outgoing birth{topic_for(message_type::nbirth), nbirth.SerializeAsString(), outgoing::numbering::restart, true};
  out.push_back(std::move(birth));
  table_.mark_born("");
  born_devices_.clear();
  for (const std::string& device : table_.devices())
    if (dead_devices_.count(device) == 0 && retired_devices_.count(device) == 0) append_device_birth(device, now, out);
  ++counters_.births;
  rebirth_due_ = false;
}

bool edge_node::publish_births(epoch_ms now) {
  std::vector<outgoing> out;
  append_births(now, out);
  if (send_all(out, 0) == transport::publish_outcome::ok) return true;
  // The host cannot read data without its births: start over in a new session.
  if (wire_->connected() && restart_session_) restart_session_("the births could not be sent", false);
  return false;
}

// --- the connection -----------------------------------------------------------------

void edge_node::on_session_started() {
  // The CONNECT carrying this bdSeq's Will was accepted: a later session needs a new one,
  // even if this one ends before it is born (its Will may still be published).
  bdseq_.session_established();
}

void edge_node::on_wire_connected() {
  wire_connected_ = true;
  born_devices_.clear();
  birth_tags_.clear();
  if (!host_online_) {
    // The host's retained STATE arrives next (or already came, before the SUBACK).
    log_.info("connected; waiting for the primary host " + settings_.primary_host_id + " (" +
              state_topic(settings_.primary_host_id) + ") to be online before the birth");
    return;
  }
  go_online();
}

void edge_node::go_online() {
  if (online_ || !wire_connected_ || !wire_ || !host_online_) return;
  if (!publish_births(wall_clock_ms())) return;
  online_ = true;
  log_.info("born as " + topic_for(message_type::nbirth) + " (bdSeq " + std::to_string(bdseq_.current()) + ", " +
            std::to_string(born_devices_.size()) + " devices)");
  if (outer_.connected) outer_.connected();
}

void edge_node::end_session(const std::string& reason) {
  if (!online_) return;
  // An intentional disconnect discards the Will: the node says its NDEATH itself.
  std::vector<outgoing> out{{topic_for(message_type::ndeath), encode_ndeath(bdseq_.current(), wall_clock_ms()),
                             outgoing::numbering::none, false, 1}};
  send_all(out, 0);
  online_ = false;
  wire_to_outer_.clear();
  outer_pending_.clear();
  birth_tags_.clear();
  if (outer_.connection_lost) outer_.connection_lost(reason);
}

void edge_node::go_offline(const std::string& reason) {
  if (!online_) return;
  // The specification has the node end its session when the primary host goes away:
  // an NDEATH now, then a new session (new bdSeq) that waits for the host to return.
  end_session(reason);
  if (restart_session_) restart_session_(reason, true);
}

void edge_node::on_wire_lost(const std::string& reason) {
  wire_connected_ = false;
  wire_to_outer_.clear();
  outer_pending_.clear();
  birth_tags_.clear();
  born_devices_.clear();
  retry_pending_ = false;
  // A new session learns the host's state again from its retained STATE.
  host_online_ = settings_.primary_host_id.empty();
  if (!online_) return;
  online_ = false;
  if (outer_.connection_lost) outer_.connection_lost(reason);
}

void edge_node::on_wire_delivered(std::uint64_t wire_tag) {
  auto found = wire_to_outer_.find(wire_tag);
  if (found == wire_to_outer_.end()) return;
  const std::uint64_t outer_tag = found->second;
  wire_to_outer_.erase(found);
  birth_tags_.erase(wire_tag);
  if (retry_pending_ && window_has_room()) {
    // The outbox stopped on a retry while the connection stayed up: it may go on.
    retry_pending_ = false;
    if (outer_.writable) boost::asio::post(io_, [this] { if (outer_.writable) outer_.writable(); });
  }
  if (outer_tag == 0) return;
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
  const bool birth = birth_tags_.erase(wire_tag) > 0;
  wire_to_outer_.erase(found);
  if (birth) {
    // Without its birth the host cannot read what follows: a new session, after the backoff.
    log_.error("the broker refused a birth certificate (" + refusal.reason + "); starting a new session");
    if (restart_session_) restart_session_("the broker refused a birth", false);
    return;
  }
  // The host sees a gap in seq where the refused message was: births again before the next.
  rebirth_due_ = true;
  if (outer_tag == 0) return;
  // One refusal settles the whole outbox message; its other parts no longer count.
  for (auto it = wire_to_outer_.begin(); it != wire_to_outer_.end();)
    it = it->second == outer_tag ? wire_to_outer_.erase(it) : std::next(it);
  outer_pending_.erase(outer_tag);
  if (outer_.refused) outer_.refused(outer_tag, refusal);
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
    ++counters_.commands_too_large;
    log_.limited(log::level::warn, "state-payload",
                 where + ": " + std::to_string(payload.size()) + " bytes is not a STATE payload; ignored");
    return;
  }
  const wire::json_parse_result parsed = wire::parse_json(payload, 4);
  const wire::json_value* online = parsed.ok() ? parsed.value.find("online") : nullptr;
  const wire::json_value* timestamp = parsed.ok() ? parsed.value.find("timestamp") : nullptr;
  // Unix ms up to the year 2286; anything else is not a clock reading (and would not convert).
  const bool plausible_time = timestamp && timestamp->is_number() && timestamp->as_number() >= 0 &&
                              timestamp->as_number() < 1e13;
  if (!online || !online->is_bool() || !plausible_time) {
    log_.limited(log::level::warn, "state-payload",
                 where + ": not a Sparkplug 3.0 STATE payload ({\"online\":bool,\"timestamp\":ms})" +
                     (parsed.ok() ? std::string() : ": " + parsed.error) + "; ignored");
    return;
  }
  const auto at = static_cast<std::int64_t>(timestamp->as_number());
  // A STATE older than one already taken is a stale retained copy (specification: compare timestamps).
  if (at < host_state_time_) return;
  host_state_time_ = at;
  if (online->as_bool()) {
    if (!host_online_) log_.info("primary host " + settings_.primary_host_id + " is online");
    host_online_ = true;
    go_online();
    return;
  }
  if (host_online_ && online_) {
    ++counters_.host_offline;
    log_.warn("primary host " + settings_.primary_host_id +
              " is offline: holding data in the spool until it is back (then sent as is_historical)");
  }
  host_online_ = false;
  go_offline("primary host " + settings_.primary_host_id + " offline");
}

void edge_node::on_command(const topic& t, const std::string& payload) {
  constexpr std::size_t max_command_bytes = 16u << 10;
  if (payload.size() > max_command_bytes) {
    ++counters_.commands_too_large;
    log_.limited(log::level::warn, "command-size",
                 format_topic(t) + ": " + std::to_string(payload.size()) + " bytes; not read");
    return;
  }
  tahu::Payload command;
  if (!command.ParseFromString(payload)) {
    log_.limited(log::level::warn, "command-payload", format_topic(t) + ": not a Sparkplug B payload; ignored");
    return;
  }
  for (const tahu::Payload::Metric& metric : command.metrics()) {
    if (t.type == message_type::ncmd && metric.name() == rebirth_metric) {
      if (!metric.boolean_value()) continue;
      ++counters_.rebirth_requests;
      log_.limited(log::level::info, "rebirth", "rebirth requested by " + format_topic(t));
      if (!online_) continue;
      // Requests come in bursts (every host that lost track asks): while births are still
      // unacknowledged, the others are one more birth before the next message.
      if (!birth_tags_.empty()) {
        rebirth_due_ = true;
      } else {
        publish_births(wall_clock_ms());
      }
      continue;
    }
    ++counters_.commands_ignored;
    log_.limited(log::level::info, "command-ignored",
                 format_topic(t) + ": metric '" + (metric.has_name() ? metric.name() : "alias " + std::to_string(metric.alias())) +
                     "' ignored (plant-agent writes nothing to devices)");
  }
}

void edge_node::reconfigure(const std::vector<std::string>& materials, const std::vector<std::string>& sources) {
  const std::size_t before = table_.size();
  for (const std::string& material : materials) declare_material(material);
  if (table_.size() != before && online_) rebirth_due_ = true;
  settings_.materials = materials;
  const std::set<std::string> configured(sources.begin(), sources.end());
  std::vector<outgoing> out;
  for (const std::string& device : table_.devices()) {
    if (configured.count(device) > 0) {
      retired_devices_.erase(device);
      continue;
    }
    if (!retired_devices_.insert(device).second) continue;
    // A source a reload removed: its device is dead for the host.
    if (online_ && born_devices_.count(device) > 0) append_device_death(device, wall_clock_ms(), out);
    dead_devices_.erase(device);
  }
  if (!out.empty()) send_all(out, 0);
}

// --- data ---------------------------------------------------------------------------

bool edge_node::window_has_room() const {
  // One outbox message makes up to a DDATA per source (and maybe births): keep room for that.
  const std::size_t limit = std::min(receive_maximum_, settings_.max_in_flight);
  const std::size_t reserve = std::min<std::size_t>(table_.devices().size() + 2, limit / 2);
  return wire_to_outer_.size() + reserve < limit;
}

transport::publish_outcome edge_node::publish(const std::string&, std::string payload, int, bool, std::uint64_t tag) {
  if (!online_ || !wire_ || !wire_->connected()) return transport::publish_outcome::retry;
  v1::Envelope envelope;
  if (!envelope.ParseFromString(payload)) {
    log_.limited(log::level::error, "envelope", "message " + std::to_string(tag) + " is not a plant.v1 envelope; dropped");
    return transport::publish_outcome::drop;
  }
  const epoch_ms now = wall_clock_ms();
  if (envelope.has_status() && envelope.status().state() == v1::AgentStatus::STATE_OFFLINE) {
    // A clean stop: the node says its own NDEATH (the DISCONNECT that follows discards the Will).
    end_session("stopping");
    return transport::publish_outcome::ok;
  }
  if (tag != 0 && !window_has_room()) {
    retry_pending_ = true;
    return transport::publish_outcome::retry;
  }
  const bool historical = envelope.replayed();
  // What a message changes in the table counts only if the whole message went out.
  const std::set<std::string> born_before = born_devices_, dead_before = dead_devices_;
  const bool rebirth_due_before = rebirth_due_;
  table_.begin();
  std::vector<outgoing> out;
  if (rebirth_due_) append_births(now, out);
  switch (envelope.body_case()) {
    case v1::Envelope::kTelemetry:
      encode_telemetry(envelope.telemetry(), historical, now, out);
      break;
    case v1::Envelope::kAlert:
      encode_data(message_type::ndata, "",
                  readings_of_material(envelope.alert().material(), envelope.alert().material().at()), historical, now,
                  out);
      break;
    case v1::Envelope::kStatus:
      encode_data(message_type::ndata, "", readings_of_status(envelope.status(), envelope.status().time()), false, now,
                  out);
      break;
    default:
      table_.rollback();
      return transport::publish_outcome::drop;
  }
  if (out.empty()) {
    table_.commit();
    // Nothing changed (report by exception): the message is as good as delivered.
    if (tag != 0)
      boost::asio::post(io_, [this, tag] {
        if (outer_.delivered) outer_.delivered(tag);
      });
    return transport::publish_outcome::ok;
  }
  const transport::publish_outcome outcome = send_all(out, tag);
  if (outcome == transport::publish_outcome::ok) {
    table_.commit();
    return outcome;
  }
  // Sent again whole later: as if this attempt had not been made (what did go out of it
  // reaches the host twice, never not at all).
  table_.rollback();
  born_devices_ = born_before;
  dead_devices_ = dead_before;
  rebirth_due_ = rebirth_due_before;
  if (outcome == transport::publish_outcome::retry && wire_->connected()) retry_pending_ = true;
  return outcome;
}

void edge_node::encode_telemetry(const v1::TelemetryBatch& batch, bool historical, epoch_ms now,
                                 std::vector<outgoing>& out) {
  // One source's readings, one sample at a time, in the order they were read.
  struct sample_readings {
    std::vector<metric_reading> readings;
    bool stale = false;      ///< republished because the source stopped answering
    bool new_metric = false;
  };
  struct device_samples {
    std::string device;
    std::vector<sample_readings> samples;
  };
  std::vector<device_samples> devices;
  // The source's device with a new, empty sample at its end.
  auto new_sample_of = [&](std::uint32_t source) -> device_samples& {
    const std::string name = static_cast<int>(source) < batch.sources_size() ? batch.sources(static_cast<int>(source))
                                                                           : "source-" + std::to_string(source);
    device_samples* d = nullptr;
    for (auto& candidate : devices)
      if (candidate.device == name) d = &candidate;
    if (d == nullptr) {
      devices.push_back({name, {}});
      d = &devices.back();
    }
    d->samples.emplace_back();
    return *d;
  };
  auto add = [&](device_samples& d, const std::string& name, datatype type, const std::string& unit,
                 metric_value value, quality q, epoch_ms at) {
    const std::string& device = d.device;
    sample_readings& s = d.samples.back();
    bool added = false;
    if (table_.size() >= settings_.max_metrics && table_.find(device, name) == metric_table::npos) {
      ++counters_.metrics_dropped;
      log_.limited(log::level::warn, "max-metrics",
                   device + ": more than " + std::to_string(settings_.max_metrics) + " metrics; '" + name +
                       "' and further new ones are not sent (counted in plant_agent_sparkplug_metrics_dropped_total)");
      return;
    }
    const std::size_t index = table_.declare(device, name, type, unit, true, added);
    s.new_metric = s.new_metric || added;
    if (q == quality::bad) value = metric_value{};  // a failed read has no value
    s.readings.push_back({index, std::move(value), quality_code(q), at});
    if (q == quality::stale) s.stale = true;
  };
  const epoch_ms base = batch.base_time();
  for (const v1::LineStatus& line : batch.lines()) {
    device_samples& d = new_sample_of(line.source());
    const quality q = quality_of(line.quality());
    const epoch_ms at = base + line.source_time();
    add(d, line_metric(line.line(), "state"), datatype::string, "",
        metric_value::of_text(std::string(wire::line_state_name(line.state()))), q, at);
    add(d, line_metric(line.line(), "good_count"), datatype::uint64, "", metric_value::of_integer(line.good_count()), q,
        at);
    add(d, line_metric(line.line(), "reject_count"), datatype::uint64, "", metric_value::of_integer(line.reject_count()),
        q, at);
    add(d, line_metric(line.line(), "good_rate"), datatype::double_, "", metric_value::of_number(line.good_rate()), q,
        at);
  }
  for (const v1::StockLevel& stock : batch.stocks()) {
    device_samples& d = new_sample_of(stock.source());
    add(d, stock_metric(stock.material()), datatype::double_, stock.unit(), metric_value::of_number(stock.quantity()),
        quality_of(stock.quality()), base + stock.source_time());
  }

  // A birth shows the readings it is made for, so the host starts from real values.
  auto seed = [&](const sample_readings& s, bool only_empty) {
    for (const metric_reading& r : s.readings) {
      const metric_entry& m = table_.at(r.metric);
      if (only_empty && !(m.current_time == 0 && m.current.is_null)) continue;
      table_.set_current(r);
    }
  };
  // Metrics never seen before take their first reading of this message, and one rebirth
  // before any of its data announces every metric a born source gained (never one per sample).
  bool rebirth = false;
  for (const device_samples& d : devices) {
    retired_devices_.erase(d.device);  // configured again
    for (const sample_readings& s : d.samples) {
      if (!s.stale || historical) seed(s, true);
      rebirth = rebirth || (s.new_metric && born_devices_.count(d.device) > 0);
    }
  }
  if (rebirth) append_births(now, out);

  for (device_samples& d : devices) {
    std::vector<metric_reading> pending;  // this source's data since its last birth or death
    auto flush = [&] {
      if (!pending.empty()) encode_data(message_type::ddata, d.device, pending, historical, now, out);
      pending.clear();
    };
    if (historical) {
      // Held data goes out whole, whatever the source's state now: a dead source's history
      // between a DBIRTH and a new DDEATH, since nothing may arrive for a dead device.
      const bool dead = dead_devices_.count(d.device) > 0;
      if (born_devices_.count(d.device) == 0) append_device_birth(d.device, now, out);
      for (const sample_readings& s : d.samples) pending.insert(pending.end(), s.readings.begin(), s.readings.end());
      flush();
      if (dead) {
        append_device_death(d.device, now, out);
        dead_devices_.insert(d.device);
      }
      continue;
    }
    for (std::size_t k = 0; k < d.samples.size(); ++k) {
      const sample_readings& s = d.samples[k];
      if (s.stale) {
        // The source stopped answering: its data so far, then its death.
        flush();
        if (dead_devices_.insert(d.device).second) {
          table_.mark_stale(d.device);
          if (born_devices_.count(d.device) > 0) {
            append_device_death(d.device, now, out);
            ++counters_.device_deaths;
            log_.warn(d.device + " stopped answering: DDEATH");
          }
        }
        continue;
      }
      if (born_devices_.count(d.device) == 0) {
        // A new source, or one that answers again: born with its first readings from here on
        // (a poll's line and stock samples come one after the other).
        flush();
        std::set<std::size_t> seeded;
        for (std::size_t j = k; j < d.samples.size() && !d.samples[j].stale; ++j)
          for (const metric_reading& r : d.samples[j].readings)
            if (seeded.insert(r.metric).second) table_.set_current(r);
        if (dead_devices_.count(d.device) > 0) log_.info(d.device + " answers again: DBIRTH");
        append_device_birth(d.device, now, out);
      }
      pending.insert(pending.end(), s.readings.begin(), s.readings.end());
    }
    flush();
  }
}

void edge_node::encode_data(message_type type, const std::string& device, const std::vector<metric_reading>& readings,
                            bool historical, epoch_ms now, std::vector<outgoing>& out) {
  const std::size_t limit = broker_payload_limit_ > 0 ? std::min(broker_payload_limit_, settings_.max_payload_bytes)
                                                      : settings_.max_payload_bytes;
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
    if (payloads.back().metrics_size() > 0 && bytes + cost > limit) {
      payloads.emplace_back();
      bytes = payload_overhead;
    }
    *payloads.back().add_metrics() = std::move(probe);
    bytes += cost;
  }
  for (tahu::Payload& payload : payloads) {
    if (payload.metrics_size() == 0) continue;
    payload.set_timestamp(static_cast<std::uint64_t>(now));
    out.push_back({topic_for(type, device), payload.SerializeAsString()});
  }
}

transport::publish_outcome edge_node::send_all(std::vector<outgoing>& out, std::uint64_t outer_tag) {
  if (out.empty()) return transport::publish_outcome::ok;
  if (outer_tag != 0) outer_pending_[outer_tag] = out.size();
  for (outgoing& message : out) {
    // The seq goes on last: protobuf takes fields in any order, and a message that is not
    // sent takes no number.
    std::uint64_t seq = seq_;
    if (message.seq == outgoing::numbering::restart) seq = 0;
    if (message.seq != outgoing::numbering::none) {
      message.payload.push_back(static_cast<char>(0x18));  // field 3 (seq), varint
      for (std::uint64_t v = seq; ; v >>= 7) {
        if (v < 0x80) {
          message.payload.push_back(static_cast<char>(v));
          break;
        }
        message.payload.push_back(static_cast<char>((v & 0x7f) | 0x80));
      }
    }
    const std::uint64_t wire_tag = next_wire_tag_++;
    const transport::publish_outcome outcome =
        wire_->publish(message.topic, std::move(message.payload), message.qos < 0 ? settings_.qos : message.qos, false,
                       wire_tag);
    if (outcome == transport::publish_outcome::ok) {
      wire_to_outer_[wire_tag] = outer_tag;
      if (message.birth) birth_tags_.insert(wire_tag);
      if (message.seq != outgoing::numbering::none) seq_ = (seq + 1) % 256;
      continue;
    }
    // What was sent of this message no longer settles it: it goes again whole.
    if (outer_tag != 0) {
      for (auto it = wire_to_outer_.begin(); it != wire_to_outer_.end();)
        it = it->second == outer_tag ? wire_to_outer_.erase(it) : std::next(it);
      outer_pending_.erase(outer_tag);
    }
    return outcome;
  }
  return transport::publish_outcome::ok;
}

}  // namespace plant::sparkplug
