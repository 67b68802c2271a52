#pragma once
/// The register's HTTP JSON API (paths and fields as the README lists them):
/// /api/agents, /api/stock, /api/current, /api/audit, /api/materials,
/// /api/alerts, /api/line_states, and through shortage_api /api/shortages
/// with its ack and snooze, and /api/whoami. Queries run on their own
/// PostgreSQL connection, bounded by statement_timeout and by max_rows; a bad
/// parameter gets 400 naming it, PostgreSQL away gets 503.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/core/log.hpp"
#include "common/http/http_server.hpp"
#include "register/config/register_config.hpp"
#include "register/db/pg_connection.hpp"
#include "register/http/api_support.hpp"

namespace plant::central::api {

class operator_tokens;
class shortage_api;

struct api_options {
  db::connection_options connection;
  std::size_t max_rows = 100000;
  std::size_t default_limit = 10000;
  std::vector<transfer_route> transfers;
};

class register_api {
 public:
  explicit register_api(api_options options);
  ~register_api();

  /// True for the paths this API serves (everything under /api/ but /api/events).
  static bool serves(const std::string& path);
  /// Answers one request for a path serves() accepted; never throws.
  http::answer answer(const http::request& request, const std::string& path);
  /// Queries that failed for the database's sake (503s).
  std::uint64_t database_errors() const { return database_errors_; }
  /// Who may write; replaced on SIGHUP.
  void set_tokens(std::shared_ptr<const operator_tokens> tokens);
  /// [[transfer]] entries; replaced on SIGHUP.
  void set_transfers(std::vector<transfer_route> transfers);
  /// Whether (site, material) is known to the register (the board's 404).
  bool knows_material(const std::string& site, const std::string& material);

 private:
  http::answer answer_once(const http::request& request, const std::string& path);
  http::answer route(const http::request& request, const std::string& path,
                     const std::map<std::string, std::string>& params);
  http::answer agents();
  http::answer stock(const std::map<std::string, std::string>& params);
  http::answer current();
  http::answer audit();
  http::answer materials(const std::map<std::string, std::string>& params);
  http::answer alerts(const std::map<std::string, std::string>& params);
  http::answer line_states(const std::map<std::string, std::string>& params);

  api_options options_;
  api_connection connection_;
  std::unique_ptr<shortage_api> shortages_;
  std::uint64_t database_errors_ = 0;
  log::logger log_{"api"};
};

}  // namespace plant::central::api
