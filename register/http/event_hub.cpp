#include "register/http/event_hub.hpp"

#include <unistd.h>

#include <algorithm>

#include "common/wire/json_writer.hpp"
#include "common/wire/time_format.hpp"
#include "register/http/api_support.hpp"

namespace plant::central::api {

namespace {

constexpr char separator = '\x1f';

std::string snapshot_key(std::string_view kind, std::string_view site, std::string_view agent, std::string_view name) {
  std::string k(kind);
  k += separator;
  k += site;
  k += separator;
  k += agent;
  k += separator;
  k += name;
  return k;
}

std::string rfc3339_or_empty(const db::result& r, int row, int col) {
  return r.is_null(row, col) ? std::string() : wire::format_rfc3339_ms(r.integer(row, col));
}

}  // namespace

event_hub::event_hub(boost::asio::io_context& io, event_hub_options options)
    : io_(io), options_(std::move(options)), refresh_timer_(io), ping_timer_(io), retry_timer_(io) {}

event_hub::~event_hub() { stop(); }

std::size_t event_hub::open_streams() const {
  return static_cast<std::size_t>(std::count_if(streams_.begin(), streams_.end(),
                                                [](const auto& s) { return !s->closed(); }));
}

http::answer event_hub::open() {
  prune();
  if (stopped_ || streams_.size() >= options_.max_streams) {
    ++stats_.streams_refused;
    return json_error(503, "too many open event streams (" + std::to_string(options_.max_streams) + ")");
  }
  http::answer a;
  a.open_stream = [this](std::shared_ptr<http::event_stream> stream) { attach(std::move(stream)); };
  return a;
}

void event_hub::attach(std::shared_ptr<http::event_stream> stream) {
  if (stopped_) return;
  ++stats_.streams_opened;
  ensure_listening();
  wire::json_writer w;
  w.begin_object().field("time", wire::format_rfc3339_ms(wall_clock_ms())).field("listening", conn_ != nullptr)
      .end_object();
  if (stream->send("hello", w.text())) ++stats_.events_sent;
  streams_.push_back(std::move(stream));
  ping_later();
}

void event_hub::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  refresh_timer_.cancel();
  ping_timer_.cancel();
  retry_timer_.cancel();
  if (socket_) socket_->close(ignored);
  socket_.reset();
  conn_.reset();
  streams_.clear();
  stats_.listening = false;
}

void event_hub::prune() {
  streams_.erase(std::remove_if(streams_.begin(), streams_.end(), [](const auto& s) { return s->closed(); }),
                 streams_.end());
}

void event_hub::broadcast(std::string_view event, std::string_view data) {
  for (const auto& s : streams_)
    if (s->send(event, data)) ++stats_.events_sent;
  prune();
}

void event_hub::ping_later() {
  if (ping_running_ || stopped_) return;
  ping_running_ = true;
  ping_timer_.expires_after(options_.ping_interval);
  ping_timer_.async_wait([this](const boost::system::error_code& ec) {
    ping_running_ = false;
    if (ec || stopped_) return;
    prune();
    if (streams_.empty()) return;  // the next stream starts it again
    wire::json_writer w;
    w.begin_object().field("time", wire::format_rfc3339_ms(wall_clock_ms())).field("listening", conn_ != nullptr)
        .end_object();
    broadcast("ping", w.text());
    ping_later();
  });
}

void event_hub::ensure_listening() {
  if (conn_ || stopped_ || retry_pending_) return;
  try {
    conn_ = std::make_unique<db::connection>(options_.connection);
    conn_->exec("LISTEN plant_register_changes; LISTEN plant_register_alert; LISTEN plant_register_action");
    // A copy of the socket for asio: closing it leaves libpq's own descriptor alone.
    const int fd = ::dup(conn_->socket());
    if (fd < 0) throw db::pg_error("dup of the LISTEN socket failed", "", true);
    socket_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
    stats_.listening = true;
    refresh(false);  // the picture changes are measured against
    wait_readable();
    log_.info("listening for changes in PostgreSQL");
  } catch (const db::pg_error& e) {
    connection_lost(e.what());
  }
}

void event_hub::connection_lost(const std::string& why) {
  ++stats_.database_errors;
  log_.limited(log::level::warn, "listen", "live updates paused: " + why);
  boost::system::error_code ignored;
  // A refresh already scheduled must not run on the connection that is gone.
  refresh_timer_.cancel();
  refresh_pending_ = false;
  if (socket_) socket_->close(ignored);
  socket_.reset();
  conn_.reset();
  stats_.listening = false;
  if (stopped_ || retry_pending_) return;
  retry_pending_ = true;
  retry_timer_.expires_after(options_.retry_interval);
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    retry_pending_ = false;
    if (ec || stopped_) return;
    prune();
    if (streams_.empty()) return;  // reconnect when a board asks again
    ensure_listening();
    // What changed while away: a full reload for every page.
    if (conn_) broadcast("hello", "{\"listening\":true}");
  });
}

void event_hub::wait_readable() {
  if (!socket_) return;
  socket_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    on_readable();
  });
}

void event_hub::on_readable() {
  std::vector<std::pair<std::string, std::string>> notes;
  if (!conn_ || !conn_->take_notifications(notes)) {
    connection_lost("the LISTEN connection closed");
    return;
  }
  for (const auto& [channel, payload] : notes) {
    if (channel == "plant_register_alert") broadcast("alert", payload);
    else if (channel == "plant_register_action") broadcast("action", payload);
    else schedule_refresh();
  }
  wait_readable();
}

void event_hub::schedule_refresh() {
  if (refresh_pending_) return;
  refresh_pending_ = true;
  refresh_timer_.expires_after(options_.refresh_interval);
  refresh_timer_.async_wait([this](const boost::system::error_code& ec) {
    refresh_pending_ = false;
    if (ec || stopped_) return;
    refresh(true);
  });
}

void event_hub::refresh(bool send) {
  if (!conn_) return;
  snapshot now;
  try {
    now = read_snapshot();
  } catch (const db::pg_error& e) {
    connection_lost(e.what());
    return;
  }
  ++stats_.refreshes;
  if (send) {
    for (const auto& [key, r] : now) {
      auto before = last_.find(key);
      if (before != last_.end() && before->second.change_key == r.change_key) continue;
      broadcast(std::string_view(key).substr(0, key.find(separator)), r.json);
    }
  }
  last_ = std::move(now);
}

event_hub::snapshot event_hub::read_snapshot() {
  snapshot out;
  if (!conn_) return out;
  const std::string limit = " LIMIT " + std::to_string(options_.max_rows);
  db::result agents = conn_->exec("SELECT site, agent, state, reason, version, backlog_messages, dropped, corrupted, " +
                                  as_ms("last_seen") + ", " + as_ms("status_time") +
                                  ", backlog_oldest_age_ms FROM agents ORDER BY site, agent" + limit);
  for (int i = 0; i < agents.rows(); ++i) {
    wire::json_writer w;
    w.begin_object().field("site", agents.text(i, 0)).field("agent", agents.text(i, 1))
        .field("state", agents.text(i, 2)).field("reason", agents.text(i, 3)).field("version", agents.text(i, 4))
        .field("backlog_messages", agents.integer(i, 5)).field("dropped", agents.integer(i, 6))
        .field("corrupted", agents.integer(i, 7)).field("last_seen", rfc3339_or_empty(agents, i, 8))
        .field("status_time", rfc3339_or_empty(agents, i, 9))
        .field("backlog_oldest_age_ms", agents.integer(i, 10)).end_object();
    std::string change;
    for (int c : {2, 3, 4, 5, 6, 7, 9, 10}) change.append(agents.text(i, c)).push_back(separator);
    out[snapshot_key("agent", agents.text(i, 0), agents.text(i, 1), "")] = {change, w.take()};
  }
  db::result stock = conn_->exec("SELECT site, agent, material, quantity, unit, quality, " + as_ms("source_time") +
                                 " FROM latest_stock ORDER BY site, agent, material" + limit);
  for (int i = 0; i < stock.rows(); ++i) {
    wire::json_writer w;
    w.begin_object().field("site", stock.text(i, 0)).field("agent", stock.text(i, 1))
        .field("material", stock.text(i, 2)).field("quantity", stock.number(i, 3)).field("unit", stock.text(i, 4))
        .field("quality", stock.text(i, 5)).field("time", rfc3339_or_empty(stock, i, 6)).end_object();
    std::string change;
    for (int c : {3, 5, 6}) change.append(stock.text(i, c)).push_back(separator);
    out[snapshot_key("stock", stock.text(i, 0), stock.text(i, 1), stock.text(i, 2))] = {change, w.take()};
  }
  db::result lines = conn_->exec("SELECT site, agent, line, state, good_count, reject_count, good_rate, quality, " +
                                 as_ms("source_time") + " FROM latest_lines ORDER BY site, agent, line" + limit);
  for (int i = 0; i < lines.rows(); ++i) {
    wire::json_writer w;
    w.begin_object().field("site", lines.text(i, 0)).field("agent", lines.text(i, 1)).field("line", lines.text(i, 2))
        .field("state", lines.text(i, 3)).field("good_count", lines.integer(i, 4))
        .field("reject_count", lines.integer(i, 5)).field("good_rate", lines.number(i, 6))
        .field("quality", lines.text(i, 7)).field("time", rfc3339_or_empty(lines, i, 8)).end_object();
    std::string change;
    for (int c : {3, 4, 5, 7}) change.append(lines.text(i, c)).push_back(separator);
    out[snapshot_key("line", lines.text(i, 0), lines.text(i, 1), lines.text(i, 2))] = {change, w.take()};
  }
  db::result materials = conn_->exec("SELECT site, agent, material, status, quantity, unit, rate, " +
                                     as_ms("projected_stockout") + ", " + as_ms("decided_at") +
                                     ", incoming, " + as_ms("next_receipt") + ", late_receipts, late_quantity, " +
                                     as_ms("covered_until") + ", reason FROM material_status "
                                     "ORDER BY site, agent, material" + limit);
  for (int i = 0; i < materials.rows(); ++i) {
    wire::json_writer w;
    w.begin_object().field("site", materials.text(i, 0)).field("agent", materials.text(i, 1))
        .field("material", materials.text(i, 2)).field("status", materials.text(i, 3))
        .field("quantity", materials.number(i, 4)).field("unit", materials.text(i, 5))
        .field("rate", materials.number(i, 6));
    w.key("projected_stockout");
    if (materials.is_null(i, 7) || materials.integer(i, 7) == 0) w.null();
    else w.value(wire::format_rfc3339_ms(materials.integer(i, 7)));
    w.field("time", rfc3339_or_empty(materials, i, 8));
    // The supply side, so a changed order redraws the board's "why" and "on order".
    w.field("incoming", materials.number(i, 9));
    w.key("next_receipt");
    if (materials.is_null(i, 10)) w.null(); else w.value(wire::format_rfc3339_ms(materials.integer(i, 10)));
    w.key("late_receipts").begin_object().field("count", materials.integer(i, 11))
        .field("quantity", materials.number(i, 12)).end_object();
    w.key("covered_until");
    if (materials.is_null(i, 13)) w.null(); else w.value(wire::format_rfc3339_ms(materials.integer(i, 13)));
    w.key("reason");
    if (materials.text(i, 14).empty()) w.null(); else w.value(materials.text(i, 14));
    w.end_object();
    std::string change;
    for (int c : {3, 4, 6, 7, 9, 10, 11, 13, 14}) change.append(materials.text(i, c)).push_back(separator);
    out[snapshot_key("material", materials.text(i, 0), materials.text(i, 1), materials.text(i, 2))] = {change,
                                                                                                      w.take()};
  }
  return out;
}

}  // namespace plant::central::api
