#include "common/spool/spool.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "common/spool/ack_record.hpp"
#include "tests/spool/spool_fixture.hpp"

namespace plant::spool {
namespace {

using namespace plant::spool::test;
using ranges_t = std::vector<seq_range>;

constexpr epoch_ms now_ms = 1'700'000'100'000;

TEST(spool, append_then_recover_continues_the_sequence) {
  plant::test::temp_dir dir("spool");
  {
    spool s(make_options(dir.path()));
    const auto rep = s.recover(now_ms);
    EXPECT_EQ(rep.segments, 0u);
    EXPECT_EQ(rep.next_seq, 1u);
    EXPECT_TRUE(rep.findings.empty());
    EXPECT_EQ(s.next_seq_floor(), 1u);
    fill(s, 1, 100);
    EXPECT_EQ(s.next_seq_floor(), 101u);
    EXPECT_EQ(s.unacked_messages(), 100u);
    EXPECT_EQ(s.unacked_bytes(), 100 * record_bytes());
    EXPECT_EQ(s.disk_bytes(), format::header_size + 100 * record_bytes());
    EXPECT_EQ(sync_now(s), 100u);
    EXPECT_EQ(s.durable_seq(), 100u);
  }
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_TRUE(rep.findings.empty()) << rep.findings.front();
  EXPECT_TRUE(rep.corrupted.empty());
  EXPECT_EQ(rep.segments, 1u);
  EXPECT_EQ(rep.records, 100u);
  EXPECT_EQ(rep.bytes, format::header_size + 100 * record_bytes());
  EXPECT_EQ(rep.next_seq, 101u);
  EXPECT_EQ(s.next_seq_floor(), 101u);
  EXPECT_EQ(s.unacked_bytes(), 100 * record_bytes());
  EXPECT_EQ(s.oldest_unacked_created(), make_record(1).created);
  EXPECT_EQ(drain(s), seq_list(1, 100));
  // Appending goes on in the recovered segment, and a seq that would be reused is refused.
  EXPECT_EQ(s.append(make_record(100)), std::make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(s.last_error(),
            "spool: append seq 100 refused: seqs must increase (last appended 100, floor after recovery 101)");
  fill(s, 101, 110);
  EXPECT_EQ(drain(s, 95), seq_list(95, 110));
  EXPECT_EQ(segment_files(dir.path()).size(), 1u);
}

TEST(spool, the_floor_survives_when_everything_was_acknowledged_and_deleted) {
  plant::test::temp_dir dir("spool");
  {
    spool s(make_options(dir.path(), 2048));
    s.recover(now_ms);
    fill(s, 1, 50);
    for (std::uint64_t q = 1; q <= 50; ++q) s.acknowledge(q);
    EXPECT_EQ(s.acked_through(), 50u);
    EXPECT_EQ(s.unacked_messages(), 0u);
    EXPECT_EQ(s.oldest_unacked_created(), std::nullopt);
    sync_now(s);
    EXPECT_EQ(segment_files(dir.path()).size(), 1u) << "only the active segment stays";
  }
  spool s(make_options(dir.path(), 2048));
  const auto rep = s.recover(now_ms);
  EXPECT_TRUE(rep.findings.empty());
  EXPECT_EQ(rep.records, 0u);
  EXPECT_EQ(rep.acked_through, 50u);
  EXPECT_EQ(rep.next_seq, 51u);
  EXPECT_TRUE(drain(s).empty());
}

TEST(spool, out_of_order_acks_keep_exact_counters_and_delete_covered_segments) {
  plant::test::temp_dir dir("spool");
  // ~8 records of 130 bytes per 1 KiB segment: 200 records span ~25 segments.
  spool s(make_options(dir.path(), 1024));
  s.recover(now_ms);
  fill(s, 1, 200);
  sync_now(s);
  const std::size_t segments_before = segment_files(dir.path()).size();
  ASSERT_GT(segments_before, 20u);

  std::vector<std::uint64_t> order = seq_list(1, 200);
  std::mt19937_64 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  std::set<std::uint64_t> unacked(order.begin(), order.end());
  for (std::size_t i = 0; i < order.size(); ++i) {
    s.acknowledge(order[i]);
    s.acknowledge(order[i]);  // duplicates are harmless
    unacked.erase(order[i]);
    const std::uint64_t expect_watermark = unacked.empty() ? 200 : *unacked.begin() - 1;
    ASSERT_EQ(s.acked_through(), expect_watermark) << "after ack #" << i;
    ASSERT_EQ(s.unacked_messages(), unacked.size());
    ASSERT_EQ(s.unacked_bytes(), unacked.size() * record_bytes());
    if (!unacked.empty()) {
      ASSERT_EQ(s.oldest_unacked_created(), make_record(*unacked.begin()).created);
    }
    if (i == 120) {
      // Segments wholly below the watermark go at the next sync, not before.
      const auto on_disk = segment_files(dir.path()).size();
      sync_now(s);
      const auto first_kept = segment_files(dir.path()).front().filename().string();
      EXPECT_LE(*parse_segment_file_name(first_kept), s.acked_through() + 1);
      EXPECT_LE(segment_files(dir.path()).size(), on_disk);
      std::vector<std::uint64_t> expect(unacked.begin(), unacked.end());
      EXPECT_EQ(drain(s), expect) << "read_next skips what was acknowledged";
    }
  }
  sync_now(s);
  EXPECT_EQ(segment_files(dir.path()).size(), 1u);
  EXPECT_EQ(s.disk_bytes(), segment_dir_bytes(dir.path()));
  EXPECT_TRUE(drain(s).empty());
}

TEST(spool, numbering_gaps_are_not_losses_and_do_not_hold_the_watermark) {
  plant::test::temp_dir dir("spool");
  {
    spool s(make_options(dir.path(), 600));
    s.recover(now_ms);
    fill(s, 1, 3);
    fill(s, 10, 11);  // 4..9 went elsewhere (published live while the disk was full, say)
    fill(s, 40, 45);  // and a gap across a segment rotation
    sync_now(s);
    ASSERT_GT(segment_files(dir.path()).size(), 1u);
  }
  spool s(make_options(dir.path(), 600));
  const auto rep = s.recover(now_ms);
  EXPECT_TRUE(rep.findings.empty()) << rep.findings.front();
  EXPECT_TRUE(rep.corrupted.empty());
  EXPECT_EQ(rep.records, 11u);
  for (std::uint64_t q = 1; q <= 3; ++q) s.acknowledge(q);
  EXPECT_EQ(s.acked_through(), 9u);
  s.acknowledge(10);
  s.acknowledge(11);
  EXPECT_EQ(s.acked_through(), 39u);
  EXPECT_EQ(drain(s), seq_list(40, 45));
}

TEST(spool, read_next_walks_segments_in_order_and_rewinds) {
  plant::test::temp_dir dir("spool");
  spool s(make_options(dir.path(), 1024));
  s.recover(now_ms);
  fill(s, 1, 100);
  ASSERT_GT(segment_files(dir.path()).size(), 10u);
  std::uint64_t cursor = 0;
  std::vector<std::uint64_t> seen;
  for (int i = 0; i < 30; ++i) {
    auto r = s.read_next(cursor, 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->payload, payload_for(r->seq));
    EXPECT_EQ(r->created, make_record(r->seq).created);
    EXPECT_EQ(r->stream, make_record(r->seq).stream);
    EXPECT_EQ(r->flags, make_record(r->seq).flags);
    seen.push_back(r->seq);
  }
  EXPECT_EQ(seen, seq_list(1, 30));
  EXPECT_EQ(cursor, 31u);
  // end_exclusive stops the walk without moving the cursor.
  std::uint64_t bounded = 50;
  EXPECT_EQ(s.read_next(bounded, 51)->seq, 50u);
  EXPECT_FALSE(s.read_next(bounded, 51));
  EXPECT_EQ(bounded, 51u);
  // Acknowledge a scattering, then a reconnect rewinds the cursor to the start.
  for (std::uint64_t q : {1, 2, 3, 5, 8, 13, 21, 34, 55, 89}) s.acknowledge(q);
  std::vector<std::uint64_t> expect;
  for (std::uint64_t q = 4; q <= 100; ++q) {
    if (q != 5 && q != 8 && q != 13 && q != 21 && q != 34 && q != 55 && q != 89) expect.push_back(q);
  }
  EXPECT_EQ(drain(s, 0), expect);
  // Rewind into the middle of a segment.
  expect.erase(expect.begin(), std::find(expect.begin(), expect.end(), 56));
  EXPECT_EQ(drain(s, 55), expect);
}

TEST(spool, bounds_by_bytes_drop_whole_oldest_segments_and_report_exactly_the_unacked) {
  plant::test::temp_dir dir("spool");
  options o = make_options(dir.path(), 2048);
  o.max_bytes = 8192;
  spool s(o);
  s.recover(now_ms);
  std::set<std::uint64_t> acked;
  seq_ranges dropped(1u << 16);
  std::uint64_t dropped_calls = 0;
  for (std::uint64_t q = 1; q <= 400; ++q) {
    ASSERT_FALSE(s.append(make_record(q)));
    if (q % 7 == 0 || q % 11 == 0) {
      s.acknowledge(q);
      acked.insert(q);
    }
    for (const seq_range& r : s.enforce_bounds(now_ms)) {
      ++dropped_calls;
      for (std::uint64_t x = r.first; x <= r.last; ++x) {
        EXPECT_FALSE(acked.count(x)) << "acknowledged seq " << x << " reported dropped";
        EXPECT_FALSE(dropped.contains(x)) << "seq " << x << " reported twice";
        dropped.add(x);
      }
    }
    ASSERT_LE(s.disk_bytes(), o.max_bytes + o.segment_bytes);
  }
  sync_now(s);
  EXPECT_GT(dropped_calls, 0u);
  EXPECT_LE(segment_dir_bytes(dir.path()), o.max_bytes + o.segment_bytes);
  EXPECT_LE(s.disk_bytes(), o.max_bytes);
  // Every seq is exactly one of: acknowledged, reported dropped, still readable.
  const auto remaining = drain(s);
  std::set<std::uint64_t> readable(remaining.begin(), remaining.end());
  for (std::uint64_t q = 1; q <= 400; ++q) {
    const int where = int(acked.count(q) > 0) + int(dropped.contains(q)) + int(readable.count(q) > 0);
    EXPECT_EQ(where, 1) << "seq " << q;
  }
  EXPECT_EQ(s.unacked_messages(), readable.size());
  EXPECT_EQ(s.acked_through() + 1, *readable.begin());
}

TEST(spool, bounds_by_age_use_the_newest_record_of_each_segment) {
  plant::test::temp_dir dir("spool");
  options o = make_options(dir.path(), 1024);
  o.max_age_ms = 60'000;
  spool s(o);
  s.recover(now_ms);
  // Seq q is made at t0 + q seconds; 7 records (910 bytes + header) fill a segment.
  const epoch_ms t0 = 1'700'000'000'000;
  for (std::uint64_t q = 1; q <= 40; ++q) ASSERT_FALSE(s.append(make_record(q, 100, t0 + 1000 * q)));
  s.acknowledge(2);
  EXPECT_TRUE(s.enforce_bounds(t0 + 1000 * 7 + 60'000).empty()) << "segment 1..7 is exactly max_age old";
  EXPECT_EQ(s.enforce_bounds(t0 + 1000 * 7 + 60'001), (ranges_t{{1, 1}, {3, 7}}));
  EXPECT_EQ(s.acked_through(), 7u);
  EXPECT_EQ(s.enforce_bounds(t0 + 1000 * 21 + 60'001), (ranges_t{{8, 21}}));
  // Only the active segment is left; once it ages out it is rotated and dropped too.
  EXPECT_EQ(s.enforce_bounds(t0 + 1000 * 40 + 60'001), (ranges_t{{22, 40}}));
  EXPECT_EQ(s.unacked_messages(), 0u);
  EXPECT_EQ(s.disk_bytes(), 0u);
  sync_now(s);
  EXPECT_TRUE(segment_files(dir.path()).empty());
  ASSERT_FALSE(s.append(make_record(41)));
  EXPECT_EQ(drain(s), seq_list(41, 41));
}

TEST(spool, dropped_segments_stay_dropped_after_a_restart) {
  plant::test::temp_dir dir("spool");
  options o = make_options(dir.path(), 1024);
  o.max_bytes = 3000;
  {
    spool s(o);
    s.recover(now_ms);
    fill(s, 1, 40);
    EXPECT_FALSE(s.enforce_bounds(now_ms).empty());
    sync_now(s);
  }
  const std::uint64_t first_kept = *parse_segment_file_name(segment_files(dir.path()).front().filename().string());
  spool s(o);
  const auto rep = s.recover(now_ms);
  EXPECT_TRUE(rep.findings.empty()) << rep.findings.front();
  EXPECT_TRUE(rep.corrupted.empty()) << "dropped seqs were reported when dropped, not again as lost";
  EXPECT_EQ(rep.acked_through, first_kept - 1);
  EXPECT_EQ(drain(s), seq_list(first_kept, 40));
}

// Restores RLIMIT_FSIZE and SIGXFSZ however the test ends.
class file_size_limit {
 public:
  explicit file_size_limit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit l = saved_;
    l.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &l);
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(spool, a_failed_write_leaves_a_valid_segment_and_health_returns) {
  plant::test::temp_dir dir("spool");
  {
    spool s(make_options(dir.path()));
    s.recover(now_ms);
    fill(s, 1, 10);
    const auto seg = segment_files(dir.path()).front();
    const auto size_before = std::filesystem::file_size(seg);
    EXPECT_TRUE(s.healthy());
    {
      // Room for half a record: the write is cut short, then fails with EFBIG.
      file_size_limit limit(size_before + record_bytes() / 2);
      const auto ec = s.append(make_record(11));
      EXPECT_EQ(ec, std::error_code(EFBIG, std::system_category()));
      EXPECT_EQ(s.last_error(), "spool: write " + seg.string() + ": File too large");
      EXPECT_FALSE(s.healthy());
      EXPECT_EQ(std::filesystem::file_size(seg), size_before) << "the partial record must be cut off";
      EXPECT_EQ(s.append(make_record(11)), std::error_code(EFBIG, std::system_category()));
    }
    EXPECT_EQ(s.unacked_messages(), 10u);
    ASSERT_FALSE(s.append(make_record(11)));  // the retry succeeds once there is room
    EXPECT_TRUE(s.healthy());
    fill(s, 12, 15);
    sync_now(s);
  }
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_TRUE(rep.findings.empty()) << rep.findings.front();
  EXPECT_EQ(drain(s), seq_list(1, 15));
}

TEST(spool, a_failed_segment_creation_leaves_no_file_behind) {
  plant::test::temp_dir dir("spool");
  spool s(make_options(dir.path(), 1024));
  s.recover(now_ms);
  fill(s, 1, 7);  // the next record needs a new segment
  ASSERT_EQ(segment_files(dir.path()).size(), 1u);
  {
    file_size_limit limit(10);  // not even a header fits
    EXPECT_EQ(s.append(make_record(8)), std::error_code(EFBIG, std::system_category()));
    EXPECT_EQ(s.last_error(), "spool: write " + (dir.path() + "/" + segment_file_name(8)) + ": File too large");
    EXPECT_FALSE(s.healthy());
  }
  EXPECT_EQ(segment_files(dir.path()).size(), 1u);
  ASSERT_FALSE(s.append(make_record(8)));
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(drain(s), seq_list(1, 8));
}

TEST(spool, group_commit_reports_the_durable_seq_and_writes_the_ack_record) {
  plant::test::temp_dir dir("spool");
  spool s(make_options(dir.path(), 1024, sync_mode::always));
  s.recover(now_ms);
  EXPECT_EQ(s.durable_seq(), 0u);
  fill(s, 1, 30);  // several rotated segments plus the active one
  std::atomic<int> calls{0};
  std::vector<std::uint64_t> reported(3);
  for (int i = 0; i < 3; ++i) {
    s.request_sync([&, i](std::uint64_t d) {
      reported[i] = d;
      ++calls;
    });
  }
  PLANT_ASSERT_EVENTUALLY(calls.load() == 3, std::chrono::seconds(10));
  EXPECT_EQ(reported, (std::vector<std::uint64_t>{30, 30, 30}));
  s.acknowledge(1);
  s.acknowledge(2);
  sync_now(s);
  ack_file reader;
  bool created = false;
  ASSERT_FALSE(reader.open(dir.path() + "/ack", created));
  const auto c = reader.read();
  ASSERT_TRUE(c.state);
  EXPECT_EQ(c.state->acked_through, 2u);
  EXPECT_EQ(c.state->next_seq, 31u);
  EXPECT_EQ(c.state->stored_through, 30u);
}

TEST(spool, sync_never_still_moves_the_ack_record) {
  plant::test::temp_dir dir("spool");
  {
    spool s(make_options(dir.path(), 1024, sync_mode::never));
    s.recover(now_ms);
    fill(s, 1, 20);
    for (std::uint64_t q = 1; q <= 12; ++q) s.acknowledge(q);
    EXPECT_EQ(sync_now(s), 20u);
  }
  spool s(make_options(dir.path(), 1024, sync_mode::never));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.acked_through, 12u);
  EXPECT_EQ(drain(s), seq_list(13, 20));
}

TEST(spool, a_second_spool_on_the_same_directory_is_refused) {
  plant::test::temp_dir dir("spool");
  spool first(make_options(dir.path()));
  first.recover(now_ms);
  spool second(make_options(dir.path()));
  const auto rep = second.recover(now_ms);
  ASSERT_EQ(rep.findings.size(), 1u);
  EXPECT_EQ(rep.findings[0],
            "spool: " + dir.path() + " is in use by another process (lock on " + dir.path() + "/ack)");
  EXPECT_FALSE(second.healthy());
  EXPECT_EQ(second.append(make_record(1)), std::make_error_code(std::errc::device_or_resource_busy));
  EXPECT_TRUE(first.healthy());
  EXPECT_FALSE(first.append(make_record(1)));
}

TEST(spool, a_process_crash_after_append_returns_loses_nothing) {
  plant::test::temp_dir dir("spool");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child dies without a destructor, a sync or a flush: only write() stands.
    int status = 1;
    {
      auto* s = new spool(make_options(dir.path(), 1024));
      s->recover(now_ms);
      bool ok = true;
      for (std::uint64_t q = 1; q <= 20 && ok; ++q) ok = !s->append(make_record(q));
      for (std::uint64_t q = 1; q <= 5; ++q) s->acknowledge(q);
      std::atomic<bool> synced{false};
      s->request_sync([&](std::uint64_t) { synced = true; });
      ok = ok && plant::test::wait_until([&] { return synced.load(); }, std::chrono::seconds(10));
      for (std::uint64_t q = 21; q <= 60 && ok; ++q) ok = !s->append(make_record(q));
      s->acknowledge(6);
      status = ok ? 0 : 1;
    }
    ::_exit(status);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not fill the spool";
  spool s(make_options(dir.path(), 1024));
  const auto rep = s.recover(now_ms);
  EXPECT_TRUE(rep.findings.empty()) << rep.findings.front();
  EXPECT_TRUE(rep.corrupted.empty());
  EXPECT_EQ(rep.acked_through, 5u) << "acks after the last sync are resent, not lost";
  EXPECT_EQ(rep.next_seq, 61u);
  EXPECT_EQ(drain(s), seq_list(6, 60));
}

TEST(spool, append_before_recover_is_refused) {
  plant::test::temp_dir dir("spool");
  spool s(make_options(dir.path()));
  EXPECT_EQ(s.append(make_record(1)), std::make_error_code(std::errc::operation_not_permitted));
  EXPECT_EQ(s.last_error(), "spool: append before recover()");
  EXPECT_TRUE(segment_files(dir.path()).empty());
}

TEST(spool, a_record_damaged_after_recovery_is_given_up_and_reported_by_read_next) {
  plant::test::temp_dir dir("spool");
  spool s(make_options(dir.path()));
  s.recover(now_ms);
  fill(s, 1, 5);
  const auto seg = segment_files(dir.path()).front();
  std::string bytes = read_file(seg);
  const std::uint64_t at3 = format::header_size + 2 * record_bytes();
  const std::uint64_t at5 = format::header_size + 4 * record_bytes();
  bytes[at3 + 40] ^= 0x01;  // inside seq 3's message
  bytes[at5 + 40] ^= 0x01;  // inside seq 5's message
  write_file(seg, bytes);
  EXPECT_EQ(drain(s), (std::vector<std::uint64_t>{1, 2, 4}));
  EXPECT_EQ(s.take_read_losses(), (ranges_t{{3, 3}, {5, 5}}));
  EXPECT_TRUE(s.take_read_losses().empty());
  EXPECT_FALSE(s.healthy());
  EXPECT_EQ(s.last_error(), "spool: read " + seg.string() + " at offset " + std::to_string(at5) +
                                ": record damaged since recovery; seq 5 given up");
  EXPECT_EQ(s.unacked_messages(), 3u);
  s.acknowledge(1);
  s.acknowledge(2);
  EXPECT_EQ(s.acked_through(), 3u) << "a given-up seq does not hold the watermark";
  s.acknowledge(4);
  EXPECT_EQ(s.acked_through(), 5u);
  ASSERT_FALSE(s.append(make_record(6)));
  EXPECT_EQ(drain(s), seq_list(6, 6));
  EXPECT_TRUE(s.healthy()) << "the next good read clears the read error";
}

}  // namespace
}  // namespace plant::spool
