#include "register/http/shortage_api.hpp"

#include <map>

#include "common/core/units.hpp"
#include "common/http/query_string.hpp"
#include "common/wire/json_reader.hpp"
#include "common/wire/json_writer.hpp"
#include "common/wire/time_format.hpp"
#include "register/http/operator_tokens.hpp"
#include "register/http/shortage_rules.hpp"
#include "watch/views/shortage_board.hpp"

namespace plant::central::api {

namespace {

constexpr std::size_t max_note_bytes = 1000;
constexpr std::int64_t max_snooze_ms = 7LL * 24 * 3600 * 1000;

watch::stock_status status_from_text(std::string_view s) {
  if (s == "ok") return watch::stock_status::ok;
  if (s == "low") return watch::stock_status::low;
  if (s == "critical") return watch::stock_status::critical;
  if (s == "out") return watch::stock_status::out;
  return watch::stock_status::unknown;
}

struct action_path {
  std::string site, material, action;
};

// "/api/shortages/<site>/<material>/<action>", parts decoded and non-empty.
bool split_action_path(const std::string& path, action_path& out) {
  const std::string prefix = "/api/shortages/";
  if (path.rfind(prefix, 0) != 0) return false;
  std::vector<std::string> parts;
  std::size_t start = prefix.size();
  while (true) {
    const std::size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) return false;
  if (parts[2] != "ack" && parts[2] != "snooze") return false;
  out = {parts[0], parts[1], parts[2]};
  return true;
}

using site_material = std::pair<std::string, std::string>;

struct action_row {
  shortage_action action;
  bool ok_since = false;
};

std::map<site_material, action_row> load_actions(db::connection& conn) {
  std::map<site_material, action_row> out;
  db::result r = conn.exec(
      "SELECT a.site, a.material, a.action, a.operator, a.note, a.status, " + as_ms("a.at") + ", " +
      as_ms("a.until") +
      // Compared in the agents' sample time: the decision the operator saw, not the register's clock.
      ", EXISTS (SELECT 1 FROM alerts x WHERE x.site = a.site AND x.material = a.material AND x.status = 'ok' "
      "AND x.decided_at > coalesce(a.decided_at, a.at)) "
      "FROM (SELECT DISTINCT ON (site, material) * FROM shortage_actions ORDER BY site, material, id DESC) a");
  for (int i = 0; i < r.rows(); ++i) {
    action_row row;
    row.action.action = r.text(i, 2);
    row.action.by = r.text(i, 3);
    row.action.note = r.text(i, 4);
    row.action.status = r.text(i, 5);
    row.action.at = r.integer(i, 6);
    row.action.until = r.is_null(i, 7) ? 0 : r.integer(i, 7);
    row.ok_since = r.text(i, 8) == "t";
    out[{std::string(r.text(i, 0)), std::string(r.text(i, 1))}] = row;
  }
  return out;
}

void write_action(wire::json_writer& w, const shortage_action& a, const char* effect) {
  w.begin_object().field("action", a.action).field("by", a.by).field("at", wire::format_rfc3339_ms(a.at));
  w.field("note", a.note).field("status", a.status);
  w.key("until");
  if (a.action == "snooze") w.value(wire::format_rfc3339_ms(a.until)); else w.null();
  w.field("effect", effect).end_object();
}

// What is on order and why it is short, as in plant-watch --shortages.
void write_supply(wire::json_writer& w, const watch::material_view& m) {
  w.field("incoming", m.incoming);
  w.key("next_receipt");
  if (m.next_receipt == 0) w.null(); else w.value(wire::format_rfc3339_ms(m.next_receipt));
  w.key("late_receipts").begin_object().field("count", m.late_receipts).field("quantity", m.late_quantity).end_object();
  w.key("covered_until");
  if (m.covered_until == 0) w.null(); else w.value(wire::format_rfc3339_ms(m.covered_until));
  w.key("reason");
  if (m.reason.empty()) w.null(); else w.value(m.reason);
}

}  // namespace

shortage_api::shortage_api(api_connection& connection, std::vector<transfer_route> transfers,
                           std::function<epoch_ms()> now)
    : connection_(connection), transfers_(std::move(transfers)), now_(std::move(now)),
      tokens_(std::make_shared<operator_tokens>()) {}
shortage_api::~shortage_api() = default;

bool shortage_api::is_action_path(const std::string& path) {
  action_path parts;
  return split_action_path(path, parts);
}

http::answer shortage_api::list() {
  db::connection& conn = connection_.get();
  db::result r = conn.exec(
      "SELECT site, agent, material, status, quantity, unit, rate, " + as_ms("projected_stockout") + ", " +
      as_ms("decided_at") + ", lines, starved_lines, reorder_point, safety_stock, incoming, " + as_ms("next_receipt") +
      ", late_receipts, late_quantity, " + as_ms("covered_until") + ", reason FROM material_status");
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
    m.projected_stockout = r.is_null(i, 7) ? 0 : r.integer(i, 7);
    m.at = r.integer(i, 8);
    m.lines = parse_text_array(r.text(i, 9));
    m.starved_lines = parse_text_array(r.text(i, 10));
    m.reorder_point = r.number(i, 11);
    m.safety_stock = r.number(i, 12);
    m.incoming = r.number(i, 13);
    m.next_receipt = r.is_null(i, 14) ? 0 : r.integer(i, 14);
    m.late_receipts = static_cast<std::uint32_t>(r.integer(i, 15));
    m.late_quantity = r.number(i, 16);
    m.covered_until = r.is_null(i, 17) ? 0 : r.integer(i, 17);
    m.reason = r.text(i, 18);
  }
  const auto actions = load_actions(conn);
  const epoch_ms now = now_();
  const auto found = watch::find_shortages(board);
  wire::json_writer w;
  w.begin_array();
  for (const auto& e : found) {
    const auto& m = e.status;
    const std::string status(watch::to_string(m.status));
    w.begin_object();
    w.field("site", e.site).field("agent", e.agent).field("material", e.material);
    w.field("status", status).field("quantity", m.quantity).field("unit", m.unit);
    w.field("rate", m.rate);
    w.key("projected_stockout");
    if (m.projected_stockout == 0) w.null(); else w.value(wire::format_rfc3339_ms(m.projected_stockout));
    w.key("lines").begin_array();
    for (const auto& l : m.lines) w.value(l);
    w.end_array().key("starved_lines").begin_array();
    for (const auto& l : m.starved_lines) w.value(l);
    w.end_array();
    write_supply(w, m);
    w.key("surplus").begin_array();
    for (const auto& h : e.helpers) {
      const auto& held = board.agents.at({h.site, h.agent}).materials.at(e.material);
      const transfer_proposal p =
          propose_transfer(transfer_time(transfers_, h.site, e.site), now, status, m.projected_stockout);
      w.begin_object().field("site", h.site).field("agent", h.agent).field("quantity", h.quantity)
          .field("unit", h.unit).field("spare", spare_quantity(held.quantity, held.reorder_point, held.safety_stock));
      w.key("transfer_time");
      if (p.has_route) w.value(std::chrono::duration_cast<std::chrono::seconds>(p.time).count()); else w.null();
      w.key("arrives_at");
      if (p.has_route) w.value(wire::format_rfc3339_ms(p.arrives_at)); else w.null();
      w.key("arrives_before_stockout");
      if (p.arrives_before_stockout) w.value(*p.arrives_before_stockout); else w.null();
      w.end_object();
    }
    w.end_array();
    w.key("action");
    auto a = actions.find({e.site, e.material});
    const action_effect effect =
        a == actions.end() ? action_effect::expired : effect_of(a->second.action, status, now, a->second.ok_since);
    if (effect == action_effect::expired) w.null();
    else write_action(w, a->second.action, effect == action_effect::holds ? "holds" : "escalated");
    w.end_object();
  }
  w.end_array();
  return json_answer(w.take());
}

http::answer shortage_api::whoami(const http::request& request) const {
  wire::json_writer w;
  const std::string name = tokens_->operator_for(request.authorization);
  w.begin_object().field("writes_enabled", tokens_->writes_enabled()).key("operator");
  if (name.empty()) w.null(); else w.value(name);
  w.end_object();
  return json_answer(w.take());
}

http::answer shortage_api::act(const http::request& request, const std::string& path) {
  action_path target;
  split_action_path(path, target);
  if (request.method != "POST") {
    http::answer a = json_error(405, path + " answers POST only");
    a.allow = "POST";
    return a;
  }
  if (!tokens_->writes_enabled())
    return json_error(403, "this register is read-only: http.tokens_file is not set");
  const std::string by = tokens_->operator_for(request.authorization);
  if (by.empty())
    return json_error(401, request.authorization.empty() ? "an \"Authorization: Bearer <token>\" header is needed"
                                                         : "the token is not in http.tokens_file");

  // The body: {"note": "..."} for ack, {"duration": "2h", "note": "..."} for snooze.
  std::string note;
  std::int64_t snooze_ms = 0;
  {
    const std::string_view body = request.body;
    const wire::json_parse_result parsed = wire::parse_json(body.empty() ? std::string_view("{}") : body);
    if (!parsed.ok()) return json_error(400, "body: " + parsed.error);
    if (!parsed.value.is_object()) return json_error(400, "body: must be a JSON object");
    for (const auto& [name, value] : parsed.value.members()) {
      if (name == "note") {
        if (!value.is_string()) return json_error(400, std::string("note: must be a string, not ") + wire::kind_name(value.type()));
        if (value.as_string().size() > max_note_bytes)
          return json_error(400, "note: longer than " + std::to_string(max_note_bytes) + " bytes");
        note = value.as_string();
      } else if (name == "duration" && target.action == "snooze") {
        if (!value.is_string())
          return json_error(400, std::string("duration: must be a string such as \"4h\", not ") + wire::kind_name(value.type()));
        std::string problem;
        const auto d = parse_duration(value.as_string(), problem);
        if (!d) return json_error(400, "duration: '" + value.as_string().substr(0, 32) + "' is " + problem);
        if (d->count() < 60000 || d->count() > max_snooze_ms)
          return json_error(400, "duration: must be from 1m to 7d");
        snooze_ms = d->count();
      } else {
        return json_error(400, "body: unknown member \"" + name.substr(0, 64) + "\" (" +
                                   (target.action == "ack" ? "ack takes note" : "snooze takes duration and note") + ")");
      }
    }
    if (target.action == "snooze" && snooze_ms == 0) return json_error(400, "duration: missing (e.g. \"4h\")");
  }

  db::connection& conn = connection_.get();
  db::result current = conn.exec("SELECT status, " + as_ms("decided_at") +
                                     " FROM material_status WHERE site = $1 AND material = $2",
                                 {target.site, target.material});
  if (current.rows() == 0)
    return json_error(404, "no material '" + target.material.substr(0, 64) + "' at site '" +
                               target.site.substr(0, 64) + "'");
  std::string worst = "ok";
  std::int64_t decided_at = 0;
  for (int i = 0; i < current.rows(); ++i) {
    if (severity(current.text(i, 0)) > severity(worst)) worst = current.text(i, 0);
    decided_at = std::max(decided_at, current.integer(i, 1));
  }
  if (severity(worst) <= 0)
    return json_error(409, target.material + " at " + target.site + " is not short (" + worst + ")");

  const epoch_ms now = now_();
  shortage_action action{target.action, by, note, worst, now, target.action == "snooze" ? now + snooze_ms : 0};
  db::params values{target.site, target.material, target.action, by, note, worst, std::to_string(now),
                    std::nullopt, std::to_string(decided_at)};
  if (target.action == "snooze") values[7] = std::to_string(action.until);
  wire::json_writer w;
  w.begin_object().field("site", target.site).field("material", target.material).key("action");
  write_action(w, action, "holds");
  w.end_object();
  const std::string body = w.take();
  // One statement, so the row and the boards' notification commit together.
  conn.exec(
      "WITH a AS (INSERT INTO shortage_actions (site, material, action, operator, note, status, at, until, "
      "decided_at) VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint / 1000.0), "
      "to_timestamp($8::bigint / 1000.0), to_timestamp($9::bigint / 1000.0)) "
      "RETURNING id) SELECT pg_notify('plant_register_action', $10) FROM a",
      [&] {
        values.push_back(body);
        return values;
      }());
  return json_answer(body);
}

}  // namespace plant::central::api
