#include "agent/encoding/status_encoding.hpp"

#include <algorithm>

#include "agent/encoding/envelope.hpp"
#include "plant/v1/plant.pb.h"

namespace plant::encoding {

namespace {

void add_ranges(google::protobuf::RepeatedPtrField<v1::SeqRange>* out, const std::vector<seq_range>& ranges) {
  for (const auto& range : ranges) {
    auto* r = out->Add();
    r->set_first(range.first);
    r->set_last(range.last);
  }
}

void fill(v1::AgentStatus& status, const app::agent_stats& s, agent_state state, status_reason reason, epoch_ms now) {
  status.set_state(static_cast<v1::AgentStatus::State>(state));
  status.set_reason(static_cast<v1::AgentStatus::Reason>(reason));
  status.set_version(s.version);
  status.set_config_hash(s.config_hash);
  status.set_started_at(s.started_at_ms);
  status.set_time(now);
  status.set_last_seq(s.last_seq);

  auto* counters = status.mutable_counters();
  counters->set_samples_in(s.samples_in);
  counters->set_messages_sealed(s.messages.sealed);
  counters->set_messages_published(s.messages.published);
  counters->set_messages_acked(s.messages.acked);
  counters->set_messages_replayed(s.messages.replayed);
  counters->set_reconnects(s.reconnects);
  counters->set_publish_errors(s.messages.publish_errors);
  counters->set_spool_write_errors(s.spool_write_errors);
  counters->set_log_suppressed(s.log_suppressed);

  auto* backlog = status.mutable_backlog();
  backlog->set_messages(s.backlog_messages);
  backlog->set_bytes(s.backlog_bytes);
  if (s.backlog_oldest_age_ms) backlog->set_oldest_age_ms(*s.backlog_oldest_age_ms);
  backlog->set_spool_bytes(s.spool_bytes);
  backlog->set_spool_healthy(s.spool_enabled && s.spool_healthy);

  for (const auto& source : s.sources) {
    auto* health = status.add_sources();
    health->set_name(source.name);
    health->set_kind(source.kind);
    health->set_healthy(source.healthy);
    health->set_polls(source.polls);
    health->set_errors(source.errors);
    health->set_samples(source.samples);
    health->set_rejected(source.rejected);
    health->set_skipped_ticks(source.skipped_ticks);
    health->set_last_error(source.last_error);
    health->set_reconnects(source.reconnects);
  }
  status.set_dropped(s.dropped);
  add_ranges(status.mutable_dropped_ranges(), s.dropped_ranges);
  status.set_corrupted(s.corrupted);
  add_ranges(status.mutable_corrupted_ranges(), s.corrupted_ranges);
  status.set_last_error(s.last_error);
  for (const auto& material : s.materials) fill_material_status(*status.add_materials(), material);
}

}  // namespace

std::string encode_status(const envelope_identity& identity, const app::agent_stats& stats, agent_state state,
                          status_reason reason, epoch_ms now, std::size_t max_bytes, bool* trimmed) {
  v1::AgentStatus status;
  fill(status, stats, state, reason, now);
  std::string bytes = encode_status(identity.agent, identity.site, status, now);
  if (trimmed != nullptr) *trimmed = false;
  if (bytes.size() > max_bytes && status.materials_size() > 0) {
    // A retained status over the broker's limit would be dropped whole; the
    // materials go first (each one's alert is retained on its own topic anyway).
    status.clear_materials();
    bytes = encode_status(identity.agent, identity.site, status, now);
    if (trimmed != nullptr) *trimmed = true;
  }
  return bytes;
}

std::string encode_last_will(const envelope_identity& identity, const std::string& version,
                             const std::string& config_hash, epoch_ms started_at) {
  v1::AgentStatus will;
  will.set_state(v1::AgentStatus::STATE_OFFLINE);
  will.set_reason(v1::AgentStatus::REASON_CONNECTION_LOST);
  will.set_version(version);
  will.set_config_hash(config_hash);
  will.set_started_at(started_at);
  return encode_status(identity.agent, identity.site, will, started_at);
}

}  // namespace plant::encoding
