#include "common/http/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <deque>

namespace plant::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

/// Bytes an event stream may have waiting for a slow client before it is closed.
constexpr std::size_t max_stream_backlog_bytes = 1u << 20;
/// A comment line this often keeps proxies from closing an idle stream and finds dead clients.
constexpr std::chrono::seconds stream_keepalive{15};

std::string describe(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

// The config validated the shape already; this only takes it apart.
void split_listen(const std::string& listen, std::string& host, std::string& port) {
  const auto colon = listen.rfind(':');
  host = listen.substr(0, colon == std::string::npos ? listen.size() : colon);
  port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
}

listen_result failure(const boost::system::error_code& ec, std::string message) {
  return listen_result{std::error_code(ec), std::move(message)};
}

std::string_view header(const bhttp::request<bhttp::string_body>& r, bhttp::field f) {
  auto found = r.find(f);
  if (found == r.end()) return {};
  return std::string_view(found->value().data(), found->value().size());
}

}  // namespace

answer text_answer(unsigned status, std::string text) {
  answer a;
  a.status = status;
  a.body = std::move(text) + "\n";
  return a;
}

struct server::state {
  state(asio::io_context& io, server_options opts, handler h)
      : acceptor(io), retry_timer(io), options(std::move(opts)), handle(std::move(h)) {}

  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  server_options options;
  handler handle;
  server_stats stats;
  std::size_t open = 0;
  bool stopped = false;
  // At most max_connections are alive; expired entries are pruned at each accept.
  std::vector<std::weak_ptr<session>> sessions;
  log::logger log{"http"};
};

// One connection, one request, and (for an event stream) everything written
// after it. It owns its socket and deadline; the handlers own it.
class server::session : public std::enable_shared_from_this<session> {
 public:
  session(std::shared_ptr<state> shared, tcp::socket socket)
      : shared_(std::move(shared)),
        socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        buffer_(2 * shared_->options.max_request_bytes) {
    ++shared_->open;
    parser_.header_limit(static_cast<std::uint32_t>(shared_->options.max_request_bytes));
    parser_.body_limit(shared_->options.max_request_bytes);
  }

  ~session() { --shared_->open; }

  void begin() {
    arm_deadline(shared_->options.deadline, true);
    auto self = shared_from_this();
    bhttp::async_read(socket_, buffer_, parser_,
                      [self](const boost::system::error_code& ec, std::size_t) { self->on_read(ec); });
  }

  void close() {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    deadline_.cancel();
  }

  bool finished() const { return finished_; }

  // --- the event stream's side -------------------------------------------------
  bool queue(std::string text) {
    if (finished_) return false;
    if (queued_bytes_ + text.size() > max_stream_backlog_bytes) {
      ++shared_->stats.streams_dropped;
      shared_->log.limited(log::level::warn, "stream-slow",
                           "closed an event stream whose client read too slowly (" +
                               std::to_string(shared_->stats.streams_dropped) + " since start)");
      close();
      return false;
    }
    queued_bytes_ += text.size();
    outgoing_.push_back(std::move(text));
    if (!writing_) write_next();
    return true;
  }

 private:
  void arm_deadline(std::chrono::milliseconds after, bool counts_as_timeout) {
    auto self = shared_from_this();
    deadline_.expires_after(after);
    deadline_.async_wait([self, counts_as_timeout](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      if (self->streaming_) {
        // An idle stream: a comment line both keeps it open and finds a dead client.
        self->queue(": keepalive\n\n");
        self->arm_deadline(stream_keepalive, false);
        return;
      }
      // A client that sends nothing, or reads nothing, does not keep its slot.
      if (counts_as_timeout) ++self->shared_->stats.timed_out_connections;
      self->close();
    });
  }

  void on_read(const boost::system::error_code& ec) {
    if (finished_ || shared_->stopped) return;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted) {
      close();
      return;
    }
    if (ec) {
      const std::string limit = std::to_string(shared_->options.max_request_bytes);
      if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        respond(text_answer(431, "request headers larger than " + limit + " bytes"), false, 11);
      } else if (ec == bhttp::error::body_limit) {
        respond(text_answer(413, "request body larger than " + limit + " bytes"), false, 11);
      } else {
        respond(text_answer(400, "bad request: " + ec.message()), false, 11);
      }
      return;
    }
    const auto& r = parser_.get();
    request seen;
    seen.method = std::string_view(r.method_string().data(), r.method_string().size());
    seen.target = std::string_view(r.target().data(), r.target().size());
    seen.body = r.body();
    seen.authorization = header(r, bhttp::field::authorization);
    seen.content_type = header(r, bhttp::field::content_type);
    answer a = shared_->handle(seen);
    if (a.open_stream && a.status == 200 && r.method() == bhttp::verb::get) {
      start_stream(std::move(a));
      return;
    }
    respond(a, r.method() == bhttp::verb::head, r.version());
  }

  void respond(const answer& a, bool head, unsigned version) {
    ++shared_->stats.requests;
    response_.version(version);
    response_.result(a.status);
    response_.set(bhttp::field::content_type, a.content_type);
    if (!a.allow.empty()) response_.set(bhttp::field::allow, a.allow);
    if (!a.cache_control.empty()) response_.set(bhttp::field::cache_control, a.cache_control);
    response_.keep_alive(false);
    // HEAD: the length GET would send, and no body.
    response_.content_length(a.body.size());
    if (!head) response_.body() = a.body;
    auto self = shared_from_this();
    bhttp::async_write(socket_, response_, [self](const boost::system::error_code&, std::size_t) {
      // Success or not, the connection is done: one request per connection.
      self->close();
    });
  }

  void start_stream(answer a);
  void write_next() {
    if (outgoing_.empty() || finished_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(outgoing_.front()),
                      [self](const boost::system::error_code& ec, std::size_t) {
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->queued_bytes_ -= self->outgoing_.front().size();
                        self->outgoing_.pop_front();
                        self->write_next();
                      });
    // A stream's client is gone when its socket reads EOF; a read keeps watch for it.
    if (!watching_) watch_for_close();
  }
  void watch_for_close() {
    watching_ = true;
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(discard_), [self](const boost::system::error_code& ec, std::size_t) {
      if (ec) {
        self->close();
        return;
      }
      self->watch_for_close();  // whatever a client sends on a stream is ignored
    });
  }

  std::shared_ptr<state> shared_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  bhttp::request_parser<bhttp::string_body> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::deque<std::string> outgoing_;
  std::size_t queued_bytes_ = 0;
  char discard_[256];
  bool writing_ = false;
  bool watching_ = false;
  bool streaming_ = false;
  bool finished_ = false;
};

// What a handler holds: a weak link to its session, so a stream outlives nothing.
class server::stream final : public event_stream {
 public:
  explicit stream(std::weak_ptr<session> s) : session_(std::move(s)) {}
  bool send(std::string_view event, std::string_view data) override {
    auto s = session_.lock();
    if (!s) return false;
    std::string text = "event: " + std::string(event) + "\n";
    // Each line of the data is its own "data:" field, as the format requires.
    std::size_t start = 0;
    for (;;) {
      const auto end = data.find('\n', start);
      text += "data: ";
      text += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
      text += "\n";
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    text += "\n";
    return s->queue(std::move(text));
  }
  bool closed() const override {
    auto s = session_.lock();
    return !s || s->finished();
  }

 private:
  std::weak_ptr<session> session_;
};

void server::session::start_stream(answer a) {
  ++shared_->stats.requests;
  streaming_ = true;
  deadline_.cancel();
  arm_deadline(stream_keepalive, false);
  queue("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
  a.open_stream(std::make_shared<stream>(weak_from_this()));
}

server::server(asio::io_context& io, server_options options, handler handle)
    : io_(io), state_(std::make_shared<state>(io, std::move(options), std::move(handle))) {}

server::~server() { stop(); }

listen_result server::start() {
  const std::string& listen = state_->options.listen;
  const std::string& setting = state_->options.setting;
  std::string host;
  std::string port;
  split_listen(listen, host, port);
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  // Start-up only, before the loop runs: a blocking lookup is fine here.
  auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return failure(ec ? ec : asio::error::host_not_found,
                   setting + ": cannot resolve '" + host + "': " + (ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  auto& acceptor = state_->acceptor;
  const std::string where = setting + ": cannot listen on " + describe(endpoint) +
                            (host != endpoint.address().to_string() ? " ('" + listen + "')" : "") + ": ";
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return failure(ec, where + ec.message());
  // A restarted program must not wait for the old connections' TIME_WAIT.
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    const auto bind_error = ec;
    acceptor.close(ec);
    return failure(bind_error, where + bind_error.message());
  }
  state_->stopped = false;
  if (!endpoint.address().is_loopback()) {
    state_->log.warn("listening on " + local_address() +
                     ", which is not a loopback address: anyone who can reach it can read what it serves");
  }
  state_->log.info("listening on http://" + local_address() +
                   (state_->options.describe_paths.empty() ? "" : " " + state_->options.describe_paths));
  accept_next(state_);
  return {};
}

void server::accept_next(const std::shared_ptr<state>& shared) {
  shared->acceptor.async_accept([shared](const boost::system::error_code& ec, tcp::socket socket) {
    if (shared->stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors and the like: say so once a minute and try again
      // shortly, rather than spinning on an error that does not go away.
      shared->log.limited(log::level::warn, "accept", "accept failed: " + ec.message());
      shared->retry_timer.expires_after(std::chrono::milliseconds(100));
      shared->retry_timer.async_wait([shared](const boost::system::error_code& wait_ec) {
        if (!wait_ec && !shared->stopped) accept_next(shared);
      });
      return;
    }
    if (shared->open >= shared->options.max_connections) {
      ++shared->stats.refused_connections;
      shared->log.limited(log::level::warn, "refused",
                          "refused a connection: " + std::to_string(shared->open) + " already open (limit " +
                              std::to_string(shared->options.max_connections) + "); " +
                              std::to_string(shared->stats.refused_connections) + " refused since start");
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto& sessions = shared->sessions;
      sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                    [](const std::weak_ptr<session>& s) { return s.expired(); }),
                     sessions.end());
      auto connection = std::make_shared<session>(shared, std::move(socket));
      sessions.push_back(connection);
      connection->begin();
    }
    accept_next(shared);
  });
}

void server::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry_timer.cancel();
  for (auto& weak : state_->sessions) {
    if (auto connection = weak.lock()) connection->close();
  }
  state_->sessions.clear();
}

std::string server::local_address() const {
  boost::system::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? state_->options.listen : describe(endpoint);
}

const server_stats& server::stats() const { return state_->stats; }

}  // namespace plant::http
