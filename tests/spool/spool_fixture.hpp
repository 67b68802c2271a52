#pragma once
/// Shared pieces for the spool tests: options, deterministic records, file bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/spool/spool.hpp"
#include "common/spool/spool_format.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::spool::test {

/// Options for a spool in `dir` with no size or age limit unless given.
inline options make_options(const std::filesystem::path& dir, std::uint64_t segment_bytes = 16ull << 20,
                            sync_mode sync = sync_mode::batch) {
  options o;
  o.dir = dir;
  o.sync = sync;
  o.max_bytes = 0;
  o.max_age_ms = 0;
  o.segment_bytes = segment_bytes;
  o.rotate_age_ms = 0;  // by size only, unless a test asks
  o.boot_id = 1;        // one boot: every restart in a test is a restart, not a power cut
  return o;
}

/// A payload of `size` bytes that encodes its seq, so a mixed-up record shows.
inline std::string payload_for(std::uint64_t seq, std::size_t size = 100) {
  std::string p = "msg-" + std::to_string(seq) + "-";
  while (p.size() < size) p += static_cast<char>('a' + (seq + p.size()) % 26);
  p.resize(size);
  return p;
}

/// The record the tests append for `seq`.
inline record make_record(std::uint64_t seq, std::size_t size = 100, epoch_ms created = 0) {
  record r;
  r.seq = seq;
  r.created = created != 0 ? created : 1'700'000'000'000 + static_cast<epoch_ms>(seq);
  r.stream = static_cast<std::uint8_t>(seq % 3);
  r.flags = static_cast<std::uint8_t>(seq % 5);
  r.payload = payload_for(seq, size);
  return r;
}

/// Encoded size of a make_record(seq, size) record.
inline std::uint64_t record_bytes(std::size_t size = 100) { return encoded_record_size(size); }

/// Appends make_record(first..last) and fails the test on any error.
inline void fill(spool& s, std::uint64_t first, std::uint64_t last, std::size_t size = 100) {
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    const auto ec = s.append(make_record(seq, size));
    ASSERT_FALSE(ec) << "append " << seq << ": " << ec.message() << " / " << s.last_error();
  }
}

/// request_sync and wait for its callback; returns the durable seq it reported.
inline std::uint64_t sync_now(spool& s) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  auto durable = std::make_shared<std::atomic<std::uint64_t>>(0);
  s.request_sync([done, durable](std::uint64_t d) {
    durable->store(d);
    done->store(true);
  });
  EXPECT_TRUE(plant::test::wait_until([&] { return done->load(); }, std::chrono::seconds(10)))
      << "request_sync did not call back";
  return durable->load();
}

/// Seqs read_next returns from `cursor` to the end.
inline std::vector<std::uint64_t> drain(spool& s, std::uint64_t cursor = 0,
                                        std::uint64_t end = std::numeric_limits<std::uint64_t>::max()) {
  std::vector<std::uint64_t> seqs;
  while (auto r = s.read_next(cursor, end)) {
    EXPECT_EQ(r->payload, payload_for(r->seq, r->payload.size())) << "payload of seq " << r->seq;
    seqs.push_back(r->seq);
  }
  return seqs;
}

/// first..last as a vector.
inline std::vector<std::uint64_t> seq_list(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t s = first; s <= last; ++s) v.push_back(s);
  return v;
}

/// The segment files in `dir`, sorted.
inline std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (parse_segment_file_name(e.path().filename().string())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Sum of the sizes of the segment files in `dir`.
inline std::uint64_t segment_dir_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& p : segment_files(dir)) total += std::filesystem::file_size(p);
  return total;
}

/// A whole file's bytes.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Replaces a file's bytes.
inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Copies every file of `from` into the (existing, empty) directory `to`.
inline void copy_dir(const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(e.path(), to / e.path().filename(), std::filesystem::copy_options::overwrite_existing);
  }
}

}  // namespace plant::spool::test
