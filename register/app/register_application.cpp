#include "register/app/register_application.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "common/core/clock.hpp"
#include "common/core/file_access.hpp"
#include "common/http/prometheus_text.hpp"
#include "common/http/query_string.hpp"
#include "register/board/board_files.hpp"
#include "register/config/register_schema.hpp"
#include "register/db/database_writer.hpp"
#include "register/http/event_hub.hpp"
#include "register/http/operator_tokens.hpp"
#include "register/http/register_api.hpp"
#include "register/ingest/broker_intake.hpp"
#include "register/ingest/journal.hpp"

namespace plant::central {

namespace {

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

std::string read_password(const std::string& path, const std::string& key) {
  std::string secret;
  if (path.empty()) return secret;
  const std::string problem = read_secret_file(path, secret);
  if (!problem.empty()) throw startup_error(key + ": '" + path + "': " + problem);
  return secret;
}

db::connection_options database_options(const register_config& c, const std::string& client_id) {
  db::connection_options o;
  o.url = c.database.url;
  o.password = read_password(c.database.password_file, "database.password_file");
  o.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(c.database.connect_timeout);
  o.statement_timeout = c.database.statement_timeout;
  o.application_name = client_id;
  return o;
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

http::answer not_found_page(const std::string& what) {
  http::answer a;
  a.status = 404;
  a.content_type = "text/html; charset=utf-8";
  a.body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
           "content=\"width=device-width, initial-scale=1\"><title>Not found - plant-register</title>"
           "<link rel=\"stylesheet\" href=\"/board.css\"></head><body><main class=\"not-found\"><h1>Not found</h1>"
           "<p id=\"not-found-reason\">" + html_escape(what) + "</p><p><a href=\"/\">Shortage board</a> &middot; "
           "<a href=\"/plants\">Plants</a></p></main></body></html>\n";
  return a;
}

http::answer static_file(std::string_view name) {
  const auto& files = board::files();
  auto it = files.find(name);
  http::answer a;
  a.body = std::string(it->second);
  if (name.size() > 3 && name.substr(name.size() - 3) == ".js") a.content_type = "text/javascript; charset=utf-8";
  else if (name.size() > 4 && name.substr(name.size() - 4) == ".css") a.content_type = "text/css; charset=utf-8";
  else a.content_type = "text/html; charset=utf-8";
  a.cache_control = "no-cache";
  return a;
}

}  // namespace

register_application::register_application(register_config config, std::vector<std::string> overrides)
    : config_(std::move(config)), overrides_(std::move(overrides)), signals_(io_, SIGINT, SIGTERM, SIGHUP) {
  log::set_level(config_.reg.level);
  client_id_ = config_.mqtt.client_id.empty() ? "plant-register-" + host_name() : config_.mqtt.client_id;

  ingest::journal_options journal_options;
  journal_options.dir = std::filesystem::path(config_.reg.state_dir) / "journal";
  journal_options.max_bytes = config_.reg.journal_max_bytes;
  journal_options.sync = config_.reg.journal_sync;
  journal_ = std::make_unique<ingest::journal>(journal_options);
  ingest::journal_recovery recovered;
  try {
    recovered = journal_->recover(wall_clock_ms());
  } catch (const std::exception& e) {
    throw startup_error(e.what());
  }
  for (const auto& finding : recovered.findings) log_.warn("journal: " + finding);
  for (const auto& lost : recovered.corrupted)
    log_.error("journal: deliveries " + std::to_string(lost.first) + ".." + std::to_string(lost.last) +
               " were damaged on disk and are lost (their agents' audit will show the gaps)");
  log_.info("journal " + journal_options.dir.string() + ": " + std::to_string(recovered.entries) +
            " deliveries waiting for the database");

  const db::connection_options connection = database_options(config_, client_id_);
  db::writer_options writer_options;
  writer_options.connection = connection;
  writer_options.max_batch = config_.database.max_batch;
  writer_options.max_delay = config_.database.max_delay;
  writer_options.retry_max_delay = config_.database.retry_max_delay;
  writer_options.journal_id = recovered.journal_id;
  writer_options.instance = client_id_;
  writer_ = std::make_unique<db::database_writer>(writer_options, *journal_);

  api::api_options api_options;
  api_options.connection = connection;
  api_options.connection.application_name = client_id_ + " api";
  // A request should not wait a full connect_timeout for a database that is away.
  api_options.connection.connect_timeout = std::min(api_options.connection.connect_timeout, std::chrono::seconds(2));
  api_options.max_rows = config_.http.max_rows;
  api_options.transfers = config_.transfers;
  api_ = std::make_unique<api::register_api>(api_options);
  if (const std::string problem = load_tokens(config_.http.tokens_file); !problem.empty()) throw startup_error(problem);

  api::event_hub_options event_options;
  event_options.connection = api_options.connection;
  event_options.connection.application_name = client_id_ + " events";
  event_options.max_rows = config_.http.max_rows;
  // Streams stay open: leave room for the API's own requests.
  event_options.max_streams = std::max<std::size_t>(1, config_.http.max_connections / 2);
  events_ = std::make_unique<api::event_hub>(io_, event_options);

  if (!config_.http.listen.empty()) {
    http::server_options http_options;
    http_options.setting = "http.listen";
    http_options.listen = config_.http.listen;
    http_options.max_connections = config_.http.max_connections;
    http_options.deadline = std::chrono::seconds(30);  // API queries may take a while
    http_options.describe_paths = "(board /, /api/..., /api/events, /healthz, /metrics)";
    http_options.max_request_bytes = 16384;
    http_ = std::make_unique<http::server>(io_, http_options, [this](const http::request& r) { return handle(r); });
    const http::listen_result listening = http_->start();
    if (!listening.ok()) throw startup_error(listening.message);
  }

  ingest::intake_options intake_options;
  auto& s = intake_options.subscriber;
  s.url = config_.mqtt.url;
  s.client_id = client_id_;
  s.username = config_.mqtt.username;
  s.password = read_password(config_.mqtt.password_file, "mqtt.password_file");
  s.ca_file = config_.mqtt.ca_file;
  s.cert_file = config_.mqtt.cert_file;
  s.key_file = config_.mqtt.key_file;
  s.verify_server = config_.mqtt.tls_verify;
  s.keep_alive = std::chrono::duration_cast<std::chrono::seconds>(config_.mqtt.keepalive);
  s.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(config_.mqtt.connect_timeout);
  intake_options.topic_prefix = config_.mqtt.topic_prefix;
  intake_options.share_group = config_.mqtt.share_group;
  intake_options.reconnect_min = config_.mqtt.reconnect_min_delay;
  intake_options.reconnect_max = config_.mqtt.reconnect_max_delay;
  intake_ = std::make_unique<ingest::broker_intake>(io_, intake_options, *journal_);
}

register_application::~register_application() = default;

int register_application::run() {
  // The writer first: what the journal recovered goes to the database while the broker connects.
  writer_->start();
  intake_->start();
  wait_for_signal();
  log_.info("running: " + client_id_ + " subscribed via " + config_.mqtt.url +
            (config_.mqtt.share_group.empty() ? "" : " in share group '" + config_.mqtt.share_group + "'") +
            ", writing to " + db::describe_url(config_.database.url));
  io_.run();
  return exit_code_;
}

void register_application::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    on_signal(signal_number);
    if (!stopping_) wait_for_signal();
  });
}

void register_application::on_signal(int signal_number) {
  if (signal_number == SIGHUP) {
    reload();
    return;
  }
  shutdown();
}

void register_application::reload() {
  const auto loaded = load_register_config_file(config_.source_path, overrides_);
  for (const auto& w : loaded.warnings) log_.warn(w.to_string());
  if (!loaded.config) {
    for (const auto& e : loaded.errors) log_.error(e.to_string());
    log_.error("reload: " + config_.source_path + " has errors; the running configuration stays");
    return;
  }
  const register_config& next = *loaded.config;
  if (next.reg.level != config_.reg.level) {
    log::set_level(next.reg.level);
    config_.reg.level = next.reg.level;
    log_.info("reload: register.log_level applied");
  }
  config_.reg.shutdown_timeout = next.reg.shutdown_timeout;
  if (next.transfers.size() != config_.transfers.size() ||
      !std::equal(next.transfers.begin(), next.transfers.end(), config_.transfers.begin(),
                  [](const transfer_route& a, const transfer_route& b) {
                    return a.from == b.from && a.to == b.to && a.time == b.time;
                  })) {
    config_.transfers = next.transfers;
    api_->set_transfers(next.transfers);
    log_.info("reload: " + std::to_string(next.transfers.size()) + " [[transfer]] entries applied");
  }
  // Re-read even when the path is the same: adding an operator is a change of the file, not the config.
  if (const std::string problem = load_tokens(next.http.tokens_file); !problem.empty()) {
    log_.error("reload: " + problem + "; the operators from before stay");
  } else {
    config_.http.tokens_file = next.http.tokens_file;
  }
  if (next.hash != config_.hash) {
    log_.warn("reload: other changed keys wait for a restart (register.log_level, register.shutdown_timeout, "
              "http.tokens_file and [[transfer]] apply live)");
  } else {
    log_.info("reload: nothing changed");
  }
}

void register_application::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  log_.info("stopping: disconnecting from the broker, then writing the journal to the database (at most " +
            std::to_string(config_.reg.shutdown_timeout.count()) + " ms)");
  const bool released = intake_->stop(std::chrono::milliseconds(2000));
  writer_->stop(config_.reg.shutdown_timeout);
  const std::uint64_t left = journal_->backlog_messages();
  if (left > 0) {
    log_.warn(std::to_string(left) + " deliveries stay in the journal for the next start");
  } else {
    log_.info("the journal is empty: everything is in the database");
  }
  if (!released) {
    // Paho's thread is waiting for a journal that cannot write; letting it return would
    // acknowledge a delivery that is nowhere. Ending here leaves it with the broker.
    log_.error("stopped with a delivery the journal could not take; the broker keeps it");
    std::_Exit(1);
  }
  events_->stop();
  if (http_) http_->stop();
  signals_.cancel();
  io_.stop();
}

std::string register_application::load_tokens(const std::string& path) {
  if (path.empty()) {
    api_->set_tokens(std::make_shared<api::operator_tokens>());
    return "";
  }
  std::string text;
  if (const std::string problem = read_secret_file(path, text); !problem.empty())
    return "http.tokens_file: '" + path + "': " + problem;
  const api::tokens_parse_result parsed = api::parse_operator_tokens(text, path);
  if (!parsed.errors.empty()) {
    std::string all;
    for (const auto& e : parsed.errors) all += (all.empty() ? "" : "; ") + e;
    return "http.tokens_file: " + all;
  }
  if (parsed.operators.empty()) return "http.tokens_file: '" + path + "' names no operator";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0)
    log_.warn("http.tokens_file: '" + path + "' is readable by every user of this host; chmod o-r it");
  api_->set_tokens(std::make_shared<api::operator_tokens>(parsed.operators));
  log_.info("http.tokens_file: " + std::to_string(parsed.operators.size()) + " operators may acknowledge and snooze");
  return "";
}

http::answer register_application::handle(const http::request& request) {
  const std::string path = http::target_path(request.target);
  if (api::register_api::serves(path)) return api_->answer(request, path);
  if (request.method != "GET" && request.method != "HEAD") {
    http::answer a = http::text_answer(405, "only GET and HEAD");
    a.allow = "GET, HEAD";
    return a;
  }
  if (path == "/api/events") {
    if (request.method != "GET") {
      http::answer a = http::text_answer(405, "/api/events is an event stream: GET only");
      a.allow = "GET";
      return a;
    }
    return events_->open();
  }
  if (path == "/healthz") return health();
  if (path == "/metrics") {
    http::answer a;
    a.content_type = "text/plain; version=0.0.4; charset=utf-8";
    a.body = metrics();
    return a;
  }
  return board_page(path);
}

// The board is one page: every route gets index.html and board.js draws it. A
// material page for a (site, material) the register has never heard of is a 404.
http::answer register_application::board_page(const std::string& path) {
  if (path == "/" || path == "/plants" || path == "/index.html") return static_file("/index.html");
  if (path == "/board.js" || path == "/board.css") return static_file(path);
  const std::string prefix = "/material/";
  if (path.rfind(prefix, 0) == 0) {
    const std::string rest = path.substr(prefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size() ||
        rest.find('/', slash + 1) != std::string::npos)
      return not_found_page("A material page is /material/<site>/<material>.");
    const std::string site = rest.substr(0, slash);
    const std::string material = rest.substr(slash + 1);
    try {
      if (!api_->knows_material(site, material))
        return not_found_page("No material '" + material + "' at site '" + site + "' in the register.");
    } catch (const std::exception&) {
      // PostgreSQL away: the page itself says so when its API calls fail.
    }
    return static_file("/index.html");
  }
  return not_found_page("No page " + path.substr(0, 200) + " here.");
}

http::answer register_application::health() const {
  std::vector<std::string> problems;
  const auto& in = intake_->stats();
  if (!in.connected) problems.push_back("not connected to the broker " + config_.mqtt.url + ": " + intake_->last_error());
  if (in.blocked) problems.push_back("the journal cannot take deliveries: " + journal_->last_error());
  else if (!journal_->healthy()) problems.push_back("journal: " + journal_->last_error());
  if (!writer_->stats().connected) problems.push_back("database: " + writer_->last_error());
  if (problems.empty()) return http::text_answer(200, "ok");
  std::string text;
  for (const auto& p : problems) text += (text.empty() ? "" : "\n") + p;
  return http::text_answer(503, text);
}

std::string register_application::metrics() const {
  prometheus::text m;
  const auto& in = intake_->stats();
  const auto& w = writer_->stats();
  m.single("plant_register_broker_connected", "gauge", "1 while subscribed to the broker.",
           static_cast<std::uint64_t>(in.connected.load()));
  m.single("plant_register_messages_received_total", "counter", "Deliveries the broker handed over.", in.received.load());
  m.single("plant_register_messages_journaled_total", "counter", "Deliveries made durable in the journal (then acknowledged).",
           in.journaled.load());
  m.single("plant_register_journal_failures_total", "counter", "Journal writes that failed (the delivery was retried, not acknowledged).",
           in.journal_failures.load());
  m.single("plant_register_journal_backlog_messages", "gauge", "Deliveries in the journal not yet committed to PostgreSQL.",
           journal_->backlog_messages());
  m.single("plant_register_journal_bytes", "gauge", "Bytes of the journal's files.", journal_->disk_bytes());
  m.single("plant_register_journal_dropped_total", "counter",
           "Uncommitted deliveries dropped because the journal reached register.journal_max_bytes.", journal_->dropped());
  m.single("plant_register_journal_damaged_total", "counter",
           "Journaled deliveries lost because the disk damaged them (logged by range).", journal_->damaged());
  m.single("plant_register_journal_too_large_total", "counter",
           "Deliveries too large for a journal record (logged; not stored).", journal_->too_large());
  m.single("plant_register_database_connected", "gauge", "1 while the writer is connected to PostgreSQL.",
           static_cast<std::uint64_t>(w.connected.load()));
  m.single("plant_register_database_errors_total", "counter", "Failed connections and statements of the writer.",
           w.database_errors.load());
  m.single("plant_register_schema_version", "gauge", "The database schema version.",
           static_cast<std::uint64_t>(w.schema_version.load()));
  m.single("plant_register_batches_total", "counter", "Transactions committed.", w.batches.load());
  m.single("plant_register_messages_committed_total", "counter", "Journal entries committed (stored, duplicate or rejected).",
           w.messages.load());
  m.single("plant_register_messages_stored_total", "counter", "Sequenced messages stored for the first time.", w.stored.load());
  m.single("plant_register_duplicates_total", "counter", "Sequenced messages already stored (not written again).",
           w.duplicates.load());
  m.single("plant_register_samples_stored_total", "counter", "Stock and line rows written.", w.samples.load());
  m.single("plant_register_rejected_total", "counter", "Deliveries that are not storable plant.v1 messages (logged).",
           w.rejected.load());
  m.histogram("plant_register_batch_seconds", "Time to write and commit one batch.", writer_->batch_latency());
  m.single("plant_register_api_database_errors_total", "counter", "API queries that failed for the database's sake (503).",
           api_->database_errors());
  const auto& e = events_->stats();
  m.single("plant_register_event_streams", "gauge", "Open /api/events streams.",
           static_cast<std::uint64_t>(events_->open_streams()));
  m.single("plant_register_event_streams_refused_total", "counter", "/api/events requests refused: too many streams.",
           e.streams_refused);
  m.single("plant_register_events_sent_total", "counter", "Events queued to /api/events streams.", e.events_sent);
  m.single("plant_register_events_listening", "gauge", "1 while the LISTEN connection to PostgreSQL is open.",
           static_cast<std::uint64_t>(e.listening));
  if (http_) {
    const auto& h = http_->stats();
    m.single("plant_register_http_requests_total", "counter", "HTTP requests answered.", h.requests);
    m.single("plant_register_http_refused_connections_total", "counter", "Connections closed at once: too many open.",
             h.refused_connections);
    m.single("plant_register_event_streams_dropped_total", "counter",
             "Event streams closed because their client read too slowly.", h.streams_dropped);
  }
  m.single("plant_register_log_lines_suppressed_total", "counter", "Log lines held back by rate limiting.",
           log::suppressed_total());
  return m.take();
}

}  // namespace plant::central
