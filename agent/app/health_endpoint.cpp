#include "agent/app/health_endpoint.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <algorithm>
#include <vector>

#include "common/core/log.hpp"

namespace plant::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

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

}  // namespace

http_answer answer_request(std::string_view method, std::string_view target,
                           const std::function<agent_stats()>& snapshot) {
  // Scrapers may add a query string; nothing here reads one.
  const std::string_view path = target.substr(0, target.find('?'));
  http_answer answer;
  if (path != "/healthz" && path != "/metrics") {
    answer.status = 404;
    answer.body = "not found: " + std::string(path) + " (try /healthz or /metrics)\n";
    return answer;
  }
  if (method != "GET" && method != "HEAD") {
    answer.status = 405;
    answer.allow_get_head = true;
    answer.body = "method " + std::string(method) + " not allowed; use GET or HEAD\n";
    return answer;
  }
  const agent_stats now = snapshot();
  if (path == "/healthz") {
    const health_verdict verdict = decide_health(now);
    answer.status = verdict.healthy ? 200 : 503;
    answer.body = verdict.reason + "\n";
    return answer;
  }
  answer.content_type = std::string(metrics_content_type);
  answer.body = render_metrics(now);
  return answer;
}

struct health_endpoint::state {
  state(asio::io_context& io, health_endpoint_options opts, std::function<agent_stats()> provider)
      : acceptor(io), retry_timer(io), options(std::move(opts)), snapshot(std::move(provider)) {}

  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  health_endpoint_options options;
  std::function<agent_stats()> snapshot;
  http_stats stats;
  std::size_t open = 0;
  bool stopped = false;
  // At most max_connections are alive; expired entries are pruned at each accept.
  std::vector<std::weak_ptr<session>> sessions;
  log::logger log{"health"};
};

// One connection, one request. It owns its socket and deadline; the handlers
// own it, so it goes away when the last of them has run.
class health_endpoint::session : public std::enable_shared_from_this<session> {
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
    auto self = shared_from_this();
    deadline_.expires_after(shared_->options.deadline);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      // A client that sends nothing, or reads nothing, does not keep its slot.
      ++self->shared_->stats.timed_out_connections;
      self->close();
    });
    http::async_read(socket_, buffer_, parser_,
                     [self](const boost::system::error_code& ec, std::size_t) { self->on_read(ec); });
  }

  void close() {
    finished_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    deadline_.cancel();
  }

 private:
  void on_read(const boost::system::error_code& ec) {
    if (finished_ || shared_->stopped) return;
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) {
      close();
      return;
    }
    if (ec) {
      http_answer answer;
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        answer.status = 431;
        answer.body = "request headers larger than " + std::to_string(shared_->options.max_request_bytes) +
                      " bytes\n";
      } else if (ec == http::error::body_limit) {
        answer.status = 413;
        answer.body = "request body larger than " + std::to_string(shared_->options.max_request_bytes) + " bytes\n";
      } else {
        answer.status = 400;
        answer.body = "bad request: " + ec.message() + "\n";
      }
      respond(answer, false, 11);
      return;
    }
    const auto& request = parser_.get();
    const std::string_view method(request.method_string().data(), request.method_string().size());
    const std::string_view target(request.target().data(), request.target().size());
    auto shared = shared_;
    auto snapshot = [shared] {
      agent_stats now = shared->snapshot();
      now.http = shared->stats;
      return now;
    };
    respond(answer_request(method, target, snapshot), request.method() == http::verb::head, request.version());
  }

  void respond(const http_answer& answer, bool head, unsigned version) {
    ++shared_->stats.requests;
    response_.version(version);
    response_.result(answer.status);
    response_.set(http::field::content_type, answer.content_type);
    if (answer.allow_get_head) response_.set(http::field::allow, "GET, HEAD");
    response_.set(http::field::cache_control, "no-store");
    response_.keep_alive(false);
    // HEAD: the length GET would send, and no body.
    response_.content_length(answer.body.size());
    if (!head) response_.body() = answer.body;
    auto self = shared_from_this();
    http::async_write(socket_, response_, [self](const boost::system::error_code&, std::size_t) {
      // Success or not, the connection is done: one request per connection.
      self->close();
    });
  }

  std::shared_ptr<state> shared_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  bool finished_ = false;
};

health_endpoint::health_endpoint(asio::io_context& io, health_endpoint_options options,
                                 std::function<agent_stats()> snapshot)
    : io_(io), state_(std::make_shared<state>(io, std::move(options), std::move(snapshot))) {}

health_endpoint::~health_endpoint() { stop(); }

listen_result health_endpoint::start() {
  const std::string& listen = state_->options.listen;
  std::string host;
  std::string port;
  split_listen(listen, host, port);
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  // Start-up only, before the loop runs: a blocking lookup is fine here.
  auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return failure(ec ? ec : asio::error::host_not_found,
                   "health.listen: cannot resolve '" + host + "': " + (ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  auto& acceptor = state_->acceptor;
  const std::string where = "health.listen: cannot listen on " + describe(endpoint) +
                            (host != endpoint.address().to_string() ? " ('" + listen + "')" : "") + ": ";
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return failure(ec, where + ec.message());
  // A restarted agent must not wait for the old connections' TIME_WAIT.
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
                     ", which is not a loopback address: anyone who can reach it can read the metrics");
  }
  state_->log.info("listening on http://" + local_address() + " (/healthz, /metrics)");
  accept_next(state_);
  return {};
}

void health_endpoint::accept_next(const std::shared_ptr<state>& shared) {
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

void health_endpoint::stop() {
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

std::string health_endpoint::local_address() const {
  boost::system::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? state_->options.listen : describe(endpoint);
}

const http_stats& health_endpoint::stats() const { return state_->stats; }

}  // namespace plant::app
