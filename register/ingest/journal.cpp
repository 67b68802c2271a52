#include "register/ingest/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "common/spool/spool_format.hpp"

namespace plant::central::ingest {

namespace {

// The id that ties this directory's journal ids to the database's journal_positions:
// a new directory (the old one lost or wiped) gets a new id, so its ids starting at 1
// again are never taken for ones committed before.
std::string load_or_create_journal_id(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "journal-id";
  {
    std::ifstream in(file);
    std::string id;
    if (in && std::getline(in, id) && id.size() == 32) return id;
  }
  std::random_device random;
  std::string id;
  static const char* const hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) id += hex[random() % 16];
  const std::filesystem::path temp = dir / "journal-id.tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << id << "\n";
    if (!out.flush()) throw std::runtime_error("cannot write " + temp.string());
  }
  const int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fdatasync(fd);
    ::close(fd);
  }
  std::filesystem::rename(temp, file);
  return id;
}

}  // namespace

std::string encode_entry(std::string_view topic, std::string_view payload, bool retained) {
  const std::size_t topic_bytes = std::min<std::size_t>(topic.size(), 0xffff);
  std::string out;
  out.reserve(3 + topic_bytes + payload.size());
  out += static_cast<char>(topic_bytes >> 8);
  out += static_cast<char>(topic_bytes & 0xff);
  out.append(topic.data(), topic_bytes);
  out += static_cast<char>(retained ? 1 : 0);
  out.append(payload.data(), payload.size());
  return out;
}

bool decode_entry(std::string_view bytes, journal_entry& out) {
  if (bytes.size() < 3) return false;
  const std::size_t topic_bytes =
      (static_cast<std::size_t>(static_cast<unsigned char>(bytes[0])) << 8) | static_cast<unsigned char>(bytes[1]);
  if (bytes.size() < 3 + topic_bytes) return false;
  out.topic.assign(bytes.substr(2, topic_bytes));
  out.retained = bytes[2 + topic_bytes] != 0;
  out.payload.assign(bytes.substr(3 + topic_bytes));
  return true;
}

journal::journal(journal_options options)
    : options_(std::move(options)),
      spool_(spool::options{options_.dir, options_.sync, options_.max_bytes, 0, 64ull << 20}) {}

journal::~journal() = default;

journal_recovery journal::recover(epoch_ms now) {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  const spool::recovery_report report = spool_.recover(now);
  journal_recovery out;
  out.entries = report.records;
  out.corrupted = report.corrupted;
  out.findings = report.findings;
  out.journal_id = load_or_create_journal_id(options_.dir);
  next_id_ = report.next_seq;
  return out;
}

journal::append_result journal::append_durable(std::string_view topic, std::string_view payload, bool retained,
                                              epoch_ms received_at, std::string& error) {
  spool::record r;
  r.created = received_at;
  r.payload = encode_entry(topic, payload, retained);
  if (r.payload.size() > spool::format::max_message) {
    error = "a delivery of " + std::to_string(payload.size()) + " bytes is over the journal's record limit";
    ++too_large_;
    return append_result::too_large;
  }
  std::uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r.seq = id = next_id_;
    if (const std::error_code ec = spool_.append(r)) {
      error = spool_.last_error();
      return append_result::failed;
    }
    ++next_id_;
    for (const seq_range& lost : spool_.enforce_bounds(received_at)) {
      const std::uint64_t n = lost.last - lost.first + 1;
      dropped_ += n;
      log_.error("journal.max_bytes reached while the database is away: dropped the oldest " + std::to_string(n) +
                 " uncommitted deliveries (journal ids " + std::to_string(lost.first) + ".." +
                 std::to_string(lost.last) + "); " + std::to_string(dropped_.load()) + " dropped since start");
    }
  }
  ++appended_;
  arrived_.notify_all();
  // Wait for a sync round that covers this id; the worker groups whatever else is pending.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  spool_.request_sync([&](std::uint64_t) {
    std::lock_guard<std::mutex> lock(done_mu);
    done = true;
    done_cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return done; });
  if (spool_.durable_seq() < id) {
    error = spool_.last_error().empty() ? "the journal could not be synced" : spool_.last_error();
    return append_result::failed;
  }
  return append_result::durable;
}

std::optional<journal_entry> journal::next(std::uint64_t& cursor, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // Only what a sync covered: an entry committed before it is durable could, after a
    // power cut, see its id handed out again to a different delivery.
    const std::uint64_t end = std::min(next_id_, spool_.durable_seq() + 1);
    if (cursor < end) {
      std::optional<spool::record> r = spool_.read_next(cursor, end);
      for (const seq_range& lost : spool_.take_read_losses()) {
        damaged_ += lost.last - lost.first + 1;
        log_.error("journal ids " + std::to_string(lost.first) + ".." + std::to_string(lost.last) +
                   " were damaged on disk and are lost (their agents' audit will show the gaps)");
      }
      if (r) {
        journal_entry e;
        if (!decode_entry(r->payload, e)) {
          log_.error("journal id " + std::to_string(r->seq) + " is not a journal entry; skipped");
          spool_.acknowledge(r->seq);
          continue;
        }
        e.id = r->seq;
        e.received_at = r->created;
        return e;
      }
      cursor = end;
    }
    if (woken_) return std::nullopt;
    if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout &&
        cursor >= std::min(next_id_, spool_.durable_seq() + 1))
      return std::nullopt;
  }
}

void journal::committed(const std::vector<std::uint64_t>& ids) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::uint64_t id : ids) spool_.acknowledge(id);
  }
  // The acks and the unlinking of committed segments happen in a sync round.
  spool_.request_sync([](std::uint64_t) {});
}

void journal::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  arrived_.notify_all();
}

void journal::skip_ids_to(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (id > next_id_) {
    log_.warn("journal ids continue at " + std::to_string(id) + ", above what the database has committed (" +
              std::to_string(next_id_) + " would reuse them)");
    next_id_ = id;
  }
}

std::uint64_t journal::backlog_messages() const { return spool_.unacked_messages(); }
std::uint64_t journal::disk_bytes() const { return spool_.disk_bytes(); }
bool journal::healthy() const { return spool_.healthy(); }
std::string journal::last_error() const { return spool_.last_error(); }

}  // namespace plant::central::ingest
