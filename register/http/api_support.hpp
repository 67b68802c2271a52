#pragma once
/// What the register's API handlers share: their lazily opened PostgreSQL
/// connection (a failed connect is remembered for a moment, since handlers run
/// on the io_context thread) and the JSON answer and column helpers.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/clock.hpp"
#include "common/http/http_server.hpp"
#include "common/wire/json_writer.hpp"
#include "register/db/pg_connection.hpp"

namespace plant::central::api {

class api_connection {
 public:
  explicit api_connection(db::connection_options options) : options_(std::move(options)) {}
  /// The open connection, connecting first when needed; throws db::pg_error.
  db::connection& get();
  /// Forgets a connection that failed, so the next get() reconnects.
  void lost() { conn_.reset(); }
  /// True when the last get() handed out a connection opened earlier: one that may
  /// have died unnoticed (a PostgreSQL restart) and is worth one retry on a new one.
  bool reused() const { return reused_; }

 private:
  db::connection_options options_;
  std::unique_ptr<db::connection> conn_;
  std::chrono::steady_clock::time_point retry_after_{};
  std::string last_connect_error_;
  bool reused_ = false;
};

http::answer json_answer(std::string body, unsigned status = 200);
/// {"error": message} with `status`.
http::answer json_error(unsigned status, const std::string& message);

/// "(extract(epoch from <column>) * 1000)::bigint": a time column read as Unix ms.
std::string as_ms(const std::string& column);
/// A Unix-ms column written as RFC 3339 (NULL as null).
void time_field(wire::json_writer& w, std::string_view name, const db::result& r, int row, int col);
/// A PostgreSQL text[] in its text form ("{a,\"b c\"}") as strings.
std::vector<std::string> parse_text_array(std::string_view text);

/// The query parameters of the history endpoints.
struct range_params {
  std::optional<std::string> site, key;  ///< key: material or line
  std::optional<epoch_ms> from, to;
  std::size_t limit = 0;
  std::string error;  ///< "" or the 400 message naming the parameter
};
/// Reads site, `key_name`, from, to (RFC 3339) and limit (1..max_rows, default `default_limit`).
range_params read_range(const std::map<std::string, std::string>& params, const std::string& key_name,
                        std::size_t default_limit, std::size_t max_rows);

}  // namespace plant::central::api
