#include "watch/app/message_processor.hpp"

#include "common/core/text.hpp"
#include "common/sparkplug/sparkplug_json.hpp"
#include "common/sparkplug/sparkplug_metrics.hpp"
#include "sparkplug_b/sparkplug_b.pb.h"
#include "common/wire/envelope_decode.hpp"
#include "common/wire/envelope_json.hpp"

namespace plant::watch {

using namespace plant::wire;

namespace {

constexpr std::size_t arena_block_bytes = 1u << 20;  // holds a decoded 30 KB batch with room to spare
// A node whose data we cannot resolve is asked for a rebirth, but not on every message.
constexpr epoch_ms rebirth_interval_ms = 10000;
// Rebirth requests waiting to be published, at most (one per node).
constexpr std::size_t max_pending_rebirths = 1000;

google::protobuf::ArenaOptions arena_options(std::vector<char>& block) {
  google::protobuf::ArenaOptions options;
  options.initial_block = block.data();
  options.initial_block_size = block.size();
  return options;
}

}  // namespace

message_processor::message_processor(processor_settings settings)
    : settings_(settings), arena_block_(arena_block_bytes), arena_(arena_options(arena_block_)) {}

void message_processor::handle(const received_message& message, std::string& out, std::string& err) {
  ++received_;
  ++board_.messages;
  // An empty retained payload is how MQTT deletes a retained message; it is
  // housekeeping, not a broken message.
  if (message.payload.empty()) {
    ++empty_;
    return;
  }
  if (message.topic.compare(0, sparkplug::topic_namespace.size() + 1, std::string(sparkplug::topic_namespace) + "/") ==
      0) {
    handle_sparkplug(message, out, err);
    return;
  }
  // Reset keeps the caller-provided first block, so a steady stream of
  // batches decodes without touching the heap.
  arena_.Reset();
  auto* envelope = google::protobuf::Arena::CreateMessage<plant::v1::Envelope>(&arena_);
  // What one message may cost is bounded before it is decoded: a forged payload of
  // empty repeated elements would cost ~50 times its size in memory.
  if (!affordable(message.payload, settings_.limits, reason_) || !decode_envelope(message.payload, *envelope, reason_)) {
    report_undecodable(message, reason_, err);
    return;
  }
  reason_ = origin_conflict(*envelope, message.topic);
  if (!reason_.empty()) {
    report_rejected(message, reason_, err);
    return;
  }
  resolve_origin(*envelope, message.topic, site_, agent_);
  if (settings_.json) {
    json_.clear();
    write_envelope_json(json_, message.topic, message.retained, *envelope, message.received_at_us / 1000);
    out += json_.text();
    out += '\n';
  }
  if (settings_.audit) {
    audit_.record(site_, agent_, *envelope, message.retained, message.received_at_us, message.payload.size());
  }
  if (settings_.board) {
    apply_envelope(board_, site_, agent_, *envelope, message.retained, message.received_at_us / 1000);
  }
}

void message_processor::report_rejected(const received_message& message, const std::string& reason, std::string& err) {
  ++rejected_;
  ++board_.rejected;
  if (rejected_ <= settings_.max_error_reports) {
    err += "plant-watch: rejected message on " + quoted_excerpt(message.topic, 120) + ": " + reason +
           " (only that agent may write there; the message is not counted as anyone's)\n";
    if (rejected_ == settings_.max_error_reports) {
      err += "plant-watch: further rejected messages are counted, not reported\n";
    }
  }
}

void message_processor::report_undecodable(const received_message& message, const std::string& reason,
                                           std::string& err) {
  ++undecodable_;
  ++board_.undecodable;
  if (undecodable_ <= settings_.max_error_reports) {
    err += "plant-watch: cannot decode message on " + quoted_excerpt(message.topic, 120) + " (" +
           std::to_string(message.payload.size()) + " bytes): " + reason + "\n";
    if (undecodable_ == settings_.max_error_reports) {
      err += "plant-watch: further undecodable messages are counted, not reported\n";
    }
  }
}

void message_processor::handle_sparkplug(const received_message& message, std::string& out, std::string& err) {
  const std::optional<sparkplug::topic> where = sparkplug::parse_topic(message.topic);
  if (!where) {
    report_undecodable(message, "not a Sparkplug B topic (spBv1.0/<group>/<type>/<node>[/<device>])", err);
    return;
  }
  if (message.payload.size() > settings_.limits.max_payload_bytes) {
    report_undecodable(message, "larger than " + std::to_string(settings_.limits.max_payload_bytes) + " bytes", err);
    return;
  }
  if (!sparkplug_.decode(*where, message.payload, sparkplug_message_, reason_)) {
    report_undecodable(message, reason_, err);
    return;
  }
  const epoch_ms received_at = message.received_at_us / 1000;
  if (settings_.json) {
    json_.clear();
    sparkplug::write_sparkplug_json(json_, message.topic, message.retained, sparkplug_message_, received_at);
    out += json_.text();
    out += '\n';
  }
  if (settings_.board) apply_sparkplug(board_, sparkplug_message_, received_at);
  // Data we cannot read (an alias without a birth, or no NBIRTH seen at all): ask the node
  // to be born again, as a host must (Ignition does not retain NBIRTH by default).
  const bool unreadable = sparkplug_message_.unknown_aliases > 0 || sparkplug_message_.before_birth;
  if (unreadable && where->type != sparkplug::message_type::ncmd && where->type != sparkplug::message_type::dcmd) {
    auto key = std::make_pair(where->group_id, where->edge_node_id);
    auto asked = rebirth_asked_at_.find(key);
    const bool due = asked == rebirth_asked_at_.end() || received_at - asked->second >= rebirth_interval_ms;
    if (asked == rebirth_asked_at_.end() && rebirth_asked_at_.size() >= max_pending_rebirths * 10) {
      // Full (forged node ids can fill it): forget the requests older than the interval.
      for (auto it = rebirth_asked_at_.begin(); it != rebirth_asked_at_.end();)
        it = received_at - it->second >= rebirth_interval_ms ? rebirth_asked_at_.erase(it) : std::next(it);
    }
    if (due && rebirth_requests_.size() < max_pending_rebirths && rebirth_asked_at_.size() < max_pending_rebirths * 10) {
      rebirth_asked_at_[key] = received_at;
      org::eclipse::tahu::protobuf::Payload request;
      request.set_timestamp(static_cast<std::uint64_t>(received_at));
      auto* metric = request.add_metrics();
      metric->set_name(std::string(sparkplug::rebirth_metric));
      metric->set_datatype(static_cast<std::uint32_t>(sparkplug::datatype::boolean));
      metric->set_boolean_value(true);
      sparkplug::topic command{sparkplug::message_type::ncmd, where->group_id, where->edge_node_id, ""};
      rebirth_requests_.push_back(
          {where->group_id, where->edge_node_id, sparkplug::format_topic(command), request.SerializeAsString()});
    }
  }
}

std::vector<message_processor::rebirth_request> message_processor::take_rebirth_requests() {
  std::vector<rebirth_request> taken;
  taken.swap(rebirth_requests_);
  return taken;
}

std::vector<std::string> message_processor::sparkplug_audit_lines() const {
  std::vector<std::string> lines;
  for (const auto& [key, a] : sparkplug_.nodes()) {
    json_writer w;
    w.begin_object().key("audit").begin_object();
    w.field("kind", "sparkplug");
    // site/agent as in the plant.v1 audit, so the same tools find a node's line.
    w.field("site", a.group_id).field("agent", a.edge_node_id);
    w.field("group_id", a.group_id).field("edge_node_id", a.edge_node_id);
    w.key("bdSeq");
    if (a.bdseq) {
      w.value(*a.bdseq);
    } else {
      w.null();
    }
    w.field("online", a.online);
    w.field("births", a.births).field("deaths", a.deaths).field("stale_deaths", a.stale_deaths);
    w.field("received", a.received).field("gaps", a.gaps).field("repeats", a.repeats);
    w.field("historical_metrics", a.historical).field("before_birth", a.before_birth);
    w.field("unknown_aliases", a.unknown_aliases).field("rebirths_requested", a.rebirths_requested);
    w.field("aliases_untracked", a.aliases_untracked);
    w.field("device_births", a.device_births).field("device_deaths", a.device_deaths);
    w.end_object().end_object();
    lines.push_back(w.take());
  }
  return lines;
}

}  // namespace plant::watch
