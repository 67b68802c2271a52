// Which writes the spool makes, traced by file_op_recorder on a real directory:
// while the broker keeps up, no fdatasync at all (beyond the ack record's seq
// reservation) and every segment unlinked soon after it was written, so the kernel
// never writes it back; while the broker is away, one fdatasync per round and
// bytes that are the records plus their framing.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "common/spool/spool.hpp"
#include "common/spool/spool_format.hpp"
#include "tests/crash/file_op_recorder.hpp"
#include "tests/spool/spool_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::crash {
namespace {

namespace spool_ns = plant::spool;

constexpr epoch_ms start_ms = 1'700'000'000'000;
constexpr std::size_t payload_bytes = 1000;
constexpr std::uint64_t records = 600;

struct trace_summary {
  std::size_t segment_syncs = 0;
  std::size_t ack_syncs = 0;
  std::size_t dir_syncs = 0;
  std::uint64_t segment_bytes_written = 0;
  std::uint64_t ack_bytes_written = 0;
  std::size_t segments_created = 0;
  std::size_t segments_unlinked = 0;
  // Per segment inode: created time (start_ms + 10 * first seq) of its first record,
  // and the created time of the newest record appended when it was unlinked.
  std::map<std::uint64_t, std::uint64_t> first_seq;
  std::map<std::uint64_t, std::uint64_t> seq_at_unlink;
};

trace_summary summarize(const std::vector<file_op>& trace) {
  trace_summary t;
  std::uint64_t ack_inode = 0;
  std::uint64_t last_append = 0;
  for (const file_op& op : trace) {
    if (op.kind == op_kind::mark && op.name == "append") last_append = op.offset;
    if (op.kind == op_kind::create) {
      if (op.name == "ack") {
        ack_inode = op.inode;
      } else {
        ++t.segments_created;
        t.first_seq[op.inode] = last_append;
      }
    }
    const bool is_ack = op.inode == ack_inode && ack_inode != 0;
    if (op.kind == op_kind::write) (is_ack ? t.ack_bytes_written : t.segment_bytes_written) += op.data.size();
    if (op.kind == op_kind::datasync) ++(is_ack ? t.ack_syncs : t.segment_syncs);
    if (op.kind == op_kind::dirsync) ++t.dir_syncs;
    if (op.kind == op_kind::unlink && !is_ack) {
      ++t.segments_unlinked;
      t.seq_at_unlink[op.inode] = last_append;
    }
  }
  return t;
}

// Appends `records` records 10 ms of created time apart; the broker acknowledges each
// at once when `connected`; a round runs every 5 appends (the batch window).
trace_summary run(bool connected, std::int64_t sync_interval_ms) {
  plant::test::temp_dir dir("disk-writes");
  std::vector<file_op> trace;
  {
    file_op_recorder rec(dir.path());
    {
      auto o = spool_ns::test::make_options(dir.path(), 1u << 20);
      o.rotate_age_ms = 200;  // 20 records
      o.sync_interval_ms = sync_interval_ms;
      spool_ns::spool s(o);
      s.recover(start_ms);
      rec.mark("recovered", 0);
      for (std::uint64_t seq = 1; seq <= records; ++seq) {
        rec.mark("append", seq);
        const auto r = spool_ns::test::make_record(seq, payload_bytes, start_ms + static_cast<epoch_ms>(seq) * 10);
        EXPECT_FALSE(s.append(r)) << s.last_error();
        if (connected) s.acknowledge(seq);
        if (seq % 5 == 0) spool_ns::test::sync_now(s);
      }
      rec.mark("stopping", 0);
    }
    EXPECT_EQ(rec.unsupported(), "");
    trace = rec.trace();
  }
  return summarize(trace);
}

TEST(spool_disk_writes, while_the_broker_keeps_up_nothing_is_synced_and_every_segment_goes_before_writeback) {
  const trace_summary t = run(true, 1000);
  std::printf("connected: %zu segment fdatasyncs, %zu ack fdatasyncs, %zu directory fsyncs, %zu segments made, %zu "
              "unlinked, %llu ack bytes written\n",
              t.segment_syncs, t.ack_syncs, t.dir_syncs, t.segments_created, t.segments_unlinked,
              static_cast<unsigned long long>(t.ack_bytes_written));
  EXPECT_EQ(t.segment_syncs, 0u) << "acknowledged records need no fdatasync";
  EXPECT_LE(t.dir_syncs, 1u) << "only the new ack record's entry: segments holding only acknowledged data need none";
  // The ack record: made, the reservation at start, one extension, the exact one at the clean stop.
  EXPECT_LE(t.ack_syncs, 4u);
  EXPECT_GE(t.segments_created, records / 20 - 1) << "rotated by age (20 records each), not only by size";
  EXPECT_GE(t.segments_unlinked + 1, t.segments_created) << "every segment but the active one is deleted";
  // Deleted within two rotation periods of its first record: long before the kernel's
  // 30 s writeback at the default 15 s rotation age.
  for (const auto& [inode, at] : t.seq_at_unlink) {
    EXPECT_LE(at - t.first_seq.at(inode), 45u) << "segment " << inode << " lived too long";
  }
}

TEST(spool_disk_writes, records_acknowledged_inside_the_batch_window_are_never_synced_and_late_ones_are) {
  plant::test::temp_dir dir("disk-writes-window");
  file_op_recorder rec(dir.path());
  auto o = spool_ns::test::make_options(dir.path());
  o.sync_interval_ms = 150;
  spool_ns::spool s(o);
  s.recover(start_ms);
  ASSERT_FALSE(s.append(spool_ns::test::make_record(1)));
  EXPECT_EQ(spool_ns::test::sync_now(s), 0u) << "inside its window: not synced yet";
  const auto due = s.deferred_sync_due();
  ASSERT_TRUE(due.has_value());
  EXPECT_GT(*due, std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
  s.acknowledge(1);
  spool_ns::test::sync_now(s);
  EXPECT_FALSE(s.deferred_sync_due().has_value());
  ASSERT_FALSE(s.append(spool_ns::test::make_record(2)));
  spool_ns::test::sync_now(s);
  ASSERT_TRUE(s.deferred_sync_due().has_value());
  std::this_thread::sleep_until(*s.deferred_sync_due());
  EXPECT_EQ(spool_ns::test::sync_now(s), 2u) << "past its window and unacknowledged: synced";
  EXPECT_FALSE(s.deferred_sync_due().has_value());
  const trace_summary t = summarize(rec.trace());
  EXPECT_EQ(t.segment_syncs, 1u) << "seq 1 was acknowledged inside its window; seq 2 was not";
}

TEST(spool_disk_writes, while_the_broker_is_away_each_round_is_one_fdatasync_of_the_records_and_their_framing) {
  const trace_summary t = run(false, 0);
  std::printf("away: %zu segment fdatasyncs, %zu ack fdatasyncs, %zu directory fsyncs, %llu segment bytes written\n",
              t.segment_syncs, t.ack_syncs, t.dir_syncs, static_cast<unsigned long long>(t.segment_bytes_written));
  EXPECT_EQ(t.segment_syncs, records / 5) << "one per round";
  // Created, the reservation at start and perhaps an extension, the clean stop.
  EXPECT_LE(t.ack_syncs, 4u);
  EXPECT_EQ(t.segments_created, 1u) << "no rotation by age while the backlog grows";
  EXPECT_EQ(t.segment_bytes_written, spool_ns::format::header_size + records * spool_ns::test::record_bytes(payload_bytes));
}

}  // namespace
}  // namespace plant::crash
