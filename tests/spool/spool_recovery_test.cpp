// Recovery from damage: torn tails, flipped bytes, lost and foreign files, a
// damaged ack record. Each case checks the exact seqs reported as corrupted and
// the exact finding, because a consumer's audit gaps must equal the report.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>

#include "common/spool/ack_record.hpp"
#include "common/spool/spool.hpp"
#include "common/spool/spool_recovery.hpp"
#include "tests/spool/spool_fixture.hpp"

namespace plant::spool {
namespace {

using namespace plant::spool::test;
using ranges_t = std::vector<seq_range>;
using strings = std::vector<std::string>;
namespace fs = std::filesystem;

constexpr epoch_ms now_ms = 1'700'000'100'000;
const std::uint64_t rec = record_bytes();  // 130 bytes per test record

// Seqs 1..n (acknowledging 1..acked), synced, spool closed.
void build(const fs::path& dir, std::uint64_t n, std::uint64_t segment_bytes = 16ull << 20,
           std::uint64_t acked = 0) {
  spool s(make_options(dir, segment_bytes));
  s.recover(now_ms);
  fill(s, 1, n);
  for (std::uint64_t q = 1; q <= acked; ++q) s.acknowledge(q);
  sync_now(s);
}

// Offset of seq k in a single-segment spool of test records.
std::uint64_t offset_of(std::uint64_t k) { return format::header_size + (k - 1) * rec; }

std::string seg1(const fs::path& dir) { return (dir / segment_file_name(1)).string(); }

void flip(const fs::path& file, std::uint64_t offset, std::uint8_t mask = 0x01) {
  std::string bytes = read_file(file);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ mask);
  write_file(file, bytes);
}

strings sorted(strings v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::uint64_t> without(std::vector<std::uint64_t> all, std::uint64_t first, std::uint64_t last) {
  all.erase(std::remove_if(all.begin(), all.end(), [&](std::uint64_t q) { return q >= first && q <= last; }),
            all.end());
  return all;
}

TEST(spool_recovery, torn_tail_at_every_offset_of_the_last_records) {
  plant::test::temp_dir base("spool-base");
  build(base.path(), 30);
  const std::string segment_bytes = read_file(seg1(base.path()));
  ASSERT_EQ(segment_bytes.size(), offset_of(31));
  for (std::uint64_t cut = offset_of(28); cut < segment_bytes.size(); ++cut) {
    plant::test::temp_dir dir("spool-cut");
    copy_dir(base.path(), dir.path());
    write_file(seg1(dir.path()), segment_bytes.substr(0, cut));
    const std::uint64_t intact = (cut - format::header_size) / rec;
    const std::uint64_t boundary = offset_of(intact + 1);
    const std::string lost = std::to_string(30 - intact) + " unacknowledged record" + (intact == 29 ? "" : "s");
    const std::string seqs = intact == 29 ? "seq 30" : "seqs " + std::to_string(intact + 1) + "..30";
    {
      spool s(make_options(dir.path()));
      const auto rep = s.recover(now_ms);
      const std::string expect =
          cut == boundary
              ? "spool: " + seqs + " (" + lost + ") missing after the end of " + seg1(dir.path())
              : "spool: " + seg1(dir.path()) + " at offset " + std::to_string(boundary) + ": torn tail of " +
                    std::to_string(cut - boundary) + " bytes truncated, " + lost + " lost (" + seqs + ")";
      ASSERT_EQ(rep.findings, strings{expect}) << "cut at " << cut;
      ASSERT_EQ(rep.corrupted, (ranges_t{{intact + 1, 30}})) << "cut at " << cut;
      ASSERT_EQ(rep.records, intact);
      ASSERT_EQ(rep.next_seq, 31u);
      ASSERT_EQ(fs::file_size(seg1(dir.path())), boundary) << "the torn tail is truncated";
      ASSERT_EQ(drain(s), seq_list(1, intact));
      ASSERT_FALSE(s.append(make_record(31)));
    }
    // Reported once: the next recovery finds a clean spool.
    spool s(make_options(dir.path()));
    const auto rep = s.recover(now_ms);
    ASSERT_TRUE(rep.findings.empty()) << "cut at " << cut << ": " << rep.findings.front();
    ASSERT_TRUE(rep.corrupted.empty());
    auto expect_seqs = seq_list(1, intact);
    expect_seqs.push_back(31);
    ASSERT_EQ(drain(s), expect_seqs);
  }
}

TEST(spool_recovery, torn_tail_of_acknowledged_records_loses_nothing) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 30, 16ull << 20, 28);
  const std::string bytes = read_file(seg1(dir.path()));
  write_file(seg1(dir.path()), bytes.substr(0, offset_of(28) + 50));  // torn inside seq 28
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.findings, strings{"spool: " + seg1(dir.path()) + " at offset " + std::to_string(offset_of(28)) +
                                  ": torn tail of 50 bytes truncated, 2 unacknowledged records lost (seqs 29..30)"});
  EXPECT_EQ(rep.corrupted, (ranges_t{{29, 30}}));
  EXPECT_EQ(rep.acked_through, 28u);
  EXPECT_EQ(rep.records, 0u);
}

TEST(spool_recovery, a_flipped_byte_loses_exactly_the_record_it_hit) {
  plant::test::temp_dir base("spool-base");
  build(base.path(), 50);
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    // Any record but the last (that would be a torn tail), any byte of it.
    const std::uint64_t k = 1 + rng() % 49;
    const std::uint64_t at = offset_of(k) + rng() % rec;
    plant::test::temp_dir dir("spool-flip");
    copy_dir(base.path(), dir.path());
    flip(seg1(dir.path()), at, static_cast<std::uint8_t>(1u << (rng() % 8)));
    spool s(make_options(dir.path()));
    const auto rep = s.recover(now_ms);
    ASSERT_EQ(rep.corrupted, (ranges_t{{k, k}})) << "byte " << at << " of seq " << k;
    ASSERT_EQ(rep.findings, strings{"spool: " + seg1(dir.path()) + " at offset " + std::to_string(offset_of(k)) +
                                    ": 130 damaged bytes skipped, 1 unacknowledged record lost (seq " +
                                    std::to_string(k) + ")"});
    ASSERT_EQ(rep.records, 49u);
    ASSERT_EQ(drain(s), without(seq_list(1, 50), k, k));
    ASSERT_EQ(s.unacked_bytes(), 49 * rec);
    // The lost seq does not hold the watermark back.
    for (std::uint64_t q = 1; q <= 50; ++q) s.acknowledge(q);
    ASSERT_EQ(s.acked_through(), 50u);
  }
}

TEST(spool_recovery, damage_across_several_records_loses_exactly_those) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 50);
  std::string bytes = read_file(seg1(dir.path()));
  // From the middle of seq 19 to the middle of seq 22.
  std::fill(bytes.begin() + static_cast<long>(offset_of(19) + 60), bytes.begin() + static_cast<long>(offset_of(22) + 70),
            '\0');
  write_file(seg1(dir.path()), bytes);
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.corrupted, (ranges_t{{19, 22}}));
  EXPECT_EQ(rep.findings, strings{"spool: " + seg1(dir.path()) + " at offset " + std::to_string(offset_of(19)) +
                                  ": 520 damaged bytes skipped, 4 unacknowledged records lost (seqs 19..22)"});
  EXPECT_EQ(drain(s), without(seq_list(1, 50), 19, 22));
  EXPECT_EQ(fs::file_size(seg1(dir.path())), offset_of(51)) << "damage in the middle is skipped, not cut";
}

TEST(spool_recovery, damage_to_acknowledged_records_is_reported_but_loses_nothing) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 50, 16ull << 20, 30);
  flip(seg1(dir.path()), offset_of(10) + 2);  // the record magic of seq 10
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_TRUE(rep.corrupted.empty());
  EXPECT_EQ(rep.findings, strings{"spool: " + seg1(dir.path()) + " at offset " + std::to_string(offset_of(10)) +
                                  ": 130 damaged bytes skipped, no unacknowledged record lost"});
  EXPECT_EQ(drain(s), seq_list(31, 50));
}

TEST(spool_recovery, foreign_and_empty_files) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 10);
  write_file(dir.path() + "/notes.txt", "not ours");
  fs::create_directory(dir.path() + "/lost+found");
  write_file(dir.path() + "/" + segment_file_name(500), "");
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(sorted(rep.findings), sorted({"spool: foreign file " + dir.path() + "/notes.txt ignored",
                                          "spool: foreign file " + dir.path() + "/lost+found ignored",
                                          "spool: " + dir.path() + "/" + segment_file_name(500) +
                                              ": empty segment removed"}));
  EXPECT_TRUE(rep.corrupted.empty());
  EXPECT_TRUE(fs::exists(dir.path() + "/notes.txt")) << "foreign files are left alone";
  EXPECT_FALSE(fs::exists(dir.path() + "/" + segment_file_name(500)));
  EXPECT_EQ(drain(s), seq_list(1, 10));
}

// A spool of 60 records in 1 KiB segments (7 records each): returns the segment paths.
std::vector<fs::path> build_segmented(const fs::path& dir, std::uint64_t acked = 0) {
  build(dir, 60, 1024, acked);
  return segment_files(dir);
}

std::uint64_t first_seq_of(const fs::path& p) { return *parse_segment_file_name(p.filename().string()); }

TEST(spool_recovery, a_damaged_header_removes_the_segment_and_reports_its_seqs) {
  plant::test::temp_dir dir("spool");
  const auto segs = build_segmented(dir.path());
  ASSERT_GE(segs.size(), 6u);
  flip(segs[2], 30);  // prev_seq, covered by the header CRC
  spool s(make_options(dir.path(), 1024));
  const auto rep = s.recover(now_ms);
  const std::uint64_t a = first_seq_of(segs[2]), b = first_seq_of(segs[3]) - 1;
  EXPECT_EQ(rep.corrupted, (ranges_t{{a, b}}));
  EXPECT_EQ(rep.findings,
            (strings{"spool: " + segs[2].string() + ": damaged header (header CRC mismatch), segment removed",
                     "spool: seqs " + std::to_string(a) + ".." + std::to_string(b) + " (" + std::to_string(b - a + 1) +
                         " unacknowledged records) missing between " + segs[1].string() + " and " + segs[3].string()}));
  EXPECT_FALSE(fs::exists(segs[2]));
  EXPECT_EQ(drain(s), without(seq_list(1, 60), a, b));
}

TEST(spool_recovery, a_damaged_header_on_the_last_segment_is_caught_by_the_ack_record) {
  plant::test::temp_dir dir("spool");
  const auto segs = build_segmented(dir.path());
  const fs::path last = segs.back(), before = segs[segs.size() - 2];
  write_file(last, read_file(last).substr(0, 20));
  spool s(make_options(dir.path(), 1024));
  const auto rep = s.recover(now_ms);
  const std::uint64_t a = first_seq_of(last);
  EXPECT_EQ(rep.corrupted, (ranges_t{{a, 60}}));
  EXPECT_EQ(rep.findings,
            (strings{"spool: " + last.string() + ": damaged header (shorter than the 40-byte header), segment removed",
                     "spool: seqs " + std::to_string(a) + "..60 (" + std::to_string(60 - a + 1) +
                         " unacknowledged records) missing after the end of " + before.string()}));
  EXPECT_EQ(rep.next_seq, 61u);
  EXPECT_EQ(drain(s), seq_list(1, a - 1));
}

TEST(spool_recovery, a_missing_segment_is_reported_exactly) {
  plant::test::temp_dir dir("spool");
  const auto segs = build_segmented(dir.path());
  fs::remove(segs[3]);
  spool s(make_options(dir.path(), 1024));
  const auto rep = s.recover(now_ms);
  const std::uint64_t a = first_seq_of(segs[3]), b = first_seq_of(segs[4]) - 1;
  EXPECT_EQ(rep.corrupted, (ranges_t{{a, b}}));
  EXPECT_EQ(rep.findings, strings{"spool: seqs " + std::to_string(a) + ".." + std::to_string(b) + " (" +
                                  std::to_string(b - a + 1) + " unacknowledged records) missing between " +
                                  segs[2].string() + " and " + segs[4].string()});
}

TEST(spool_recovery, a_missing_first_segment_is_reported_when_the_ack_record_says_it_was_needed) {
  plant::test::temp_dir dir("spool");
  const auto segs = build_segmented(dir.path(), 3);
  fs::remove(segs[0]);
  spool s(make_options(dir.path(), 1024));
  const auto rep = s.recover(now_ms);
  const std::uint64_t b = first_seq_of(segs[1]) - 1;
  EXPECT_EQ(rep.corrupted, (ranges_t{{4, b}}));
  EXPECT_EQ(rep.findings, strings{"spool: seqs 4.." + std::to_string(b) + " (" + std::to_string(b - 3) +
                                  " unacknowledged records) missing before " + segs[1].string()});
}

TEST(spool_recovery, a_damaged_tail_of_an_older_segment_is_skipped_not_cut) {
  plant::test::temp_dir dir("spool");
  const auto segs = build_segmented(dir.path());
  const std::string bytes = read_file(segs[1]);
  const std::uint64_t first = first_seq_of(segs[1]), next = first_seq_of(segs[2]);
  const std::uint64_t records = next - first;
  ASSERT_EQ(bytes.size(), format::header_size + records * rec);
  // Cut into the segment's last record and pad back with garbage, as a lost write would.
  std::string damaged = bytes.substr(0, bytes.size() - rec / 2) + std::string(rec / 2, '\x7f');
  write_file(segs[1], damaged);
  spool s(make_options(dir.path(), 1024));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.corrupted, (ranges_t{{next - 1, next - 1}}));
  EXPECT_EQ(rep.findings, strings{"spool: " + segs[1].string() + " at offset " +
                                  std::to_string(bytes.size() - rec) + ": damaged tail of 130 bytes skipped, " +
                                  "1 unacknowledged record lost (seq " + std::to_string(next - 1) + ")"});
  EXPECT_EQ(fs::file_size(segs[1]), bytes.size());
  EXPECT_EQ(drain(s), without(seq_list(1, 60), next - 1, next - 1));
}

TEST(spool_recovery, an_unsupported_version_is_left_in_place) {
  plant::test::temp_dir dir("spool");
  const auto segs = build_segmented(dir.path());
  std::string bytes = read_file(segs.back());
  segment_header h;
  h.version = 2;
  h.first_seq = first_seq_of(segs.back());
  std::uint8_t raw[format::header_size];
  encode_header(h, raw);
  bytes.replace(0, format::header_size, reinterpret_cast<const char*>(raw), format::header_size);
  write_file(segs.back(), bytes);
  spool s(make_options(dir.path(), 1024));
  const auto rep = s.recover(now_ms);
  ASSERT_FALSE(rep.findings.empty());
  EXPECT_EQ(rep.findings[0],
            "spool: " + segs.back().string() + ": unsupported format version 2, segment left in place and ignored");
  EXPECT_TRUE(fs::exists(segs.back()));
}

TEST(spool_recovery, missing_ack_record_resends_everything) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 20, 16ull << 20, 10);
  fs::remove(dir.path() + "/ack");
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.findings,
            strings{"spool: ack record " + dir.path() + "/ack missing: every record in the spool will be resent"});
  EXPECT_EQ(rep.acked_through, 0u);
  EXPECT_EQ(rep.records, 20u);
  EXPECT_TRUE(rep.corrupted.empty());
  EXPECT_EQ(rep.next_seq, 21u);
  EXPECT_EQ(drain(s), seq_list(1, 20));
}

TEST(spool_recovery, both_ack_slots_damaged_resends_everything) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 20, 16ull << 20, 10);
  flip(dir.path() + "/ack", 5);
  flip(dir.path() + "/ack", ack_format::slot_stride + 5);
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.findings, strings{"spool: ack record " + dir.path() +
                                  "/ack damaged (both slots): every record in the spool will be resent"});
  EXPECT_EQ(rep.acked_through, 0u);
  EXPECT_EQ(drain(s), seq_list(1, 20));
  // The next sync writes a good slot again.
  s.acknowledge(1);
  sync_now(s);
  ack_file reader;
  bool created = false;
  ASSERT_FALSE(reader.open(dir.path() + "/ack", created));
  ASSERT_TRUE(reader.read().state);
  EXPECT_EQ(reader.read().state->acked_through, 1u);
}

TEST(spool_recovery, a_torn_ack_slot_falls_back_to_the_other) {
  plant::test::temp_dir dir("spool");
  {
    spool s(make_options(dir.path()));
    s.recover(now_ms);
    fill(s, 1, 20);
    for (std::uint64_t q = 1; q <= 5; ++q) s.acknowledge(q);
    sync_now(s);
    for (std::uint64_t q = 6; q <= 10; ++q) s.acknowledge(q);
  }  // the clean stop writes the newest slot
  ack_file reader;
  bool created = false;
  ASSERT_FALSE(reader.open(dir.path() + "/ack", created));
  const auto before = reader.read();
  ASSERT_TRUE(before.state);
  ASSERT_EQ(before.state->acked_through, 10u);
  const std::uint64_t newest = before.state->generation;
  const std::size_t torn = newest % 2;
  flip(dir.path() + "/ack", torn * ack_format::slot_stride + 20);
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.findings, strings{"spool: ack record " + dir.path() + "/ack: slot " + slot_name(torn) +
                                  " damaged, using slot " + slot_name(1 - torn) + " (generation " +
                                  std::to_string(newest - 1) + ")"});
  EXPECT_EQ(rep.acked_through, 5u);
  EXPECT_EQ(drain(s), seq_list(6, 20)) << "falling back can only resend, never lose";
}

// D14: a checksummed record claiming seq 2^64-1 made recovery report the 39 intact
// records as lost (last_seq + 1 overflowed) and refuse every later append.
TEST(spool_recovery, a_record_with_an_absurd_seq_is_damage_and_appends_continue) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 39, 16ull << 20, 0);
  {
    std::string bytes = read_file(seg1(dir.path()));
    append_record(bytes, record_view{std::numeric_limits<std::uint64_t>::max(), now_ms, 0, 0, "forged"});
    write_file(seg1(dir.path()), bytes);
  }
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.records, 39u);
  EXPECT_TRUE(rep.corrupted.empty()) << rep.findings.size();
  EXPECT_EQ(rep.next_seq, 40u);
  ASSERT_FALSE(s.append(make_record(40))) << s.last_error();
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(drain(s), seq_list(1, 40));
}

TEST(spool_recovery, an_ack_slot_with_absurd_values_is_damaged_and_the_other_is_used) {
  plant::test::temp_dir dir("spool");
  build(dir.path(), 20, 16ull << 20, 5);
  const fs::path ack = fs::path(dir.path()) / "ack";
  std::string bytes = read_file(ack);
  // Overwrite the newer slot with a checksummed one claiming seqs no agent reaches.
  ack_choice before = choose_ack(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(before.state);
  ack_state forged = *before.state;
  forged.generation += 1;
  forged.next_seq = std::numeric_limits<std::uint64_t>::max();
  std::uint8_t slot[ack_format::slot_size];
  encode_ack_slot(forged, slot);
  std::copy(slot, slot + sizeof slot, bytes.begin() + static_cast<std::ptrdiff_t>((forged.generation % 2) * ack_format::slot_stride));
  write_file(ack, bytes);
  spool s(make_options(dir.path()));
  const auto rep = s.recover(now_ms);
  EXPECT_EQ(rep.acked_through, 5u);
  EXPECT_EQ(rep.next_seq, 21u);
  ASSERT_FALSE(s.append(make_record(21))) << s.last_error();
}

TEST(spool_loss_accounting, every_lost_seq_is_in_exactly_one_place) {
  // Segment A: 1..10 with damage between 4 and 7, and a torn tail after 10 (the next
  // segment says 12 came before it); segment B: 13..20, missing after 20 up to 22.
  scanned_segment a;
  a.path = "A";
  a.first_seq = 1;
  a.empty = false;
  a.last_seq = 10;
  a.damages = {damage_span{500, 90, 4, 7, {}}, damage_span{900, 40, 10, 0, {}}};
  scanned_segment b;
  b.path = "B";
  b.first_seq = 13;
  b.prev_seq = 12;
  b.empty = false;
  b.last_seq = 20;
  const loss_report r = account_losses({a, b}, true, 2, 22);
  EXPECT_EQ(r.corrupted, (ranges_t{{5, 6}, {11, 12}, {21, 22}}));
  EXPECT_EQ(r.findings, (strings{"spool: A at offset 500: 90 damaged bytes skipped, 2 unacknowledged records lost (seqs 5..6)",
                                 "spool: A at offset 900: damaged tail of 40 bytes skipped, 2 unacknowledged records lost (seqs 11..12)",
                                 "spool: seqs 21..22 (2 unacknowledged records) missing after the end of B"}));
  // What the ack record calls acknowledged is never lost, however damaged.
  EXPECT_EQ(account_losses({a, b}, true, 30, 22).corrupted, ranges_t{});
}

// A power cut (the ack record is from another boot) may have lost the ack record's
// unsynced writes: numbering resumes above the reservation it synced, and the seqs
// no record holds are reported dropped. The same files in the same boot (a kill -9,
// the page cache intact) resume exactly, with nothing reported.
TEST(spool_power_cut, numbering_resumes_above_the_synced_reservation_and_only_after_another_boot) {
  plant::test::temp_dir work("power-cut");
  const fs::path live = fs::path(work.path()) / "live";
  const fs::path cut = fs::path(work.path()) / "cut";
  auto o = make_options(live);
  spool s(o);
  s.recover(now_ms);
  fill(s, 1, 10);
  sync_now(s);
  const std::uint64_t reserved = s.floor_on_disk() - 1;
  ASSERT_GE(reserved, 10u + 100) << "recovery reserves well ahead of need";
  // The disk as it is at this moment, while the spool still runs.
  auto copy = [&](const fs::path& to) {
    fs::remove_all(to);
    fs::copy(live, to, fs::copy_options::recursive);
  };
  copy(cut);
  {
    auto after_cut = make_options(cut);
    after_cut.boot_id = 2;
    spool again(after_cut);
    const recovery_report r = again.recover(now_ms);
    EXPECT_TRUE(r.other_boot);
    EXPECT_EQ(r.records, 10u);
    EXPECT_EQ(r.next_seq, reserved + 1);
    EXPECT_EQ(r.lost_from_memory, (ranges_t{{11, reserved}}));
    EXPECT_TRUE(r.corrupted.empty());
  }
  copy(cut);
  {
    spool again(make_options(cut));  // boot 1 again: a restart
    const recovery_report r = again.recover(now_ms);
    EXPECT_FALSE(r.other_boot);
    EXPECT_EQ(r.next_seq, 11u);
    EXPECT_TRUE(r.lost_from_memory.empty());
  }
}

TEST(spool_power_cut, a_clean_stop_reserves_exactly_so_a_later_boot_reports_nothing) {
  plant::test::temp_dir dir("power-cut-clean");
  build(dir.path(), 10);
  auto o = make_options(dir.path());
  o.boot_id = 2;
  spool s(o);
  const recovery_report r = s.recover(now_ms);
  EXPECT_TRUE(r.other_boot);
  EXPECT_EQ(r.next_seq, 11u);
  EXPECT_TRUE(r.lost_from_memory.empty());
}

// Segments are unlinked after an unsynced ack record write: after a power cut the
// record on disk may be older than the unlinks. The seqs before the first segment
// left were acknowledged (nothing else unlinks a segment), so nothing is reported
// lost; in the same boot the record is never older, and the same gap is damage.
TEST(spool_power_cut, seqs_before_the_first_segment_left_are_acknowledged_after_another_boot) {
  plant::test::temp_dir work("power-cut-front");
  const fs::path live = fs::path(work.path()) / "live";
  const fs::path cut = fs::path(work.path()) / "cut";
  spool s(make_options(live, 600));  // about four records a segment
  s.recover(now_ms);
  fill(s, 1, 20);
  sync_now(s);
  std::string stale_ack;
  {
    std::ifstream in(live / "ack", std::ios::binary);
    stale_ack.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::uint64_t q = 1; q <= 12; ++q) s.acknowledge(q);
  sync_now(s);  // unlinks the segments holding 1..12
  fs::remove_all(cut);
  fs::copy(live, cut, fs::copy_options::recursive);
  {
    std::ofstream out(cut / "ack", std::ios::binary | std::ios::trunc);
    out << stale_ack;  // the acknowledgements never reached the disk
  }
  ASSERT_FALSE(fs::exists(cut / segment_file_name(1)));
  const fs::path kept = cut;
  const fs::path same_boot = fs::path(work.path()) / "same";
  fs::remove_all(same_boot);
  fs::copy(kept, same_boot, fs::copy_options::recursive);
  {
    auto o = make_options(kept, 600);
    o.boot_id = 2;
    spool again(o);
    const recovery_report r = again.recover(now_ms);
    EXPECT_TRUE(r.corrupted.empty()) << "acknowledged seqs reported lost";
    EXPECT_EQ(r.records, 8u) << "13..20 come back";
  }
  {
    spool again(make_options(same_boot, 600));
    const recovery_report r = again.recover(now_ms);
    ASSERT_FALSE(r.corrupted.empty()) << "in the same boot a missing front is damage";
    EXPECT_EQ(r.corrupted.front().first, 1u);
  }
}

TEST(spool_rotation, a_segment_rotates_by_age_once_mostly_acknowledged_and_goes_at_the_next_sync) {
  plant::test::temp_dir dir("rotate-age");
  auto o = make_options(dir.path());
  o.rotate_age_ms = 1000;
  spool s(o);
  s.recover(now_ms);
  ASSERT_FALSE(s.append(make_record(1, 100, now_ms)));
  ASSERT_FALSE(s.append(make_record(2, 100, now_ms + 1500)));
  EXPECT_EQ(s.disk_bytes(), format::header_size + 2 * rec) << "unacknowledged: no rotation by age";
  s.acknowledge(1);
  s.acknowledge(2);
  ASSERT_FALSE(s.append(make_record(3, 100, now_ms + 1600)));
  EXPECT_EQ(s.disk_bytes(), format::header_size + rec) << "the old segment is gone from the accounting";
  EXPECT_EQ(s.unlink_pending_bytes(), format::header_size + 2 * rec);
  sync_now(s);
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / segment_file_name(1)));
  EXPECT_TRUE(fs::exists(fs::path(dir.path()) / segment_file_name(3)));
}

}  // namespace
}  // namespace plant::spool
