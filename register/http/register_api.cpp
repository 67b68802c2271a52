#include "register/http/register_api.hpp"

#include <map>

#include "common/core/seq_ranges.hpp"
#include "common/http/query_string.hpp"
#include "common/wire/json_writer.hpp"
#include "common/wire/time_format.hpp"
#include "watch/audit/sequence_audit.hpp"
#include "watch/views/shortage_board.hpp"

namespace plant::central::api {

namespace {

using agent_key = std::pair<std::string, std::string>;

http::answer json_answer(std::string body) {
  http::answer a;
  a.content_type = "application/json";
  a.body = std::move(body);
  a.body += '\n';
  return a;
}

http::answer bad_request(const std::string& message) {
  wire::json_writer w;
  w.begin_object().field("error", message).end_object();
  http::answer a = json_answer(w.take());
  a.status = 400;
  return a;
}

// A time column read as Unix ms (NULL stays NULL).
const char* const ms = "(extract(epoch from %s) * 1000)::bigint";
std::string as_ms(const std::string& column) {
  char buf[160];
  std::snprintf(buf, sizeof buf, ms, column.c_str());
  return buf;
}

void time_field(wire::json_writer& w, std::string_view name, const db::result& r, int row, int col) {
  w.key(name);
  if (r.is_null(row, col)) {
    w.null();
  } else {
    w.value(wire::format_rfc3339_ms(r.integer(row, col)));
  }
}

watch::stock_status status_from_text(std::string_view s) {
  if (s == "ok") return watch::stock_status::ok;
  if (s == "low") return watch::stock_status::low;
  if (s == "critical") return watch::stock_status::critical;
  if (s == "out") return watch::stock_status::out;
  return watch::stock_status::unknown;
}

// A PostgreSQL text[] in its text form ("{a,\"b c\"}") as strings.
std::vector<std::string> parse_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{') return out;
  std::size_t i = 1;
  while (i < text.size() && text[i] != '}') {
    std::string item;
    if (text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        item += text[i++];
      }
      ++i;  // closing quote
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '}') item += text[i++];
    }
    out.push_back(std::move(item));
    if (i < text.size() && text[i] == ',') ++i;
  }
  return out;
}

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

}  // namespace

register_api::register_api(api_options options) : options_(std::move(options)) {}
register_api::~register_api() = default;

bool register_api::serves(const std::string& path) {
  return path == "/api/agents" || path == "/api/stock" || path == "/api/current" || path == "/api/shortages" ||
         path == "/api/audit";
}

db::connection& register_api::connection() {
  if (!conn_ || !conn_->ok()) {
    conn_.reset();
    // The API runs on the io_context thread: while PostgreSQL is away, a failed connect is
    // remembered for a moment instead of costing every request a connect timeout.
    const auto now = std::chrono::steady_clock::now();
    if (now < retry_after_) throw db::pg_error(last_connect_error_, "", true);
    try {
      conn_ = std::make_unique<db::connection>(options_.connection);
    } catch (const db::pg_error& e) {
      last_connect_error_ = e.what();
      retry_after_ = now + std::chrono::seconds(2);
      throw;
    }
  }
  return *conn_;
}

http::answer register_api::answer(const http::request& request, const std::string& path) {
  if (request.method != "GET" && request.method != "HEAD") {
    http::answer a = http::text_answer(405, "only GET and HEAD");
    a.allow = "GET, HEAD";
    return a;
  }
  const std::vector<std::string> known =
      path == "/api/stock" ? std::vector<std::string>{"site", "material", "from", "to", "limit"}
                           : std::vector<std::string>{};
  const http::parsed_target target = http::parse_target(request.target, known);
  if (!target.error.empty()) return bad_request(target.error);
  try {
    if (path == "/api/agents") return agents();
    if (path == "/api/stock") return stock(target.params);
    if (path == "/api/current") return current();
    if (path == "/api/shortages") return shortages();
    return audit();
  } catch (const db::pg_error& e) {
    ++database_errors_;
    if (e.connection_lost()) conn_.reset();
    log_.limited(log::level::warn, "query", std::string("a query failed: ") + e.what());
    return http::text_answer(503, std::string("database unavailable: ") + e.what());
  } catch (const std::exception& e) {
    return http::text_answer(500, std::string("internal error: ") + e.what());
  }
}

http::answer register_api::agents() {
  db::connection& conn = connection();
  const auto audits = load_audits(conn);
  db::result r = conn.exec("SELECT site, agent, state, " + as_ms("last_seen") +
                           ", version, backlog_messages, dropped, corrupted FROM agents ORDER BY site, agent");
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
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer register_api::stock(const std::map<std::string, std::string>& params) {
  db::params values(5);
  auto get = [&](const char* name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  };
  if (const auto* site = get("site")) values[0] = *site;
  if (const auto* material = get("material")) values[1] = *material;
  for (auto [name, index] : {std::pair<const char*, int>{"from", 2}, {"to", 3}}) {
    if (const auto* text = get(name)) {
      epoch_ms t = 0;
      const std::string problem = wire::parse_rfc3339(*text, t);
      if (!problem.empty()) return bad_request(std::string(name) + ": '" + text->substr(0, 64) + "' is " + problem);
      values[static_cast<std::size_t>(index)] = std::to_string(t);
    }
  }
  std::size_t limit = std::min(options_.default_limit, options_.max_rows);
  if (const auto* text = get("limit")) {
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
      n = std::stoull(*text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text->size() || n < 1 || n > options_.max_rows || (*text)[0] == '-' ||
        (*text)[0] == '+')
      return bad_request("limit: '" + text->substr(0, 32) + "' is not a whole number from 1 to " +
                         std::to_string(options_.max_rows));
    limit = static_cast<std::size_t>(n);
  }
  if (values[2] && values[3] && std::stoll(*values[2]) > std::stoll(*values[3]))
    return bad_request("from: is after to");
  values[4] = std::to_string(limit);
  db::result r = connection().exec(
      "SELECT site, agent, material, " + as_ms("source_time") +
          ", quantity, unit, quality FROM stock_samples "
          "WHERE ($1::text IS NULL OR site = $1) AND ($2::text IS NULL OR material = $2) "
          "AND ($3::bigint IS NULL OR source_time >= to_timestamp($3::bigint / 1000.0)) "
          "AND ($4::bigint IS NULL OR source_time < to_timestamp($4::bigint / 1000.0)) "
          "ORDER BY source_time, site, agent, seq, idx LIMIT $5::bigint",
      values);
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
  db::connection& conn = connection();
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

http::answer register_api::shortages() {
  db::result r = connection().exec(
      "SELECT site, agent, material, status, quantity, unit, rate, " + as_ms("projected_stockout") + ", " +
      as_ms("decided_at") + ", lines, starved_lines, reorder_point, safety_stock FROM material_status");
  // The same board and rules as plant-watch --shortages, so both show the same picture.
  watch::board_state board;
  for (int i = 0; i < r.rows(); ++i) {
    auto& agent = board.agents[{std::string(r.text(i, 0)), std::string(r.text(i, 1))}];
    agent.site = r.text(i, 0);
    agent.agent = r.text(i, 1);
    watch::material_view& m = agent.materials[std::string(r.text(i, 2))];
    m.status = status_from_text(r.text(i, 3));
    m.quantity = r.number(i, 4);
    m.unit = r.text(i, 5);
    m.rate = r.number(i, 6);
    m.projected_stockout = r.integer(i, 7);
    m.at = r.integer(i, 8);
    m.lines = parse_array(r.text(i, 9));
    m.starved_lines = parse_array(r.text(i, 10));
    m.reorder_point = r.number(i, 11);
    m.safety_stock = r.number(i, 12);
  }
  const auto found = watch::find_shortages(board);
  wire::json_writer w;
  w.begin_array();
  for (const auto& e : found) {
    const auto& m = e.status;
    w.begin_object();
    w.field("site", e.site).field("agent", e.agent).field("material", e.material);
    w.field("status", watch::to_string(m.status)).field("quantity", m.quantity).field("unit", m.unit);
    w.field("rate", m.rate);
    w.key("projected_stockout");
    if (m.projected_stockout == 0) {
      w.null();
    } else {
      w.value(wire::format_rfc3339_ms(m.projected_stockout));
    }
    w.key("lines").begin_array();
    for (const auto& l : m.lines) w.value(l);
    w.end_array().key("starved_lines").begin_array();
    for (const auto& l : m.starved_lines) w.value(l);
    w.end_array().key("surplus").begin_array();
    for (const auto& h : e.helpers) {
      w.begin_object().field("site", h.site).field("agent", h.agent).field("quantity", h.quantity)
          .field("unit", h.unit).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer register_api::audit() {
  const auto audits = load_audits(connection());
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

}  // namespace plant::central::api
