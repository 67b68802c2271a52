#pragma once
/// A thin RAII layer over libpq: one connection, statements with text
/// parameters, COPY FROM STDIN, and errors that say which server and what
/// PostgreSQL answered (its SQLSTATE too, so callers can tell a lost connection
/// or a deadlock from bad data). The password is handed to libpq and never
/// kept in a message.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace plant::central::db {

/// A failed statement or connection.
class pg_error : public std::runtime_error {
 public:
  pg_error(const std::string& message, std::string sqlstate, bool connection_lost)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  /// Five characters, e.g. "40P01" (deadlock); "" when the server sent none.
  const std::string& sqlstate() const { return sqlstate_; }
  /// The connection is gone (or never came): reconnect and try again.
  bool connection_lost() const { return connection_lost_; }
  /// A deadlock or serialization failure: the same transaction may simply be retried.
  bool retryable() const { return sqlstate_ == "40P01" || sqlstate_ == "40001"; }
  /// PostgreSQL refused the data itself (classes 22 data exception, 23 integrity
  /// violation): the same rows would fail again. Anything else (a full disk, a
  /// timeout, a missing table) is the database's state, and waiting may help.
  bool data_error() const { return sqlstate_.rfind("22", 0) == 0 || sqlstate_.rfind("23", 0) == 0; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

/// The rows of one statement.
class result {
 public:
  explicit result(::pg_result* r) : r_(r) {}
  result(result&& other) noexcept : r_(other.r_) { other.r_ = nullptr; }
  result& operator=(result&& other) noexcept;
  ~result();
  result(const result&) = delete;
  result& operator=(const result&) = delete;

  int rows() const;
  bool is_null(int row, int column) const;
  /// The text of a value ("" for NULL).
  std::string_view text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  double number(int row, int column) const;
  /// Rows changed by an INSERT, UPDATE or DELETE.
  std::uint64_t affected() const;

 private:
  ::pg_result* r_;
};

/// Text parameters of a statement; std::nullopt is SQL NULL.
using params = std::vector<std::optional<std::string>>;

/// Where and how to connect.
struct connection_options {
  std::string url;                     ///< libpq URI
  std::string password;                ///< "" = libpq's own sources
  std::chrono::seconds connect_timeout{10};
  std::string application_name = "plant-register";
  std::chrono::milliseconds statement_timeout{30000};
};

class connection {
 public:
  /// Connects; throws pg_error naming the server on failure.
  explicit connection(const connection_options& options);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Runs one or more statements without parameters; throws pg_error.
  result exec(const std::string& sql);
  /// Runs one statement with $1..$n text parameters; throws pg_error.
  result exec(const std::string& sql, const params& values);
  /// COPY ... FROM STDIN with `data` in COPY's text format; throws pg_error.
  void copy_in(const std::string& copy_statement, std::string_view data);
  /// The connection still works as far as libpq knows.
  bool ok() const;
  /// The socket, for waiting on LISTEN notifications in an event loop (-1 when closed).
  int socket() const;
  /// After the socket turned readable: reads what arrived and hands over every
  /// notification as (channel, payload). False when the connection broke.
  bool take_notifications(std::vector<std::pair<std::string, std::string>>& out);
  /// "127.0.0.1:5432/plant", for messages (no password).
  const std::string& target() const { return target_; }

 private:
  [[noreturn]] void fail(const std::string& what, ::pg_result* r);
  ::pg_conn* conn_ = nullptr;
  std::string target_;
};

/// Appends `text` to `out` escaped for COPY's text format (backslash, tab, newline, CR).
void append_copy_text(std::string& out, std::string_view text);
/// `items` as a PostgreSQL array literal ("{\"a\",\"b\"}").
std::string array_literal(const std::vector<std::string>& items);

/// Reads a libpq URI and says where it points ("host:port/dbname"); for messages.
std::string describe_url(const std::string& url);

}  // namespace plant::central::db
