#pragma once
/// plant-register's composition root: the journal, the database writer, the
/// broker intake and the HTTP server (API, /healthz, /metrics), started and
/// stopped in the order that loses nothing. The io_context thread owns the
/// HTTP server, the signals and the reconnect timer; Paho's thread fills the
/// journal; the writer thread empties it into PostgreSQL.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/core/log.hpp"
#include "common/http/http_server.hpp"
#include "register/config/register_config.hpp"

namespace plant::central {

namespace ingest {
class journal;
class broker_intake;
}  // namespace ingest
namespace db {
class database_writer;
}
namespace api {
class register_api;
class event_hub;
class operator_tokens;
}

/// A reason not to start, for main() to print.
class startup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class register_application {
 public:
  register_application(register_config config, std::vector<std::string> overrides);
  ~register_application();
  register_application(const register_application&) = delete;
  register_application& operator=(const register_application&) = delete;

  /// Runs until SIGTERM or SIGINT; returns the exit code.
  int run();

  /// The /healthz answer: 200 when the broker, the database and the journal work.
  http::answer health() const;
  /// The /metrics text.
  std::string metrics() const;

 private:
  http::answer handle(const http::request& request);
  http::answer board_page(const std::string& path);
  /// Reads http.tokens_file; "" or the reason it cannot be used (file:line).
  std::string load_tokens(const std::string& path);
  void wait_for_signal();
  void on_signal(int signal_number);
  void reload();
  void shutdown();

  register_config config_;
  std::vector<std::string> overrides_;
  std::string client_id_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  log::logger log_{"register"};
  std::unique_ptr<ingest::journal> journal_;
  std::unique_ptr<db::database_writer> writer_;
  std::unique_ptr<api::register_api> api_;
  std::unique_ptr<api::event_hub> events_;
  std::unique_ptr<http::server> http_;
  std::unique_ptr<ingest::broker_intake> intake_;
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace plant::central
