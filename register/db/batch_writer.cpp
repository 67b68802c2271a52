#include "register/db/batch_writer.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>

#include "common/core/seq_ranges.hpp"
#include "common/wire/envelope_decode.hpp"
#include "common/wire/time_format.hpp"
#include "common/wire/wire_names.hpp"
#include "register/db/batch_sql.hpp"

namespace plant::central::db {

namespace {

using agent_key = std::pair<std::string, std::string>;

// Times PostgreSQL's timestamptz holds (years 1..9999); a message with a time outside
// is refused whole rather than failing its batch.
constexpr std::int64_t earliest_ms = -62135596800000LL;
constexpr std::int64_t latest_ms = 253402300799999LL;
bool storable_time(std::int64_t ms) { return ms >= earliest_ms && ms <= latest_ms; }
// A sample's time is the batch's base plus its delta; hostile values must not overflow the sum.
bool storable_time(std::int64_t base, std::int64_t delta) {
  std::int64_t sum = 0;
  return !__builtin_add_overflow(base, delta, &sum) && storable_time(sum);
}
constexpr std::uint64_t max_bigint = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// One row of COPY's text format, column by column.
class copy_rows {
 public:
  copy_rows& text(std::string_view v) {
    separate();
    append_copy_text(data_, v);
    return *this;
  }
  copy_rows& integer(std::int64_t v) {
    separate();
    data_ += std::to_string(v);
    return *this;
  }
  // bigint holds 2^63 - 1 at most; counters past it are kept at the top.
  copy_rows& count(std::uint64_t v) { return integer(static_cast<std::int64_t>(std::min(v, max_bigint))); }
  copy_rows& number(double v) {
    separate();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    data_ += buf;  // "nan", "inf" and "-inf" are spellings float8 accepts
    return *this;
  }
  copy_rows& boolean(bool v) {
    separate();
    data_ += v ? "t" : "f";
    return *this;
  }
  copy_rows& null() {
    separate();
    data_ += "\\N";
    return *this;
  }
  copy_rows& array(const std::vector<std::string>& items) { return text(array_literal(items)); }
  // A timestamptz as RFC 3339 text, which COPY reads without a conversion function.
  copy_rows& time(epoch_ms t) {
    separate();
    char buf[40];
    data_.append(buf, wire::format_rfc3339_ms(t, buf));
    return *this;
  }
  void end_row() {
    data_ += '\n';
    first_ = true;
    ++rows_;
  }
  bool empty() const { return rows_ == 0; }
  const std::string& data() const { return data_; }

 private:
  void separate() {
    if (!first_) data_ += '\t';
    first_ = false;
  }
  std::string data_;
  bool first_ = true;
  std::size_t rows_ = 0;
};

std::vector<std::string> to_strings(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return std::vector<std::string>(items.begin(), items.end());
}

// The parts of one decoded entry the writer needs.
struct decoded {
  const ingest::journal_entry* entry = nullptr;
  std::string site, agent;
  v1::Envelope envelope;
};

// Why an envelope cannot become rows, or "".
std::string unstorable(const v1::Envelope& e) {
  if (e.seq() > max_bigint) return "seq " + std::to_string(e.seq()) + " is out of range";
  if (!storable_time(e.created_at())) return "created_at is outside the years 1..9999";
  if (e.has_telemetry()) {
    const auto& t = e.telemetry();
    if (!storable_time(t.base_time())) return "base_time is outside the years 1..9999";
    for (const auto& s : t.stocks())
      if (!storable_time(t.base_time(), s.source_time()) || !storable_time(t.base_time(), s.receive_time()))
        return "a stock sample's time is outside the years 1..9999";
    for (const auto& l : t.lines())
      if (!storable_time(t.base_time(), l.source_time()) || !storable_time(t.base_time(), l.receive_time()))
        return "a line sample's time is outside the years 1..9999";
  }
  if (e.has_alert()) {
    const auto& m = e.alert().material();
    if (!storable_time(m.at()) || !storable_time(m.projected_stockout()) || !storable_time(m.next_receipt()) ||
        !storable_time(m.covered_until()))
      return "an alert's time is outside the years 1..9999";
  }
  if (e.has_status()) {
    const auto& s = e.status();
    if (!storable_time(s.time()) || !storable_time(s.started_at())) return "a status time is outside the years 1..9999";
    for (const auto& m : s.materials())
      if (!storable_time(m.at()) || !storable_time(m.projected_stockout()) || !storable_time(m.next_receipt()) ||
          !storable_time(m.covered_until()))
        return "a material's time is outside the years 1..9999";
  }
  return "";
}

std::string source_name(const v1::TelemetryBatch& t, std::uint32_t index) {
  return index < static_cast<std::uint32_t>(t.sources_size()) ? t.sources(static_cast<int>(index)) : std::string();
}

// The supply side of a decision: incoming, next_receipt, late_receipts, late_quantity, covered_until, reason.
void add_supply(copy_rows& rows, const v1::MaterialStatus& m) {
  rows.number(m.incoming());
  if (m.next_receipt() == 0) rows.null(); else rows.integer(m.next_receipt());
  rows.count(m.late_receipts()).number(m.late_quantity());
  if (m.covered_until() == 0) rows.null(); else rows.integer(m.covered_until());
  rows.text(wire::shortage_reason_name(m.reason()));
}

void add_material(copy_rows& rows, const std::string& site, const std::string& agent, const v1::MaterialStatus& m) {
  rows.text(site).text(agent).text(m.material()).text(wire::stock_status_name(m.status())).number(m.quantity())
      .text(m.unit()).number(m.rate());
  if (m.projected_stockout() == 0) {
    rows.null();
  } else {
    rows.integer(m.projected_stockout());
  }
  rows.integer(m.at()).array(to_strings(m.lines())).array(to_strings(m.starved_lines())).number(m.reorder_point())
      .number(m.safety_stock()).integer(m.lead_time_ms());
  add_supply(rows, m);
  rows.end_row();
}

// Where a sample sits in the stream: the newest per key wins (time, then seq, then index).
struct sample_order {
  epoch_ms source_ms = 0;
  std::uint64_t seq = 0;
  int idx = 0;
  bool operator<(const sample_order& o) const {
    return std::tie(source_ms, seq, idx) < std::tie(o.source_ms, o.seq, o.idx);
  }
};

struct sample_key {
  std::string site, agent, name;
  bool operator<(const sample_key& o) const { return std::tie(site, agent, name) < std::tie(o.site, o.agent, o.name); }
};

// The newest sample per (site, agent, line or material) of a batch.
template <typename Sample>
struct newest {
  struct pick {
    sample_order order;
    const Sample* sample = nullptr;
    const v1::TelemetryBatch* batch = nullptr;
    epoch_ms receive_ms = 0;
  };
  std::map<sample_key, pick> picks;
  void offer(sample_key key, sample_order order, const Sample* s, const v1::TelemetryBatch* batch, epoch_ms receive_ms) {
    auto [it, inserted] = picks.try_emplace(std::move(key));
    if (inserted || it->second.order < order) it->second = pick{order, s, batch, receive_ms};
  }
};

// Per agent, what this batch changes.
struct agent_work {
  seq_ranges delivered{seq_ranges::unbounded, seq_ranges::overflow::refuse};
  bool ranges_changed = false;
  std::uint64_t stored = 0, duplicates = 0, replayed = 0, samples = 0, max_seq = 0;
  epoch_ms last_seen = 0;
};

// Every row one batch writes, in COPY's text format, gathered before the statements run.
struct batch_rows {
  copy_rows stocks, lines, alerts, materials, statuses, reported, agent_rows, delivered;  // staging tables
  copy_rows stocks_direct, lines_direct;  // straight into the sample tables
  newest<v1::StockLevel> newest_stocks;
  newest<v1::LineStatus> newest_lines;

  void add_status(const decoded& m, batch_outcome& out);
  void add_telemetry(const decoded& m, bool counts);
  void add_alert(const decoded& m);
  void finish(const std::map<agent_key, agent_work>& agents);
  void copy_into(connection& conn, bool any_agent) const;
};

void batch_rows::add_status(const decoded& m, batch_outcome& out) {
  const auto& e = m.envelope;
  const auto& s = e.status();
  ++out.statuses;
  // A Last Will carries no time of its own: it is true as of its delivery.
  const epoch_ms history_time = s.time() != 0 ? s.time() : (s.started_at() != 0 ? s.started_at() : m.entry->received_at);
  const epoch_ms order_time = s.time() != 0 ? s.time() : m.entry->received_at;
  statuses.text(m.site).text(m.agent).integer(history_time).integer(order_time)
      .text(wire::agent_state_name(s.state())).text(wire::agent_reason_name(s.reason())).text(s.version())
      .text(s.config_hash()).integer(s.started_at()).count(s.last_seq()).count(s.backlog().messages())
      .count(s.backlog().bytes()).count(s.dropped()).count(s.corrupted()).text(s.last_error())
      .integer(s.backlog().oldest_age_ms());
  statuses.end_row();
  for (const auto& r : s.dropped_ranges()) {
    if (r.first() == 0 || r.first() > r.last() || r.last() > max_bigint) continue;
    reported.text(m.site).text(m.agent).text("dropped").count(r.first()).count(r.last());
    reported.end_row();
  }
  for (const auto& r : s.corrupted_ranges()) {
    if (r.first() == 0 || r.first() > r.last() || r.last() > max_bigint) continue;
    reported.text(m.site).text(m.agent).text("corrupted").count(r.first()).count(r.last());
    reported.end_row();
  }
  for (const auto& material : s.materials()) add_material(materials, m.site, m.agent, material);
}

void batch_rows::add_telemetry(const decoded& m, bool counts) {
  const auto& e = m.envelope;
  const auto& t = e.telemetry();
  // New seqs go straight into the sample tables; the ranges above make them new.
  // A retained copy (agents retain no telemetry, but a broker may be told to) is
  // state, not the stream: it may only move latest_* forward.
  int idx = 0;
  for (const auto& l : t.lines()) {
    const epoch_ms source_ms = t.base_time() + l.source_time();
    const epoch_ms receive_ms = t.base_time() + l.receive_time();
    if (counts) {
      lines_direct.text(m.site).text(m.agent).count(e.seq()).integer(idx).text(l.line())
          .text(wire::line_state_name(l.state())).count(l.good_count()).count(l.reject_count())
          .number(l.good_rate()).text(source_name(t, l.source())).text(wire::quality_name(l.quality()))
          .time(source_ms).time(receive_ms).boolean(e.replayed());
      lines_direct.end_row();
    }
    newest_lines.offer({m.site, m.agent, l.line()}, {source_ms, e.seq(), idx}, &l, &t, receive_ms);
    ++idx;
  }
  for (const auto& st : t.stocks()) {
    const epoch_ms source_ms = t.base_time() + st.source_time();
    const epoch_ms receive_ms = t.base_time() + st.receive_time();
    if (counts) {
      stocks_direct.text(m.site).text(m.agent).count(e.seq()).integer(idx).text(st.material())
          .number(st.quantity()).text(st.unit()).text(st.location()).text(source_name(t, st.source()))
          .text(wire::quality_name(st.quality())).time(source_ms).time(receive_ms).boolean(e.replayed());
      stocks_direct.end_row();
    }
    newest_stocks.offer({m.site, m.agent, st.material()}, {source_ms, e.seq(), idx}, &st, &t, receive_ms);
    ++idx;
  }
}

void batch_rows::add_alert(const decoded& m) {
  const auto& e = m.envelope;
  const auto& a = e.alert();
  const auto& mat = a.material();
  alerts.text(m.site).text(m.agent).count(e.seq()).text(mat.material()).text(wire::stock_status_name(mat.status()))
      .text(wire::stock_status_name(a.previous_status())).boolean(a.cleared()).number(mat.quantity())
      .text(mat.unit()).number(mat.rate());
  if (mat.projected_stockout() == 0) {
    alerts.null();
  } else {
    alerts.integer(mat.projected_stockout());
  }
  alerts.integer(mat.at()).array(to_strings(mat.lines())).array(to_strings(mat.starved_lines()))
      .number(mat.reorder_point()).number(mat.safety_stock()).integer(mat.lead_time_ms()).integer(e.created_at());
  add_supply(alerts, mat);
  alerts.end_row();
  add_material(materials, m.site, m.agent, mat);
}

void batch_rows::finish(const std::map<agent_key, agent_work>& agents) {
  // Only the newest sample per key reaches the staging table that updates latest_*:
  // a few hundred rows per batch instead of every sample.
  for (const auto& [key, pick] : newest_stocks.picks) {
    const auto& st = *pick.sample;
    stocks.text(key.site).text(key.agent).count(pick.order.seq).integer(pick.order.idx).text(st.material())
        .number(st.quantity()).text(st.unit()).text(st.location()).text(source_name(*pick.batch, st.source()))
        .text(wire::quality_name(st.quality())).integer(pick.order.source_ms).integer(pick.receive_ms).boolean(false);
    stocks.end_row();
  }
  for (const auto& [key, pick] : newest_lines.picks) {
    const auto& l = *pick.sample;
    lines.text(key.site).text(key.agent).count(pick.order.seq).integer(pick.order.idx).text(l.line())
        .text(wire::line_state_name(l.state())).count(l.good_count()).count(l.reject_count()).number(l.good_rate())
        .text(source_name(*pick.batch, l.source())).text(wire::quality_name(l.quality())).integer(pick.order.source_ms)
        .integer(pick.receive_ms).boolean(false);
    lines.end_row();
  }
  for (const auto& [key, work] : agents) {
    agent_rows.text(key.first).text(key.second).count(work.stored).count(work.duplicates).count(work.replayed)
        .count(work.samples).count(work.max_seq).integer(work.last_seen).boolean(work.ranges_changed);
    agent_rows.end_row();
    if (!work.ranges_changed) continue;
    for (const auto& r : work.delivered.ranges()) {
      delivered.text(key.first).text(key.second).count(r.first).count(r.last);
      delivered.end_row();
    }
  }
}

void batch_rows::copy_into(connection& conn, bool any_agent) const {
  if (!stocks_direct.empty()) conn.copy_in("COPY stock_samples FROM STDIN", stocks_direct.data());
  if (!lines_direct.empty()) conn.copy_in("COPY line_samples FROM STDIN", lines_direct.data());
  if (!stocks.empty()) conn.copy_in("COPY stock_stage FROM STDIN", stocks.data());
  if (!lines.empty()) conn.copy_in("COPY line_stage FROM STDIN", lines.data());
  if (!alerts.empty()) conn.copy_in("COPY alert_stage FROM STDIN", alerts.data());
  if (!materials.empty()) conn.copy_in("COPY material_stage FROM STDIN", materials.data());
  if (!statuses.empty()) conn.copy_in("COPY status_stage FROM STDIN", statuses.data());
  if (!reported.empty()) conn.copy_in("COPY reported_stage FROM STDIN", reported.data());
  if (!agent_rows.empty()) conn.copy_in("COPY agent_stage FROM STDIN", agent_rows.data());
  if (any_agent) conn.exec(batch_sql::apply_stages);
  if (!delivered.empty()) conn.copy_in("COPY delivered_ranges FROM STDIN", delivered.data());
}

// Inserts the batch's agents, locks their rows (sorted, so two instances cannot
// deadlock) and loads their delivered ranges.
void lock_agents(connection& conn, std::map<agent_key, agent_work>& agents) {
  if (agents.empty()) return;
  std::vector<std::string> sites, agent_ids;
  for (const auto& [key, work] : agents) {
    sites.push_back(key.first);
    agent_ids.push_back(key.second);
  }
  const params keys{array_literal(sites), array_literal(agent_ids)};
  conn.exec("INSERT INTO agents (site, agent) SELECT * FROM unnest($1::text[], $2::text[]) AS k(site, agent) "
            "ORDER BY 1, 2 ON CONFLICT DO NOTHING",
            keys);
  conn.exec("SELECT a.site FROM agents a JOIN unnest($1::text[], $2::text[]) AS k(site, agent) "
            "USING (site, agent) ORDER BY a.site, a.agent FOR UPDATE OF a",
            keys);
  result ranges = conn.exec(
      "SELECT d.site, d.agent, d.first_seq, d.last_seq FROM delivered_ranges d "
      "JOIN unnest($1::text[], $2::text[]) AS k(site, agent) USING (site, agent)",
      keys);
  for (int i = 0; i < ranges.rows(); ++i) {
    auto it = agents.find({std::string(ranges.text(i, 0)), std::string(ranges.text(i, 1))});
    if (it != agents.end())
      it->second.delivered.add(static_cast<std::uint64_t>(ranges.integer(i, 2)),
                               static_cast<std::uint64_t>(ranges.integer(i, 3)));
  }
}

// Counts one sequenced, non-retained message for its agent; false for a duplicate.
bool count_new(const v1::Envelope& e, agent_work& work, batch_outcome& out) {
  if (work.delivered.contains(e.seq())) {
    ++work.duplicates;
    ++out.duplicates;
    return false;
  }
  work.delivered.add(e.seq());
  work.ranges_changed = true;
  ++work.stored;
  ++out.stored;
  work.max_seq = std::max<std::uint64_t>(work.max_seq, e.seq());
  if (e.replayed()) ++work.replayed;
  return true;
}

}  // namespace

batch_writer::batch_writer(connection& conn, std::string journal_id, std::string instance)
    : conn_(conn), journal_id_(std::move(journal_id)), instance_(std::move(instance)) {}

void batch_writer::prepare() {
  conn_.exec(batch_sql::staging_tables);
  result r = conn_.exec("SELECT committed_through FROM journal_positions WHERE journal_id = $1", {journal_id_});
  committed_through_ = r.rows() > 0 ? static_cast<std::uint64_t>(r.integer(0, 0)) : 0;
}

batch_outcome batch_writer::write(const std::vector<ingest::journal_entry>& entries,
                                  std::vector<rejected_entry>& rejected) {
  batch_outcome out;
  out.messages = entries.size();
  std::uint64_t highest_id = committed_through_;
  std::vector<decoded> messages;
  messages.reserve(entries.size());
  const wire::decode_limits limits;
  for (const auto& entry : entries) {
    highest_id = std::max(highest_id, entry.id);
    if (entry.id <= committed_through_) {
      ++out.already_committed;
      continue;
    }
    decoded d;
    d.entry = &entry;
    std::string reason;
    if (!wire::affordable(entry.payload, limits, reason) || !wire::decode_envelope(entry.payload, d.envelope, reason)) {
      rejected.push_back({entry.id, entry.topic, reason});
      continue;
    }
    reason = unstorable(d.envelope);
    if (!reason.empty()) {
      rejected.push_back({entry.id, entry.topic, reason});
      continue;
    }
    reason = wire::origin_conflict(d.envelope, entry.topic);
    if (!reason.empty()) {
      rejected.push_back({entry.id, entry.topic, reason});
      continue;
    }
    wire::resolve_origin(d.envelope, entry.topic, d.site, d.agent);
    if (d.site.empty() || d.agent.empty()) {
      rejected.push_back({entry.id, entry.topic, "names no site and agent (neither the envelope nor the topic)"});
      continue;
    }
    messages.push_back(std::move(d));
  }
  out.rejected = rejected.size();

  std::map<agent_key, agent_work> agents;
  for (const auto& m : messages) agents[{m.site, m.agent}];

  conn_.exec("BEGIN");
  try {
    lock_agents(conn_, agents);
    batch_rows rows;
    for (const auto& m : messages) {
      agent_work& work = agents[{m.site, m.agent}];
      const auto& e = m.envelope;
      work.last_seen = std::max(work.last_seen, m.entry->received_at);
      if (e.has_status()) {
        rows.add_status(m, out);
        continue;
      }
      if (e.seq() == 0) continue;  // only status is unsequenced; anything else without a seq is not ours to count
      // A retained copy is the broker's replay of state, not the stream: it counts
      // neither as stored nor as a duplicate.
      const bool counts = !m.entry->retained;
      if (counts && !count_new(e, work, out)) continue;
      if (e.has_telemetry()) {
        rows.add_telemetry(m, counts);
        const auto n = static_cast<std::uint64_t>(e.telemetry().lines_size() + e.telemetry().stocks_size());
        if (counts) work.samples += n;
        out.samples += n;
      } else if (e.has_alert()) {
        rows.add_alert(m);
      }
    }
    rows.finish(agents);
    rows.copy_into(conn_, !agents.empty());
    if (highest_id > committed_through_) {
      conn_.exec("INSERT INTO journal_positions (journal_id, instance, committed_through) VALUES ($1, $2, $3) "
                 "ON CONFLICT (journal_id) DO UPDATE SET instance = EXCLUDED.instance, "
                 "committed_through = GREATEST(journal_positions.committed_through, EXCLUDED.committed_through), "
                 "updated_at = now()",
                 {journal_id_, instance_, std::to_string(highest_id)});
    }
    conn_.exec("COMMIT");
  } catch (...) {
    try {
      if (conn_.ok()) conn_.exec("ROLLBACK");
    } catch (...) {
      // The statement's own error is the one worth reporting.
    }
    throw;
  }
  committed_through_ = std::max(committed_through_, highest_id);
  return out;
}

}  // namespace plant::central::db
