#include "register/db/database_writer.hpp"

#include <random>

#include "common/core/backoff.hpp"
#include "register/db/migrations.hpp"

namespace plant::central::db {

namespace {

// Whatever max_batch says, a transaction holds at most this much payload.
constexpr std::size_t max_batch_bytes = 64u << 20;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

database_writer::database_writer(writer_options options, ingest::journal& journal)
    : options_(std::move(options)), journal_(journal) {}

database_writer::~database_writer() { stop(std::chrono::milliseconds(0)); }

void database_writer::start() { thread_ = std::thread([this] { run(); }); }

void database_writer::stop(std::chrono::milliseconds drain_for) {
  if (!thread_.joinable()) return;
  drain_deadline_ns_ = steady_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(drain_for).count();
  stopping_ = true;
  journal_.wake();
  thread_.join();
}

latency_histogram database_writer::batch_latency() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latency_;
}

std::string database_writer::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void database_writer::record_error(const std::string& message) {
  ++stats_.database_errors;
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = message;
}

void database_writer::sleep_interruptible(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stopping_ && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(std::chrono::milliseconds(50), d));
}

bool database_writer::ensure_connected() {
  if (conn_ && conn_->ok()) return true;
  writer_.reset();
  conn_.reset();
  stats_.connected = false;
  try {
    conn_ = std::make_unique<connection>(options_.connection);
    const migration_report migrated = apply_migrations(*conn_);
    stats_.schema_version = migrated.to_version;
    if (migrated.to_version != migrated.from_version) {
      log_.info("schema of " + conn_->target() + " migrated from version " + std::to_string(migrated.from_version) +
                " to " + std::to_string(migrated.to_version));
    }
    writer_ = std::make_unique<batch_writer>(*conn_, options_.journal_id, options_.instance);
    writer_->prepare();
    // A journal that lost its files (not its id) would hand out ids this journal already
    // committed, and they would be skipped as replays: new ids go above them.
    journal_.skip_ids_to(writer_->committed_through() + 1);
    stats_.connected = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_.clear();
    }
    log_.info("connected to " + conn_->target() + " (schema version " + std::to_string(migrated.to_version) + ")");
    return true;
  } catch (const std::exception& e) {
    writer_.reset();
    conn_.reset();
    record_error(e.what());
    log_.limited(log::level::error, "connect", std::string(e.what()) + "; the journal keeps what arrives");
    return false;
  }
}

void database_writer::write_batch(std::vector<ingest::journal_entry>& batch) {
  // Retried until it is committed or the register stops: the journal keeps it meanwhile.
  backoff retry(std::chrono::milliseconds(100), options_.retry_max_delay, std::random_device{}());
  while (!batch.empty()) {
    if (stopping_ && steady_ns() > drain_deadline_ns_.load()) return;
    if (!ensure_connected()) {
      sleep_interruptible(retry.next());
      continue;
    }
    // Data PostgreSQL refuses makes the batch fail as a whole; halving finds the one
    // entry at fault, which is then rejected (logged) and the rest stored.
    std::size_t take = batch.size();
    for (;;) {
      std::vector<ingest::journal_entry> part(std::make_move_iterator(batch.begin()),
                                              std::make_move_iterator(batch.begin() + static_cast<long>(take)));
      std::vector<rejected_entry> rejected;
      const auto started = std::chrono::steady_clock::now();
      try {
        const batch_outcome outcome = writer_->write(part, rejected);
        {
          std::lock_guard<std::mutex> lock(mu_);
          latency_.observe(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                                 started));
        }
        std::vector<std::uint64_t> ids;
        ids.reserve(part.size());
        for (const auto& e : part) ids.push_back(e.id);
        journal_.committed(ids);
        for (const auto& r : rejected)
          // Keyed by topic: one source of bad messages cannot hide another's.
          log_.limited(log::level::warn, "rejected " + r.topic,
                       "journal id " + std::to_string(r.journal_id) + " on '" + r.topic + "' not stored: " + r.reason);
        ++stats_.batches;
        stats_.messages += outcome.messages;
        stats_.stored += outcome.stored;
        stats_.duplicates += outcome.duplicates;
        stats_.samples += outcome.samples;
        stats_.rejected += outcome.rejected;
        batch.erase(batch.begin(), batch.begin() + static_cast<long>(take));
        retry.reset();
        break;
      } catch (const pg_error& e) {
        // The entries moved into `part` go back for the next attempt.
        std::move(part.begin(), part.end(), batch.begin());
        record_error(e.what());
        if (!e.data_error()) {
          // Not the data's fault: the whole batch waits (in memory and in the journal) and is retried.
          log_.limited(log::level::warn, e.connection_lost() ? "lost" : "retry",
                       std::string(e.what()) + (e.connection_lost() ? "; reconnecting" : "; retrying the batch"));
          if (e.connection_lost()) {
            writer_.reset();
            conn_.reset();
            stats_.connected = false;
          }
          if (!e.retryable()) sleep_interruptible(retry.next());
          break;
        }
        if (take > 1) {
          take /= 2;
          continue;
        }
        log_.error("journal id " + std::to_string(batch.front().id) + " on '" + batch.front().topic +
                   "' cannot be stored and is dropped: " + e.what());
        ++stats_.rejected;
        journal_.committed({batch.front().id});
        batch.erase(batch.begin());
        break;
      }
    }
  }
}

void database_writer::run() {
  std::uint64_t cursor = 0;
  std::vector<ingest::journal_entry> batch;
  backoff reconnect(std::chrono::milliseconds(100), options_.retry_max_delay, std::random_device{}());
  while (true) {
    if (stopping_ && (steady_ns() > drain_deadline_ns_.load())) break;
    if (!ensure_connected()) {
      if (stopping_) break;
      sleep_interruptible(reconnect.next());
      continue;
    }
    reconnect.reset();
    // The first entry may wait long (an idle plant); the rest of its batch at most max_delay.
    auto first = journal_.next(cursor, stopping_ ? std::chrono::milliseconds(0) : std::chrono::milliseconds(500));
    if (!first) {
      if (stopping_) break;  // drained
      continue;
    }
    batch.clear();
    batch.push_back(std::move(*first));
    const auto batch_deadline = std::chrono::steady_clock::now() + options_.max_delay;
    std::size_t batch_bytes = batch.front().payload.size();
    while (batch.size() < options_.max_batch && batch_bytes < max_batch_bytes) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(batch_deadline -
                                                                              std::chrono::steady_clock::now());
      auto more = journal_.next(cursor, stopping_ ? std::chrono::milliseconds(0)
                                                  : std::max(left, std::chrono::milliseconds(0)));
      if (!more) break;
      batch_bytes += more->payload.size();
      batch.push_back(std::move(*more));
    }
    try {
      write_batch(batch);
    } catch (const std::exception& e) {
      // Out of memory and the like: the batch stays in the journal; start over from it.
      record_error(std::string("writing a batch: ") + e.what());
      log_.error(std::string("writing a batch failed: ") + e.what() + "; retrying from the journal");
      writer_.reset();
      conn_.reset();
      stats_.connected = false;
      if (!batch.empty()) cursor = batch.front().id;
      sleep_interruptible(reconnect.next());
      continue;
    }
    if (!batch.empty()) break;  // stopping with entries unwritten: they stay in the journal
  }
  writer_.reset();
  conn_.reset();
  stats_.connected = false;
}

}  // namespace plant::central::db
