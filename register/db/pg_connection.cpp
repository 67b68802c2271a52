#include "register/db/pg_connection.hpp"

#include <libpq-fe.h>

#include <cstdlib>

namespace plant::central::db {

namespace {

std::string trimmed(const char* text) {
  std::string s = text == nullptr ? "" : text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq's multi-line messages ("connection to server ... failed: ...\n\tIs the server running") read
  // better on one log line.
  for (auto& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  return s;
}

}  // namespace

result& result::operator=(result&& other) noexcept {
  if (this != &other) {
    if (r_ != nullptr) PQclear(r_);
    r_ = other.r_;
    other.r_ = nullptr;
  }
  return *this;
}

result::~result() {
  if (r_ != nullptr) PQclear(r_);
}

int result::rows() const { return r_ == nullptr ? 0 : PQntuples(r_); }
bool result::is_null(int row, int column) const { return PQgetisnull(r_, row, column) != 0; }
std::string_view result::text(int row, int column) const {
  return std::string_view(PQgetvalue(r_, row, column), static_cast<std::size_t>(PQgetlength(r_, row, column)));
}
std::int64_t result::integer(int row, int column) const {
  return is_null(row, column) ? 0 : std::strtoll(PQgetvalue(r_, row, column), nullptr, 10);
}
double result::number(int row, int column) const {
  return is_null(row, column) ? 0.0 : std::strtod(PQgetvalue(r_, row, column), nullptr);
}
std::uint64_t result::affected() const {
  const char* n = PQcmdTuples(r_);
  return n == nullptr || *n == '\0' ? 0 : std::strtoull(n, nullptr, 10);
}

std::string describe_url(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return "the database";
  }
  std::string host, port, dbname;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string key = o->keyword;
    if (key == "host") host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
  }
  PQconninfoFree(options);
  std::string out = host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  if (!dbname.empty()) out += "/" + dbname;
  return out;
}

connection::connection(const connection_options& options) : target_(describe_url(options.url)) {
  const std::string timeout = std::to_string(options.connect_timeout.count());
  // Every statement of this session is bounded; a stuck query must not stall ingest forever.
  const std::string startup_options = "-c statement_timeout=" + std::to_string(options.statement_timeout.count());
  std::vector<const char*> keys{"dbname", "connect_timeout", "application_name", "options"};
  std::vector<const char*> values{options.url.c_str(), timeout.c_str(), options.application_name.c_str(),
                                  startup_options.c_str()};
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 1: the URI in "dbname" is expanded; the keywords after it override its parts.
  conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr) throw pg_error("cannot connect to " + target_ + ": out of memory", "", true);
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = "cannot connect to " + target_ + ": " + trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw pg_error(message, "", true);
  }
}

connection::~connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool connection::ok() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

int connection::socket() const { return conn_ == nullptr ? -1 : PQsocket(conn_); }

bool connection::take_notifications(std::vector<std::pair<std::string, std::string>>& out) {
  if (conn_ == nullptr || PQconsumeInput(conn_) == 0) return false;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->relname, n->extra);
    PQfreemem(n);
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

void connection::fail(const std::string& what, PGresult* r) {
  std::string sqlstate;
  std::string message;
  if (r != nullptr) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state != nullptr) sqlstate = state;
    message = trimmed(PQresultErrorMessage(r));
    PQclear(r);
  }
  if (message.empty()) message = trimmed(PQerrorMessage(conn_));
  const bool lost = PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01";
  throw pg_error(target_ + ": " + what + ": " + message, sqlstate, lost);
}

result connection::exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail("statement failed", r);
  return result(r);
}

result connection::exec(const std::string& sql, const params& values) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& v : values) pointers.push_back(v ? v->c_str() : nullptr);
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(pointers.size()), nullptr, pointers.data(),
                             nullptr, nullptr, 0);
  const ExecStatusType status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail("statement failed", r);
  return result(r);
}

void connection::copy_in(const std::string& copy_statement, std::string_view data) {
  PGresult* r = PQexec(conn_, copy_statement.c_str());
  if (r == nullptr || PQresultStatus(r) != PGRES_COPY_IN) fail("COPY did not start", r);
  PQclear(r);
  // Chunks keep libpq's send buffer small for large batches.
  constexpr std::size_t chunk = 1u << 20;
  for (std::size_t off = 0; off < data.size(); off += chunk) {
    const std::size_t n = std::min(chunk, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) fail("COPY data", nullptr);
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) fail("COPY end", nullptr);
  PGresult* end = PQgetResult(conn_);
  const ExecStatusType status = end == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(end);
  if (status != PGRES_COMMAND_OK) {
    // Drain what follows so the connection is usable for the ROLLBACK.
    fail("COPY failed", end);
  }
  PQclear(end);
  while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
}

void append_copy_text(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': break;  // PostgreSQL text cannot hold NUL; decode refuses such messages before this
      default: out += c;
    }
  }
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      if (c != '\0') out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace plant::central::db
