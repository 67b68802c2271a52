#include "register/http/register_api.hpp"

#include <map>

#include "common/core/seq_ranges.hpp"
#include "common/core/text.hpp"
#include "common/core/units.hpp"
#include "common/http/query_string.hpp"
#include "common/wire/json_writer.hpp"
#include "common/wire/time_format.hpp"
#include "register/http/operator_tokens.hpp"
#include "register/http/shortage_api.hpp"
#include "watch/audit/sequence_audit.hpp"

namespace plant::central::api {

namespace {

using agent_key = std::pair<std::string, std::string>;

// Every agent's audit record from the ranges tables.
std::map<agent_key, watch::agent_audit> load_audits(db::connection& conn) {
  std::map<agent_key, watch::agent_audit> audits;
  db::result agents = conn.exec("SELECT site, agent, stored, duplicates FROM agents ORDER BY site, agent");
  for (int i = 0; i < agents.rows(); ++i) {
    auto& a = audits[{std::string(agents.text(i, 0)), std::string(agents.text(i, 1))}];
    a.site = agents.text(i, 0);
    a.agent = agents.text(i, 1);
    a.received = static_cast<std::uint64_t>(agents.integer(i, 2));
    a.duplicates = static_cast<std::uint64_t>(agents.integer(i, 3));
  }
  db::result delivered = conn.exec("SELECT site, agent, first_seq, last_seq FROM delivered_ranges");
  for (int i = 0; i < delivered.rows(); ++i) {
    auto it = audits.find({std::string(delivered.text(i, 0)), std::string(delivered.text(i, 1))});
    if (it != audits.end())
      it->second.seqs.add(static_cast<std::uint64_t>(delivered.integer(i, 2)),
                          static_cast<std::uint64_t>(delivered.integer(i, 3)));
  }
  db::result reported = conn.exec("SELECT site, agent, kind, first_seq, last_seq FROM reported_ranges");
  for (int i = 0; i < reported.rows(); ++i) {
    auto it = audits.find({std::string(reported.text(i, 0)), std::string(reported.text(i, 1))});
    if (it == audits.end()) continue;
    seq_ranges& set = reported.text(i, 2) == "dropped" ? it->second.reported_dropped : it->second.reported_corrupted;
    set.add(static_cast<std::uint64_t>(reported.integer(i, 3)), static_cast<std::uint64_t>(reported.integer(i, 4)));
  }
  return audits;
}

// The query parameters each GET path accepts; anything else is a 400.
const std::map<std::string, std::vector<std::string>>& known_params() {
  static const std::map<std::string, std::vector<std::string>> known{
      {"/api/agents", {}},
      {"/api/current", {}},
      {"/api/audit", {}},
      {"/api/shortages", {}},
      {"/api/whoami", {}},
      {"/api/stock", {"site", "material", "from", "to", "limit", "step"}},
      {"/api/materials", {"site", "material"}},
      {"/api/alerts", {"site", "material", "from", "to", "limit"}},
      {"/api/line_states", {"site", "line", "from", "to", "limit"}},
  };
  return known;
}

// $1 site, $2 key, $3 from, $4 to (Unix ms, all nullable), as SQL parameters.
db::params range_values(const range_params& range, std::size_t size) {
  db::params values(size);
  if (range.site) values[0] = *range.site;
  if (range.key) values[1] = *range.key;
  if (range.from) values[2] = std::to_string(*range.from);
  if (range.to) values[3] = std::to_string(*range.to);
  return values;
}

std::string range_where(const std::string& key_column, const std::string& time_column) {
  return "($1::text IS NULL OR site = $1) AND ($2::text IS NULL OR " + key_column +
         " = $2) AND ($3::bigint IS NULL OR " + time_column + " >= to_timestamp($3::bigint / 1000.0)) " +
         "AND ($4::bigint IS NULL OR " + time_column + " < to_timestamp($4::bigint / 1000.0))";
}

}  // namespace

register_api::register_api(api_options options)
    : options_(std::move(options)),
      connection_(options_.connection),
      shortages_(std::make_unique<shortage_api>(connection_, options_.transfers)) {}
register_api::~register_api() = default;

bool register_api::serves(const std::string& path) { return path.rfind("/api/", 0) == 0 && path != "/api/events"; }

void register_api::set_tokens(std::shared_ptr<const operator_tokens> tokens) { shortages_->set_tokens(std::move(tokens)); }

void register_api::set_transfers(std::vector<transfer_route> transfers) {
  options_.transfers = transfers;
  shortages_->set_transfers(std::move(transfers));
}

bool register_api::knows_material(const std::string& site, const std::string& material) {
  db::result r = connection_.get().exec(
      "SELECT 1 FROM material_status WHERE site = $1 AND material = $2 UNION ALL "
      "SELECT 1 FROM latest_stock WHERE site = $1 AND material = $2 LIMIT 1",
      {site, material});
  return r.rows() > 0;
}

http::answer register_api::answer_once(const http::request& request, const std::string& path) {
  // Names go to PostgreSQL as text: bytes it cannot store are the client's mistake (400), not a 503.
  if (!valid_utf8(path) || path.find('\0') != std::string::npos)
    return json_error(400, "path: not valid UTF-8 text");
  if (shortage_api::is_action_path(path)) return shortages_->act(request, path);
  const auto known = known_params().find(path);
  if (known == known_params().end()) return json_error(404, "no such API path: " + path.substr(0, 128));
  if (request.method != "GET" && request.method != "HEAD") {
    http::answer a = json_error(405, path + " answers GET and HEAD only");
    a.allow = "GET, HEAD";
    return a;
  }
  const http::parsed_target target = http::parse_target(request.target, known->second);
  if (!target.error.empty()) return json_error(400, target.error);
  for (const auto& [name, value] : target.params)
    if (!valid_utf8(value) || value.find('\0') != std::string::npos)
      return json_error(400, name + ": not valid UTF-8 text");
  return route(request, path, target.params);
}

http::answer register_api::answer(const http::request& request, const std::string& path) {
  try {
    try {
      return answer_once(request, path);
    } catch (const db::pg_error& e) {
      // A connection kept from before a PostgreSQL restart fails on first use; the
      // request gets one more try on a new connection rather than a 503. (An ack that
      // did commit before the connection broke is at worst stored twice: the newest counts.)
      if (!e.connection_lost() || !connection_.reused()) throw;
      connection_.lost();
      log_.info("the API's database connection was lost; reconnected for the request");
      return answer_once(request, path);
    }
  } catch (const db::pg_error& e) {
    ++database_errors_;
    if (e.connection_lost()) connection_.lost();
    log_.limited(log::level::warn, "query", std::string("a query failed: ") + e.what());
    return json_error(503, std::string("database unavailable: ") + e.what());
  } catch (const std::exception& e) {
    return json_error(500, std::string("internal error: ") + e.what());
  }
}

http::answer register_api::route(const http::request& request, const std::string& path,
                                 const std::map<std::string, std::string>& params) {
  if (path == "/api/agents") return agents();
  if (path == "/api/stock") return stock(params);
  if (path == "/api/current") return current();
  if (path == "/api/shortages") return shortages_->list();
  if (path == "/api/whoami") return shortages_->whoami(request);
  if (path == "/api/materials") return materials(params);
  if (path == "/api/alerts") return alerts(params);
  if (path == "/api/line_states") return line_states(params);
  return audit();
}

http::answer register_api::agents() {
  db::connection& conn = connection_.get();
  const auto audits = load_audits(conn);
  db::result r = conn.exec("SELECT site, agent, state, " + as_ms("last_seen") +
                           ", version, backlog_messages, dropped, corrupted, reason, " + as_ms("status_time") +
                           ", backlog_oldest_age_ms FROM agents ORDER BY site, agent");
  wire::json_writer w;
  w.begin_array();
  for (int i = 0; i < r.rows(); ++i) {
    w.begin_object();
    w.field("site", r.text(i, 0)).field("agent", r.text(i, 1)).field("state", r.text(i, 2));
    time_field(w, "last_seen", r, i, 3);
    w.field("version", r.text(i, 4));
    w.field("backlog_messages", r.integer(i, 5)).field("dropped", r.integer(i, 6)).field("corrupted", r.integer(i, 7));
    auto it = audits.find({std::string(r.text(i, 0)), std::string(r.text(i, 1))});
    w.field("gaps", it == audits.end() ? 0 : watch::find_gaps(it->second, 0).gaps);
    w.field("reason", r.text(i, 8));
    time_field(w, "status_time", r, i, 9);
    w.field("backlog_oldest_age_ms", r.integer(i, 10));
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer register_api::stock(const std::map<std::string, std::string>& params) {
  const range_params range = read_range(params, "material", options_.default_limit, options_.max_rows);
  if (!range.error.empty()) return json_error(400, range.error);
  db::params values = range_values(range, 6);
  values[4] = std::to_string(range.limit);
  // step: one point per interval (its last sample), so a week fits a chart.
  if (auto it = params.find("step"); it != params.end()) {
    std::string problem;
    const auto step = parse_duration(it->second, problem);
    if (!step || step->count() < 1000)
      return json_error(400, "step: '" + it->second.substr(0, 32) + "' is " +
                                 (step ? std::string("shorter than 1s") : problem));
    values[5] = std::to_string(step->count());
  }
  const std::string where = range_where("material", "source_time");
  const std::string sql =
      values[5] ? "SELECT site, agent, material, " + as_ms("source_time") +
                      ", quantity, unit, quality FROM (SELECT DISTINCT ON (site, agent, material, "
                      "floor(extract(epoch from source_time) * 1000 / $6::bigint)) * FROM stock_samples WHERE " +
                      where +
                      " ORDER BY site, agent, material, floor(extract(epoch from source_time) * 1000 / $6::bigint), "
                      "source_time DESC, seq DESC, idx DESC) b ORDER BY source_time, site, agent LIMIT $5::bigint"
                : "SELECT site, agent, material, " + as_ms("source_time") +
                      ", quantity, unit, quality FROM stock_samples WHERE " + where + " AND $6::bigint IS NULL " +
                      "ORDER BY source_time, site, agent, seq, idx LIMIT $5::bigint";
  db::result r = connection_.get().exec(sql, values);
  wire::json_writer w;
  w.begin_array();
  for (int i = 0; i < r.rows(); ++i) {
    w.begin_object();
    w.field("site", r.text(i, 0)).field("agent", r.text(i, 1)).field("material", r.text(i, 2));
    time_field(w, "time", r, i, 3);
    w.field("quantity", r.number(i, 4)).field("unit", r.text(i, 5)).field("quality", r.text(i, 6));
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer register_api::current() {
  db::connection& conn = connection_.get();
  const std::string limit = std::to_string(options_.max_rows);
  db::result stock = conn.exec("SELECT site, agent, material, " + as_ms("time") +
                               ", quantity, unit, quality, location FROM current_stock ORDER BY site, material LIMIT " +
                               limit);
  db::result lines = conn.exec("SELECT site, agent, line, " + as_ms("time") +
                               ", state, good_count, reject_count, good_rate, quality FROM current_lines "
                               "ORDER BY site, line LIMIT " + limit);
  wire::json_writer w;
  w.begin_object().key("stock").begin_array();
  for (int i = 0; i < stock.rows(); ++i) {
    w.begin_object();
    w.field("site", stock.text(i, 0)).field("agent", stock.text(i, 1)).field("material", stock.text(i, 2));
    time_field(w, "time", stock, i, 3);
    w.field("quantity", stock.number(i, 4)).field("unit", stock.text(i, 5)).field("quality", stock.text(i, 6));
    w.field("location", stock.text(i, 7));
    w.end_object();
  }
  w.end_array().key("lines").begin_array();
  for (int i = 0; i < lines.rows(); ++i) {
    w.begin_object();
    w.field("site", lines.text(i, 0)).field("agent", lines.text(i, 1)).field("line", lines.text(i, 2));
    time_field(w, "time", lines, i, 3);
    w.field("state", lines.text(i, 4)).field("good_count", lines.integer(i, 5))
        .field("reject_count", lines.integer(i, 6)).field("good_rate", lines.number(i, 7))
        .field("quality", lines.text(i, 8));
    w.end_object();
  }
  w.end_array().end_object();
  return json_answer(w.take());
}

http::answer register_api::audit() {
  const auto audits = load_audits(connection_.get());
  wire::json_writer w;
  w.begin_array();
  for (const auto& [key, a] : audits) {
    const watch::audit_gaps gaps = watch::find_gaps(a, 1000);
    w.begin_object();
    w.field("site", a.site).field("agent", a.agent).field("stored", a.received).field("duplicates", a.duplicates);
    w.field("gaps", gaps.gaps);
    w.key("missing").begin_array();
    for (const auto& range : gaps.missing) w.begin_array().value(range.first).value(range.last).end_array();
    w.end_array();
    if (gaps.truncated) w.field("missing_truncated", true);
    w.field("reported_dropped", a.reported_dropped.count()).field("reported_corrupted", a.reported_corrupted.count());
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer register_api::materials(const std::map<std::string, std::string>& params) {
  const range_params range = read_range(params, "material", options_.max_rows, options_.max_rows);
  if (!range.error.empty()) return json_error(400, range.error);
  db::params values = range_values(range, 3);
  values[2] = std::to_string(options_.max_rows);
  // Every material an agent watches or reports stock of; status is null for stock nobody watches.
  db::result r = connection_.get().exec(
      "SELECT coalesce(m.site, s.site) AS site, coalesce(m.agent, s.agent) AS agent, "
      "coalesce(m.material, s.material) AS material, m.status, coalesce(s.quantity, m.quantity), "
      "coalesce(s.unit, m.unit), " + as_ms("coalesce(s.source_time, m.decided_at)") + ", m.rate, " +
      as_ms("m.projected_stockout") + ", m.reorder_point, m.safety_stock, m.lead_time_ms, m.lines, m.starved_lines, " +
      "m.incoming, " + as_ms("m.next_receipt") + ", m.late_receipts, m.late_quantity, " + as_ms("m.covered_until") +
      ", m.reason " +
      "FROM material_status m FULL JOIN latest_stock s "
      "ON m.site = s.site AND m.agent = s.agent AND m.material = s.material "
      "WHERE ($1::text IS NULL OR coalesce(m.site, s.site) = $1) "
      "AND ($2::text IS NULL OR coalesce(m.material, s.material) = $2) "
      "ORDER BY 1, 3, 2 LIMIT $3::bigint",
      values);
  wire::json_writer w;
  w.begin_array();
  for (int i = 0; i < r.rows(); ++i) {
    w.begin_object();
    w.field("site", r.text(i, 0)).field("agent", r.text(i, 1)).field("material", r.text(i, 2));
    w.key("status");
    if (r.is_null(i, 3)) w.null(); else w.value(r.text(i, 3));
    w.field("quantity", r.number(i, 4)).field("unit", r.text(i, 5));
    time_field(w, "time", r, i, 6);
    const bool watched = !r.is_null(i, 3);
    w.key("rate");
    if (watched) w.value(r.number(i, 7)); else w.null();
    if (watched && r.integer(i, 8) != 0) time_field(w, "projected_stockout", r, i, 8);
    else w.key("projected_stockout").null();
    for (auto [name, col] : {std::pair<const char*, int>{"reorder_point", 9}, {"safety_stock", 10}}) {
      w.key(name);
      if (watched) w.value(r.number(i, col)); else w.null();
    }
    w.key("lead_time_ms");
    if (watched) w.value(r.integer(i, 11)); else w.null();
    w.key("lines").begin_array();
    if (watched) for (const auto& l : parse_text_array(r.text(i, 12))) w.value(l);
    w.end_array().key("starved_lines").begin_array();
    if (watched) for (const auto& l : parse_text_array(r.text(i, 13))) w.value(l);
    w.end_array();
    // The supply side: what is on order and why it is short (null for stock nobody watches).
    w.key("incoming");
    if (watched) w.value(r.number(i, 14)); else w.null();
    if (watched && !r.is_null(i, 15)) time_field(w, "next_receipt", r, i, 15); else w.key("next_receipt").null();
    w.key("late_receipts");
    if (watched) {
      w.begin_object().field("count", r.integer(i, 16)).field("quantity", r.number(i, 17)).end_object();
    } else {
      w.null();
    }
    if (watched && !r.is_null(i, 18)) time_field(w, "covered_until", r, i, 18); else w.key("covered_until").null();
    w.key("reason");
    if (watched && !r.text(i, 19).empty()) w.value(r.text(i, 19)); else w.null();
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer register_api::alerts(const std::map<std::string, std::string>& params) {
  const range_params range = read_range(params, "material", options_.default_limit, options_.max_rows);
  if (!range.error.empty()) return json_error(400, range.error);
  db::params values = range_values(range, 5);
  values[4] = std::to_string(range.limit);
  db::result r = connection_.get().exec(
      "SELECT site, agent, seq, material, " + as_ms("decided_at") +
          ", status, previous_status, cleared, quantity, unit, rate, " + as_ms("projected_stockout") +
          " FROM alerts WHERE " + range_where("material", "decided_at") +
          " ORDER BY decided_at, site, agent, seq LIMIT $5::bigint",
      values);
  wire::json_writer w;
  w.begin_array();
  for (int i = 0; i < r.rows(); ++i) {
    w.begin_object();
    w.field("site", r.text(i, 0)).field("agent", r.text(i, 1)).field("seq", r.integer(i, 2));
    w.field("material", r.text(i, 3));
    time_field(w, "time", r, i, 4);
    w.field("status", r.text(i, 5)).field("previous_status", r.text(i, 6)).field("cleared", r.text(i, 7) == "t");
    w.field("quantity", r.number(i, 8)).field("unit", r.text(i, 9)).field("rate", r.number(i, 10));
    time_field(w, "projected_stockout", r, i, 11);
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer register_api::line_states(const std::map<std::string, std::string>& params) {
  const range_params range = read_range(params, "line", options_.default_limit, options_.max_rows);
  if (!range.error.empty()) return json_error(400, range.error);
  db::params values = range_values(range, 5);
  values[4] = std::to_string(range.limit);
  // The samples in range folded into spans of one state: a day of 1 s samples becomes
  // the handful of changes a timeline draws. `to` is null for the span still going on.
  db::result r = connection_.get().exec(
      "WITH s AS (SELECT site, agent, line, state, source_time, "
      "lag(state) OVER (PARTITION BY site, agent, line ORDER BY source_time, seq, idx) AS previous "
      "FROM line_samples WHERE " + range_where("line", "source_time") + "), "
      "c AS (SELECT site, agent, line, state, source_time AS since FROM s WHERE previous IS DISTINCT FROM state) "
      "SELECT site, agent, line, state, " + as_ms("since") + ", " +
      as_ms("lead(since) OVER (PARTITION BY site, agent, line ORDER BY since)") +
      " FROM c ORDER BY since, site, agent, line LIMIT $5::bigint",
      values);
  wire::json_writer w;
  w.begin_array();
  for (int i = 0; i < r.rows(); ++i) {
    w.begin_object();
    w.field("site", r.text(i, 0)).field("agent", r.text(i, 1)).field("line", r.text(i, 2));
    w.field("state", r.text(i, 3));
    time_field(w, "from", r, i, 4);
    time_field(w, "to", r, i, 5);
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

}  // namespace plant::central::api
