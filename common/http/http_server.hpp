#pragma once
/// A small HTTP/1.1 server on a program's own io_context (Boost.Beast), for
/// the agent's health endpoint and the register's API: one request per
/// connection, and every resource bounded (connections open at once, a
/// deadline per connection, request size). What a request gets is decided by
/// a handler function; a handler may also turn the connection into an event
/// stream (Server-Sent Events) that stays open until either side ends it.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/core/log.hpp"

namespace plant::http {

struct server_options {
  std::string setting = "http.listen";       ///< the config key, for messages
  std::string listen;                        ///< "host:port" or "[v6]:port", as the config validated it
  std::size_t max_connections = 8;           ///< open at once; more are closed at once and counted
  std::chrono::milliseconds deadline{5000};  ///< a request must be read and answered within this
  std::size_t max_request_bytes = 8192;      ///< request line and headers, and separately the body
  std::string describe_paths = "";           ///< for the "listening on" line, e.g. "(/healthz, /metrics)"
};

/// What start() did; `message` names the address and the reason on failure.
struct listen_result {
  std::error_code error;  ///< empty when listening
  std::string message;    ///< "health.listen: cannot listen on 127.0.0.1:9464: Address already in use"
  bool ok() const { return !error; }
};

/// One request as the handler sees it.
struct request {
  std::string_view method;         ///< "GET", "POST", ...
  std::string_view target;         ///< path and query, as sent
  std::string_view body;
  std::string_view authorization;  ///< the Authorization header, "" when absent
  std::string_view content_type;
};

/// An open event stream: send() queues one Server-Sent Event; closed() turns
/// true once the client has gone. Safe to keep after the connection ended.
class event_stream {
 public:
  virtual ~event_stream() = default;
  /// Queues "event: <event>\ndata: <data>\n\n"; false (and nothing queued) once closed, or
  /// when more than the stream's bound is waiting for a slow client (counted, then closed).
  virtual bool send(std::string_view event, std::string_view data) = 0;
  virtual bool closed() const = 0;
};

/// One HTTP answer, before it is put on the wire.
struct answer {
  unsigned status = 200;                                   ///< HTTP status code
  std::string content_type = "text/plain; charset=utf-8";  ///< Content-Type header
  std::string body;                                        ///< the GET body (HEAD sends only its length)
  std::string allow;                                       ///< an Allow header (405), "" = none
  std::string cache_control = "no-store";
  /// Set: the answer is an event stream (text/event-stream, no Content-Length); this is
  /// called once with the stream when the headers are on the wire.
  std::function<void(std::shared_ptr<event_stream>)> open_stream;
};

/// Counters of the server itself.
struct server_stats {
  std::uint64_t requests = 0;              ///< requests answered (any status)
  std::uint64_t refused_connections = 0;   ///< closed at once: too many connections open
  std::uint64_t timed_out_connections = 0; ///< closed at the per-connection deadline
  std::uint64_t streams_dropped = 0;       ///< event streams closed because the client read too slowly
};

using handler = std::function<answer(const request&)>;

/// A plain-text answer: `status` with `text` and a newline.
answer text_answer(unsigned status, std::string text);

class server {
 public:
  /// `handle` runs on the io_context's thread for every well-formed request.
  server(boost::asio::io_context& io, server_options options, handler handle);
  /// Stops listening and closes open connections.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Resolves and binds options.listen and starts accepting.
  listen_result start();
  /// Closes the listener and every open connection and stream; safe to call twice.
  void stop();
  /// The bound address, "127.0.0.1:9464" or "[::1]:9464" (the kernel's port when 0 was asked for).
  std::string local_address() const;
  const server_stats& stats() const;

 private:
  struct state;
  class session;
  class stream;
  static void accept_next(const std::shared_ptr<state>& shared);

  boost::asio::io_context& io_;
  std::shared_ptr<state> state_;
};

}  // namespace plant::http
