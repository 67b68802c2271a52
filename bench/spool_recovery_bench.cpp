// Fills a spool with N MiB of records in a temporary directory, then times
// recover() on it twice: once with the segment files evicted from the page cache
// (posix_fadvise DONTNEED on our own files only, so other processes' caches are
// left alone) and once warm.
//
//   spool_recovery_bench [MiB=1024] [message bytes=1000]
//   -> recovered 1043915 records, 1024.0 MiB in 1.234 s
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/spool/spool.hpp"

namespace {

using plant::spool::options;
using plant::spool::record;
using plant::spool::spool;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void evict(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

bool time_recovery(const options& o, const char* label) {
  spool s(o);
  const auto t = std::chrono::steady_clock::now();
  const auto rep = s.recover(0);
  const double secs = seconds_since(t);
  for (const auto& f : rep.findings) std::fprintf(stderr, "finding: %s\n", f.c_str());
  std::printf("recovered %llu records, %.1f MiB in %.3f s (%s)\n", static_cast<unsigned long long>(rep.records),
              static_cast<double>(rep.bytes) / (1 << 20), secs, label);
  return rep.findings.empty();
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const std::size_t message = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/spool-bench-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::filesystem::path dir = buf.data();

  options o;
  o.dir = dir;
  o.sync = plant::spool::sync_mode::batch;
  o.max_bytes = 0;
  o.max_age_ms = 0;
  o.segment_bytes = 16ull << 20;
  std::uint64_t records = 0;
  {
    spool s(o);
    s.recover(0);
    record r;
    r.payload.assign(message, 'x');
    const auto t = std::chrono::steady_clock::now();
    std::uint64_t next_sync = 64ull << 20;
    while (s.disk_bytes() < (mib << 20)) {
      r.seq = ++records;
      r.created = 1'700'000'000'000 + static_cast<std::int64_t>(records);
      for (std::size_t i = 0; i < 8 && i < message; ++i) r.payload[i] = static_cast<char>('a' + (records >> (3 * i)) % 26);
      if (auto ec = s.append(r)) {
        std::fprintf(stderr, "%s\n", s.last_error().c_str());
        return 1;
      }
      if (s.disk_bytes() >= next_sync) {  // batch-mode group commit every 64 MiB
        std::atomic<bool> done{false};
        s.request_sync([&](std::uint64_t) { done = true; });
        while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        next_sync += 64ull << 20;
      }
    }
    std::printf("filled %llu records, %.1f MiB in %.3f s\n", static_cast<unsigned long long>(records),
                static_cast<double>(s.disk_bytes()) / (1 << 20), seconds_since(t));
  }
  evict(dir);
  bool clean = time_recovery(o, "cold: segment files evicted from the page cache");
  clean = time_recovery(o, "warm page cache") && clean;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return clean ? 0 : 1;
}
