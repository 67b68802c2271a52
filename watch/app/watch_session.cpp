#include "watch/app/watch_session.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <set>
#include <utility>
#include <vector>

#include "watch/views/board_table.hpp"
#include "common/mqtt/broker_subscriber.hpp"
#include "watch/app/message_processor.hpp"
#include "watch/mqtt/message_queue.hpp"
#include "common/core/backoff.hpp"
#include "watch/views/shortage_board.hpp"

namespace plant::watch {

using mqtt_link::broker_subscriber;
using mqtt_link::subscriber_events;
using mqtt_link::subscriber_settings;

namespace {

// Sized for the benchmark (about 1000 messages/s of 30 KB) with room for a
// few seconds of the main thread falling behind, e.g. while a terminal scrolls.
constexpr std::size_t queue_max_messages = 100000;
constexpr std::size_t queue_max_bytes = 256u << 20;
constexpr std::size_t drain_batch = 256;  // then let timers and signals run
constexpr std::size_t max_reported_reasons = 32;

epoch_ms wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string default_client_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string name = host[0] != '\0' ? host : "host";
  return "plant-watch-" + name + "-" + std::to_string(::getpid());
}

struct watch_session::state {
  state(watch_options o, std::string pw, std::FILE* out_file, std::FILE* err_file)
      : options(std::move(o)),
        password(std::move(pw)),
        out(out_file),
        err(err_file),
        tty(::isatty(::fileno(out_file)) == 1),
        signals(io, SIGINT, SIGTERM),
        refresh_timer(io),
        duration_timer(io),
        reconnect_timer(io),
        queue(queue_max_messages, queue_max_bytes),
        processor(settings_for(options)),
        // Jittered: many ops sessions reconnecting after a broker restart spread out.
        backoff(std::chrono::seconds(1), std::chrono::seconds(30),
                static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

  static bool table_mode(const watch_options& o) { return !o.json && !o.audit && !o.shortages; }

  // With --shortages, --json changes the board's format, not the per-message output.
  static processor_settings settings_for(const watch_options& o) {
    processor_settings p;
    p.json = o.json && !o.shortages;
    p.audit = o.audit;
    p.board = o.shortages || table_mode(o);
    return p;
  }

  // --- output --------------------------------------------------------------

  // A closed stdout (plant-watch ... | head) ends the run quietly, like any filter.
  void write_out(const std::string& text, bool flush) {
    if (text.empty() || out_closed) return;
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || (flush && std::fflush(out) != 0)) {
      out_closed = true;
      stop();
    }
  }

  void write_err(const std::string& text) {
    if (text.empty()) return;
    std::fwrite(text.data(), 1, text.size(), err);
    std::fflush(err);
  }

  bool periodic_view() const { return table_mode(options) || (options.shortages && !options.json); }

  void render() {
    processor.board().queue_dropped = queue.dropped();
    const epoch_ms now = wall_clock_ms();
    std::string text = tty ? "\x1b[2J\x1b[H" : "";
    if (options.shortages) {
      text += render_shortage_table(find_shortages(processor.board()), now);
    } else {
      text += render_board_table(processor.board(), now);
    }
    if (!tty) text += "\n";
    write_out(text, true);
  }

  void final_output() {
    if (periodic_view()) render();
    if (options.shortages && options.json) {
      std::string text;
      for (const auto& entry : find_shortages(processor.board())) text += shortage_json(entry) + "\n";
      write_out(text, true);
    }
    if (options.audit) {
      std::string text;
      for (const auto& line : processor.audit().report_lines()) text += line + "\n";
      for (const auto& line : processor.sparkplug_audit_lines()) text += line + "\n";
      write_out(text, true);
    }
    const std::uint64_t dropped = queue.dropped();
    if (processor.undecodable() > 0 || processor.rejected() > 0 || dropped > 0 ||
        processor.audit().agents_dropped() > 0) {
      write_err("plant-watch: " + std::to_string(processor.received()) + " messages received, " +
                std::to_string(processor.undecodable()) + " undecodable, " + std::to_string(processor.rejected()) +
                " rejected (an envelope naming another agent than its topic), " + std::to_string(dropped) +
                " dropped because plant-watch fell behind\n");
    }
  }

  // --- messages --------------------------------------------------------------

  void drain() {
    std::vector<received_message> batch;
    batch.reserve(drain_batch);
    const bool more = queue.pop_batch(batch, drain_batch);
    process(batch);
    if (more && !stopping) boost::asio::post(io, [this] { drain(); });
  }

  void process(std::vector<received_message>& batch) {
    std::string out_text;
    std::string err_text;
    for (auto& message : batch) {
      if (count_reached) return;
      out_text.clear();
      processor.handle(message, out_text, err_text);
      write_out(out_text, true);  // one flush per JSON line, so a pipe sees each message at once
      for (const auto& request : processor.take_rebirth_requests()) {
        if (subscriber && subscriber->publish(request.topic, request.payload, 0)) {
          processor.rebirth_sent(request);
          write_err("plant-watch: asked " + request.topic + " for a rebirth (data it has no birth for)\n");
        }
      }
      if (options.count > 0 && processor.received() >= options.count) {
        count_reached = true;
        stop();
      }
    }
    write_err(err_text);
  }

  // --- connection ------------------------------------------------------------

  void start_connection() {
    subscriber_settings s;
    s.url = options.url;
    s.client_id = options.client_id.empty() ? default_client_id() : options.client_id;
    s.username = options.username;
    s.password = password;
    s.ca_file = options.ca_file;
    s.cert_file = options.cert_file;
    s.key_file = options.key_file;
    s.verify_server = !options.insecure;
    s.topics = options.topics;
    s.qos = options.qos;
    s.clean_session = !options.persistent;
    s.names = {"--username and --password-file", "--ca-file", "--cert-file/--key-file"};

    // Everything but messages is posted to the main thread: only it touches state.
    subscriber_events e;
    e.connected = [this] { boost::asio::post(io, [this] { on_connected(); }); };
    e.connect_failed = [this](const std::string& reason) {
      boost::asio::post(io, [this, reason] { on_connect_failed(reason); });
    };
    e.connection_lost = [this](const std::string& cause) {
      boost::asio::post(io, [this, cause] { on_connection_lost(cause); });
    };
    e.subscribe_failed = [this](const std::string& filter, const std::string& reason) {
      boost::asio::post(io, [this, filter, reason] {
        write_err("plant-watch: cannot subscribe to '" + filter + "' on " + options.url + ": " + reason + "\n");
      });
    };
    e.message = [this](received_message&& m) {
      if (queue.push(std::move(m)).wake) boost::asio::post(io, [this] { drain(); });
    };
    subscriber = std::make_unique<broker_subscriber>(std::move(s), std::move(e));
    subscriber->connect();
  }

  void on_connected() {
    if (stopping) return;
    processor.board().connection = "connected";
    if (had_trouble) write_err("plant-watch: connected to " + options.url + "\n");
    had_trouble = false;
    reported_reasons.clear();
    backoff.reset();
  }

  void on_connect_failed(const std::string& reason) {
    if (stopping) return;
    had_trouble = true;
    processor.board().connection = reason + " (retrying)";
    if (reported_reasons.size() >= max_reported_reasons) reported_reasons.clear();
    if (reported_reasons.insert(reason).second) {
      write_err("plant-watch: cannot connect to " + options.url + ": " + reason + "; retrying\n");
    }
    schedule_connect();
  }

  void on_connection_lost(const std::string& cause) {
    if (stopping) return;
    had_trouble = true;
    reported_reasons.clear();
    const std::string detail = cause.empty() ? std::string() : ": " + cause;
    processor.board().connection = "connection lost" + detail + " (reconnecting)";
    write_err("plant-watch: lost the connection to " + options.url + detail + "; reconnecting\n");
    schedule_connect();
  }

  void schedule_connect() {
    reconnect_timer.expires_after(backoff.next());
    reconnect_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping) subscriber->connect();
    });
  }

  // --- timers and stopping -----------------------------------------------------

  void arm_refresh() {
    refresh_timer.expires_at(refresh_timer.expiry() + options.refresh);  // no drift
    refresh_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      render();
      arm_refresh();
    });
  }

  void stop() {
    if (stopping) return;
    stopping = true;
    io.stop();
  }

  int run() {
    processor.board().broker = options.url;
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) stop();
    });
    if (options.duration.count() > 0) {
      duration_timer.expires_after(options.duration);
      duration_timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) stop();
      });
    }
    if (periodic_view()) {
      render();
      refresh_timer.expires_after(std::chrono::milliseconds(0));
      arm_refresh();
    }
    start_connection();
    io.run();

    // Stop the inflow first, then account for everything Paho already handed
    // over, so an audit after SIGINT covers every message that reached us.
    subscriber->disconnect(std::chrono::milliseconds(1000));
    if (!count_reached && !out_closed) {
      std::vector<received_message> batch;
      bool more = true;
      while (more && !count_reached && !out_closed) {
        batch.clear();
        more = queue.pop_batch(batch, drain_batch);
        process(batch);
      }
    }
    if (!out_closed) final_output();
    subscriber.reset();
    return 0;
  }

  watch_options options;
  std::string password;
  std::FILE* out;
  std::FILE* err;
  bool tty;
  boost::asio::io_context io;
  boost::asio::signal_set signals;
  boost::asio::steady_timer refresh_timer;
  boost::asio::steady_timer duration_timer;
  boost::asio::steady_timer reconnect_timer;
  message_queue queue;
  message_processor processor;
  plant::backoff backoff;
  std::set<std::string> reported_reasons;  // connect failures already printed since the last success
  bool had_trouble = false;
  bool stopping = false;
  bool count_reached = false;
  bool out_closed = false;
  std::unique_ptr<broker_subscriber> subscriber;  // last: destroyed before the queue and io it posts to
};

watch_session::watch_session(watch_options options, std::string password, std::FILE* out, std::FILE* err)
    : state_(std::make_unique<state>(std::move(options), std::move(password), out, err)) {}

watch_session::~watch_session() = default;

int watch_session::run() { return state_->run(); }

}  // namespace plant::watch
