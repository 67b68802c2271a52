#include "common/spool/sync_worker.hpp"

#include <unistd.h>

#include <cerrno>

#include "common/spool/file_io.hpp"

namespace plant::spool {

sync_outcome perform_sync(const sync_job& job, ack_file& ack, std::optional<ack_state>& written, int dir_fd,
                          const std::filesystem::path& dir, bool fsync) {
  sync_outcome out;
  out.target = job.target;
  if (fsync && job.data_needs_sync) {
    for (const auto& f : job.files) {
      ++out.syncs;
      if (::fdatasync(f->fd()) != 0) {
        out.error = "spool: fdatasync " + f->path().string() + ": " + last_errno().message();
        out.failed.push_back(f);
      }
    }
  }
  if (fsync && job.sync_directory && dir_fd >= 0) ++out.syncs;
  if (fsync && job.sync_directory && dir_fd >= 0 && ::fsync(dir_fd) != 0) {
    out.error = "spool: fsync " + dir.string() + ": " + last_errno().message();
    out.directory_failed = true;
  }
  out.synced = job.claims_target && out.failed.empty() && !out.directory_failed;
  // stored_through claims only what is durable (or acknowledged): after a power cut, recovery
  // reports everything up to it that it cannot find as lost, and nothing beyond it.
  ack_state want;
  want.acked_through = job.acked_through;
  want.next_seq = job.next_seq;
  want.stored_through = out.synced ? job.target : (written ? written->stored_through : 0);
  want.reserved_through = job.reserved_through;
  want.boot = job.boot;
  if (written) want.generation = written->generation;
  if (!written || !(*written == want) || job.ack_needs_sync) {
    if (!ack.is_open()) {
      // It could not be made at start (a full disk); space may be back.
      bool created = false;
      if (auto ec = ack.open(ack.path(), created)) {
        out.error = "spool: ack record " + ack.path().string() + " is not open: " + ec.message();
        out.ack_failed = true;
      }
    }
    if (ack.is_open()) {
      const bool sync_ack = fsync && job.ack_needs_sync;
      if (sync_ack) ++out.syncs;
      if (auto ec = ack.write(want, sync_ack)) {
        out.error = "spool: write " + ack.path().string() + ": " + ec.message();
        out.ack_failed = true;
      } else {
        want.generation = ack.generation();
        written = want;
        out.ack_written = true;
        if (sync_ack || !fsync) out.floor_on_disk = job.reserved_through + 1;
      }
    }
  }
  // Unlinked even when the ack record could not be written: a spool that can never
  // shrink would fill the disk. The price of that rare case is an over-report
  // after a power cut (seqs the stale record calls unacknowledged reported lost),
  // never a silent loss.
  for (const auto& path : job.doomed) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      out.error = "spool: unlink " + path.string() + ": " + last_errno().message();
    }
  }
  return out;
}

sync_worker::sync_worker(take_fn take, perform_fn perform, apply_fn apply)
    : take_(std::move(take)), perform_(std::move(perform)), apply_(std::move(apply)), thread_([this] { run(); }) {}

sync_worker::~sync_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void sync_worker::request(std::function<void(std::uint64_t)> done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(std::move(done));
  }
  cv_.notify_one();
}

void sync_worker::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !requests_.empty(); });
    const bool stopping = stop_;
    // Every request queued so far shares this round.
    std::deque<std::function<void(std::uint64_t)>> batch;
    batch.swap(requests_);
    lock.unlock();
    std::uint64_t durable = 0;
    if (auto job = take_()) {
      durable = apply_(perform_(*job));
    } else {
      durable = apply_(sync_outcome{});
    }
    for (auto& done : batch) {
      if (done) done(durable);
    }
    lock.lock();
    if (stopping && requests_.empty()) return;
  }
}

}  // namespace plant::spool
