#pragma once
/// The register's HTTP JSON API (paths and fields as the README lists them):
/// /api/agents, /api/stock, /api/current, /api/shortages, /api/audit. Queries
/// run on their own PostgreSQL connection, bounded by statement_timeout and
/// by max_rows; a bad parameter gets 400 naming it, PostgreSQL away gets 503.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/core/log.hpp"
#include "common/http/http_server.hpp"
#include "register/db/pg_connection.hpp"

namespace plant::central::api {

struct api_options {
  db::connection_options connection;
  std::size_t max_rows = 100000;
  std::size_t default_limit = 10000;
};

class register_api {
 public:
  explicit register_api(api_options options);
  ~register_api();

  /// True for the paths this API serves.
  static bool serves(const std::string& path);
  /// Answers one request for a path serves() accepted; never throws.
  http::answer answer(const http::request& request, const std::string& path);
  /// Queries that failed for the database's sake (503s).
  std::uint64_t database_errors() const { return database_errors_; }

 private:
  db::connection& connection();
  http::answer agents();
  http::answer stock(const std::map<std::string, std::string>& params);
  http::answer current();
  http::answer shortages();
  http::answer audit();

  api_options options_;
  std::unique_ptr<db::connection> conn_;
  std::uint64_t database_errors_ = 0;
  std::chrono::steady_clock::time_point retry_after_{};
  std::string last_connect_error_;
  log::logger log_{"api"};
};

}  // namespace plant::central::api
