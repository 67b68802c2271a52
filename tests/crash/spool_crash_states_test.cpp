// Power-cut crash states of the spool, enumerated: a real spool runs a workload on
// a real directory while file_op_recorder notes every write and sync; crash_model
// builds each state a power cut at each barrier could leave; and each one is
// recovered by a fresh spool and checked against the README's guarantees table:
//   - every seq a finished group commit covered (with sync = always: everything
//     published) comes back, byte for byte, unless the ack record on disk says
//     the broker has it;
//   - recovery returns exactly the records intact on disk, nothing else;
//   - the corrupted ranges it reports are exactly the real losses: seqs appended,
//     not acknowledged by the ack record on disk, gone, and known to have existed
//     (the ack record's stored_through, an intact later record or a later
//     segment's header proves it);
//   - every seq published and not acknowledged by the broker comes back or is
//     reported (corrupted, or dropped as handed out but on no disk record), and
//     nothing reported dropped comes back;
//   - the next seq it hands out is above everything kept, lost, promised or published;
//   - it starts, and the spool takes and syncs a new record.
// A power cut is another boot: recovery runs with another boot id. The state with
// everything in flight kept is also recovered in the same boot (a kill -9), where
// nothing may be reported lost or dropped.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "common/spool/ack_record.hpp"
#include "common/spool/spool.hpp"
#include "common/spool/spool_format.hpp"
#include "tests/crash/crash_states.hpp"
#include "tests/crash/file_op_recorder.hpp"
#include "tests/spool/spool_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::crash {
namespace {

using plant::spool::record;
using plant::spool::sync_mode;
namespace spool_ns = plant::spool;

constexpr epoch_ms start_ms = 1'700'000'000'000;
constexpr std::uint64_t segment_bytes = 4096;
// Created times are start_ms + seq: a segment rotates by age after this many seqs.
constexpr std::int64_t rotate_age_ms = 3;
constexpr std::uint64_t traced_boot = 1;
constexpr std::uint64_t later_boot = 2;

spool_ns::options crash_options(const std::filesystem::path& dir, sync_mode mode, std::uint64_t boot) {
  auto o = spool_ns::test::make_options(dir, segment_bytes, mode);
  o.rotate_age_ms = rotate_age_ms;
  o.boot_id = boot;
  o.min_reservation = 16;  // extended many times in the workload
  return o;
}
// Record sizes that straddle sectors and segments in every way.
constexpr std::size_t payload_sizes[] = {30, 200, 700, 1100, 50, 480, 1900, 5};

// Where each appended record and each segment header went, from the trace.
struct written_record {
  std::uint64_t inode = 0;
  std::uint64_t offset = 0;
  std::string bytes;
};
struct recorded_run {
  std::vector<file_op> trace;
  std::map<std::uint64_t, record> appended;  // seq -> what was appended
};

// Runs a group commit and waits for it (on a future: thousands of these run, and
// polling would cost more than the syncs); `on_done` sees the durable seq first.
template <typename OnDone>
std::uint64_t sync_and_wait(spool_ns::spool& s, OnDone on_done) {
  auto done = std::make_shared<std::promise<std::uint64_t>>();
  std::future<std::uint64_t> durable = done->get_future();
  s.request_sync([done, on_done](std::uint64_t d) {
    on_done(d);
    done->set_value(d);
  });
  if (durable.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "request_sync did not call back";
    return 0;
  }
  return durable.get();
}

// The outbox's pattern on the spool: seal (append), publish, the broker acknowledges
// with a lag and now and then out of order. With sync = always a message is published
// only after the group commit that covers it; with batch it is published at once and
// a group commit runs every couple of appends (the sync_interval), so acknowledgements
// often arrive before the sync that would have covered them; in the last third of
// each run the broker acknowledges everything before each sync (connected and keeping
// up: no fdatasync, ack record written unsynced, segments rotated by age). Either way a
// seq is published only below floor_on_disk(), as the outbox does. Two runs of the
// agent: the second recovers what the first left after a clean stop.
recorded_run record_workload(sync_mode mode, const std::filesystem::path& dir) {
  recorded_run out;
  file_op_recorder rec(dir);
  std::uint64_t seq = 0;
  std::deque<std::uint64_t> published;
  std::uint64_t last_published = 0;
  std::set<std::uint64_t> acked;
  auto acknowledge = [&](spool_ns::spool& s, std::uint64_t q) {
    if (!acked.insert(q).second) return;
    rec.mark("acked", q);
    s.acknowledge(q);
  };
  auto publish = [&](spool_ns::spool& s, std::uint64_t q) {
    if (q >= s.floor_on_disk()) sync_and_wait(s, [](std::uint64_t) {});  // the outbox asks for a reservation
    EXPECT_LT(q, s.floor_on_disk()) << "seq " << q << " is not reserved on disk after a sync";
    rec.mark("published", q);
    published.push_back(q);
  };
  for (int run = 0; run < 2; ++run) {
    spool_ns::spool s(crash_options(dir, mode, traced_boot));
    s.recover(start_ms);
    for (int step = 0; step < 45; ++step) {
      const bool keeping_up = step >= 30;
      const int appends = 1 + step % 3;
      for (int i = 0; i < appends; ++i) {
        ++seq;
        record r = spool_ns::test::make_record(seq, payload_sizes[seq % std::size(payload_sizes)],
                                               start_ms + static_cast<epoch_ms>(seq));
        rec.mark("append", seq);
        const auto ec = s.append(r);
        EXPECT_FALSE(ec) << "append " << seq << ": " << s.last_error();
        out.appended[seq] = std::move(r);
        if (mode != sync_mode::always) publish(s, seq);
      }
      if (keeping_up) {
        while (!published.empty()) {
          acknowledge(s, published.front());
          published.pop_front();
        }
      }
      if (mode == sync_mode::always || step % 2 == 1) {
        const std::uint64_t durable = sync_and_wait(s, [&rec](std::uint64_t d) { rec.mark("durable", d); });
        if (mode == sync_mode::always) {
          for (std::uint64_t q = published.empty() ? last_published + 1 : published.back() + 1; q <= durable; ++q) {
            publish(s, q);
            last_published = q;
          }
        }
      }
      // The broker acknowledges all but the newest three; every fifth step the newest first.
      if (step % 5 == 4 && !published.empty()) acknowledge(s, published.back());
      while (published.size() > 3) {
        acknowledge(s, published.front());
        published.pop_front();
      }
    }
  }
  EXPECT_EQ(rec.unsupported(), "") << "the crash model cannot replay this";
  out.trace = rec.trace();
  return out;
}

// What the trace says about each seq's bytes and each segment's header.
struct ground_truth {
  std::map<std::uint64_t, written_record> records;    // seq -> where its bytes went
  std::map<std::uint64_t, std::string> headers;       // inode -> header bytes
  std::map<std::uint64_t, std::uint64_t> first_seqs;  // inode -> its first record's seq
};

ground_truth read_truth(const std::vector<file_op>& trace) {
  ground_truth t;
  std::uint64_t pending_seq = 0;
  std::set<std::uint64_t> ack_inodes;
  for (const file_op& op : trace) {
    if (op.kind == op_kind::create && op.name == "ack") ack_inodes.insert(op.inode);
    if (op.kind == op_kind::mark && op.name == "append") pending_seq = op.offset;
    if (op.kind != op_kind::write || ack_inodes.count(op.inode) != 0) continue;
    if (op.offset == 0 && op.data.size() == spool_ns::format::header_size) {
      t.headers[op.inode] = op.data;
    } else if (pending_seq != 0 && op.offset >= spool_ns::format::header_size) {
      t.records[pending_seq] = {op.inode, op.offset, op.data};
      t.first_seqs.emplace(op.inode, pending_seq);
      pending_seq = 0;
    }
  }
  return t;
}

// What had happened at the crash point, from the test's marks.
struct promises {
  std::uint64_t durable = 0;        // highest seq a finished group commit covered
  std::uint64_t acked_through = 0;  // every seq up to here was acknowledged
  std::uint64_t last_appended = 0;
  std::set<std::uint64_t> acked;     // what the broker acknowledged
  std::set<std::uint64_t> published;  // what the broker may have
};

promises promises_at(const std::vector<file_op>& trace, std::size_t ops_done) {
  promises p;
  std::set<std::uint64_t> acked;
  for (std::size_t k = 0; k < ops_done; ++k) {
    const file_op& op = trace[k];
    if (op.kind != op_kind::mark) continue;
    if (op.name == "durable") p.durable = std::max(p.durable, op.offset);
    if (op.name == "append") p.last_appended = op.offset;
    if (op.name == "acked") acked.insert(op.offset);
    if (op.name == "published") p.published.insert(op.offset);
  }
  while (acked.count(p.acked_through + 1) != 0) ++p.acked_through;
  p.acked = std::move(acked);
  return p;
}

bool holds(const dir_image& image, std::uint64_t inode, std::uint64_t offset, const std::string& bytes) {
  for (const auto& [name, f] : image) {
    if (f.inode != inode) continue;
    return f.bytes.size() >= offset + bytes.size() && f.bytes.compare(offset, bytes.size(), bytes) == 0;
  }
  return false;
}

std::string ranges_text(const std::vector<seq_range>& ranges) {
  std::string s;
  for (const auto& r : ranges) s += (s.empty() ? "" : ",") + std::to_string(r.first) + ".." + std::to_string(r.last);
  return "[" + s + "]";
}

std::vector<seq_range> to_ranges(const std::set<std::uint64_t>& seqs) {
  std::vector<seq_range> out;
  for (std::uint64_t q : seqs) {
    if (!out.empty() && out.back().last + 1 == q) {
      out.back().last = q;
    } else {
      out.push_back({q, q});
    }
  }
  return out;
}

void materialize(const dir_image& image, const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [name, f] : image) {
    const auto path = dir / name;
    std::ofstream out(path, std::ios::binary);
    out.write(f.bytes.data(), static_cast<std::streamsize>(f.bytes.size()));
    out.close();
    ::chmod(path.c_str(), 0640);
  }
}

// Recovers one crash state and checks it; "" when every guarantee holds.
std::string check_crash_state(const dir_image& image, const ground_truth& truth, const recorded_run& run,
                              const promises& p, sync_mode mode, const std::filesystem::path& dir,
                              std::uint64_t boot) {
  const bool power_cut = boot != traced_boot;
  std::ostringstream bad;
  // What the ack record on disk says.
  std::optional<spool_ns::ack_state> ack;
  if (auto it = image.find("ack"); it != image.end()) {
    ack = spool_ns::choose_ack(reinterpret_cast<const std::uint8_t*>(it->second.bytes.data()), it->second.bytes.size())
              .state;
  }
  const std::uint64_t acked_on_disk = ack ? ack->acked_through : 0;
  if (acked_on_disk > p.acked_through) {
    bad << "the ack record claims seqs up to " << acked_on_disk << " acknowledged, the broker had " << p.acked_through
        << "; ";
  }
  if (!ack && p.durable != 0) bad << "the ack record is gone though seq " << p.durable << " was promised; ";
  if (!ack && !p.published.empty()) bad << "the ack record (and its seq reservation) is gone though seqs were published; ";

  // What is intact on disk, and the highest seq the disk proves existed.
  std::set<std::uint64_t> intact;
  std::uint64_t proven = ack ? ack->stored_through : 0;
  std::uint64_t first_segment_seq = 0;
  for (const auto& [inode, header] : truth.headers) {
    if (!holds(image, inode, 0, header)) continue;
    const auto first = truth.first_seqs.find(inode);
    if (first == truth.first_seqs.end()) continue;
    proven = std::max(proven, first->second - 1);
    if (first_segment_seq == 0 || first->second < first_segment_seq) first_segment_seq = first->second;
  }
  for (const auto& [seq, w] : truth.records) {
    if (truth.headers.count(w.inode) == 0 || !holds(image, w.inode, 0, truth.headers.at(w.inode))) continue;
    if (!holds(image, w.inode, w.offset, w.bytes)) continue;
    intact.insert(seq);
    proven = std::max(proven, seq);
  }
  std::set<std::uint64_t> expected_back;
  for (std::uint64_t q : intact) {
    if (q > acked_on_disk) expected_back.insert(q);
  }
  // The lowest segment file present, intact or not: below it every segment was unlinked.
  std::uint64_t lowest_segment_name = 0;
  for (const auto& [name, f] : image) {
    if (const auto first = spool_ns::parse_segment_file_name(name)) {
      if (lowest_segment_name == 0 || *first < lowest_segment_name) lowest_segment_name = *first;
    }
  }
  std::set<std::uint64_t> expected_lost;
  for (std::uint64_t q = acked_on_disk + 1; q <= std::min(proven, p.last_appended); ++q) {
    // Without an ack record nothing tells acknowledged seqs below the first segment from lost ones;
    // after a power cut the ack record on disk may be older than the unlinks that followed it.
    if (!ack && (first_segment_seq == 0 || q < first_segment_seq)) continue;
    if (power_cut && (lowest_segment_name == 0 || q < lowest_segment_name)) continue;
    if (intact.count(q) == 0) expected_lost.insert(q);
  }

  materialize(image, dir);
  spool_ns::spool s(crash_options(dir, mode, boot));
  spool_ns::recovery_report report;
  try {
    report = s.recover(start_ms + 10'000'000);
  } catch (const std::exception& e) {
    return std::string("recovery failed to start: ") + e.what();
  }
  std::set<std::uint64_t> back;
  std::uint64_t cursor = 0;
  while (auto r = s.read_next(cursor, spool_ns::limits::max_seq)) {
    back.insert(r->seq);
    const auto it = run.appended.find(r->seq);
    if (it == run.appended.end()) {
      bad << "recovery returned seq " << r->seq << ", never appended; ";
    } else if (r->payload != it->second.payload || r->created != it->second.created ||
               r->stream != it->second.stream || r->flags != it->second.flags) {
      bad << "seq " << r->seq << " came back changed; ";
    }
  }
  if (back != expected_back) {
    bad << "recovered " << ranges_text(to_ranges(back)) << ", intact and unacknowledged on disk "
        << ranges_text(to_ranges(expected_back)) << "; ";
  }
  for (std::uint64_t q = acked_on_disk + 1; q <= p.durable; ++q) {
    // One the broker acknowledged need not come back (its segment may be unlinked).
    if (back.count(q) == 0 && p.acked.count(q) == 0) bad << "promised seq " << q << " lost; ";
  }
  std::set<std::uint64_t> reported_dropped;
  for (const seq_range& r : report.lost_from_memory) {
    for (std::uint64_t q = r.first; q <= r.last && q <= r.first + 100000; ++q) reported_dropped.insert(q);
  }
  std::set<std::uint64_t> reported_corrupted;
  for (const seq_range& r : report.corrupted) {
    for (std::uint64_t q = r.first; q <= r.last; ++q) reported_corrupted.insert(q);
  }
  for (std::uint64_t q : p.published) {
    if (p.acked.count(q) != 0 || back.count(q) != 0) continue;
    if (reported_corrupted.count(q) == 0 && reported_dropped.count(q) == 0) {
      bad << "published seq " << q << " gone without a report; ";
    }
  }
  for (std::uint64_t q : back) {
    if (reported_dropped.count(q) != 0) bad << "seq " << q << " reported dropped but recovered; ";
  }
  if (!power_cut && !report.lost_from_memory.empty()) {
    bad << "a restart in the same boot reported " << ranges_text(report.lost_from_memory) << " dropped; ";
  }
  if (report.corrupted != to_ranges(expected_lost)) {
    bad << "reported lost " << ranges_text(report.corrupted) << ", really lost " << ranges_text(to_ranges(expected_lost))
        << "; ";
  }
  std::uint64_t highest = p.durable;
  if (!p.published.empty()) highest = std::max(highest, *p.published.rbegin());
  if (!back.empty()) highest = std::max(highest, *back.rbegin());
  if (!report.corrupted.empty()) highest = std::max(highest, report.corrupted.back().last);
  if (report.next_seq <= highest) bad << "next seq " << report.next_seq << " would reuse seq " << highest << "; ";
  // It goes on: a new record is taken and synced.
  const auto fresh = spool_ns::test::make_record(report.next_seq, 64, start_ms + 10'000'000);
  if (auto ec = s.append(fresh)) {
    bad << "append after recovery failed: " << s.last_error() << "; ";
  } else if (sync_and_wait(s, [](std::uint64_t) {}) < fresh.seq) {
    bad << "sync after recovery did not cover seq " << fresh.seq << "; ";
  }
  if (!s.healthy()) bad << "unhealthy after recovery: " << s.last_error() << "; ";
  return bad.str();
}

// The operations in flight that the crash state lost or tore (the rest were kept whole).
std::string describe_choices(const crash_model& model, std::size_t ops_done, const crash_choices& c) {
  std::ostringstream out;
  const auto flight = model.in_flight(ops_done);
  const crash_choices limit = model.limits(ops_done);
  std::size_t shown = 0;
  for (std::size_t i = 0; i < flight.size(); ++i) {
    if (c[i] == limit[i]) continue;
    if (++shown > 12) {
      out << " ...";
      break;
    }
    const file_op& op = model.trace()[flight[i]];
    const char* kind = op.kind == op_kind::write    ? "write"
                       : op.kind == op_kind::truncate ? "truncate"
                       : op.kind == op_kind::create   ? "create"
                                                      : "unlink";
    out << " " << kind << "(inode " << op.inode << (op.name.empty() ? "" : " " + op.name);
    if (op.kind == op_kind::write) out << " @" << op.offset << " +" << op.data.size();
    out << (c[i] == 0 ? ") lost" : ") torn after " + std::to_string(c[i]) + " sectors");
  }
  return std::to_string(flight.size()) + " operations in flight, not kept whole:" + (shown == 0 ? " none" : out.str());
}

struct enumeration {
  std::size_t crash_points = 0;
  std::size_t exhaustive_points = 0;  // every state the model allows was tried
  std::size_t states = 0;
  std::size_t failures = 0;
  std::vector<std::string> first_failures;
};

enumeration enumerate_and_check(sync_mode mode) {
  plant::test::temp_dir work("crash-states");
  const auto traced_dir = std::filesystem::path(work.path()) / "traced";
  std::filesystem::create_directories(traced_dir);
  const recorded_run run = record_workload(mode, traced_dir);
  const ground_truth truth = read_truth(run.trace);
  EXPECT_EQ(truth.records.size(), run.appended.size()) << "every append is one write in the trace";

  const crash_model model(run.trace);
  std::mt19937_64 rng(20261201);
  enumeration e;
  // Thousands of states are recovered: on tmpfs, where their fdatasync costs nothing.
  const bool shm = std::filesystem::is_directory("/dev/shm") && ::access("/dev/shm", W_OK) == 0;
  std::optional<plant::test::temp_dir> shm_dir;
  if (shm) shm_dir.emplace("crash-state", "/dev/shm");
  const auto check_dir = std::filesystem::path(shm ? shm_dir->path() : work.path()) / "state";
  for (std::size_t point : model.crash_points()) {
    ++e.crash_points;
    if (model.state_count(point) <= crash_model::exhaustive_bound) ++e.exhaustive_points;
    const promises p = promises_at(run.trace, point);
    const crash_choices everything_kept = model.limits(point);
    for (const crash_choices& c : model.choices_to_try(point, rng, 64)) {
      ++e.states;
      std::string problem = check_crash_state(model.build(point, c), truth, run, p, mode, check_dir, later_boot);
      // Everything written kept is also what a kill -9 leaves: recovered in the same boot.
      if (problem.empty() && c == everything_kept) {
        problem = check_crash_state(model.build(point, c), truth, run, p, mode, check_dir, traced_boot);
        if (!problem.empty()) problem = "same boot: " + problem;
      }
      if (problem.empty()) continue;
      ++e.failures;
      if (e.first_failures.size() < 5) {
        const std::string shown = problem.size() > 800 ? problem.substr(0, 800) + "..." : problem;
        e.first_failures.push_back("after " + std::to_string(point) + " operations (durable " +
                                   std::to_string(p.durable) + ", acked " + std::to_string(p.acked_through) +
                                   "): " + describe_choices(model, point, c) + "\n    " + shown);
      }
    }
  }
  return e;
}

void run_mode(sync_mode mode, const char* name) {
  const enumeration e = enumerate_and_check(mode);
  std::printf("crash states: sync=%s: %zu states at %zu crash points checked (all of them at %zu), %zu failed\n", name,
              e.states, e.crash_points, e.exhaustive_points, e.failures);
  for (const auto& f : e.first_failures) ADD_FAILURE() << f;
  EXPECT_EQ(e.failures, 0u);
  EXPECT_GT(e.crash_points, 50u) << "the workload must cross many barriers";
}

TEST(spool_crash_states, sync_always_loses_nothing_published_in_any_crash_state) { run_mode(sync_mode::always, "always"); }

TEST(spool_crash_states, sync_batch_loses_nothing_a_group_commit_covered_in_any_crash_state) {
  run_mode(sync_mode::batch, "batch");
}

// The model itself: a write in flight is kept whole, torn at sectors or lost; a synced one stays.
TEST(crash_model, tears_unsynced_writes_at_sectors_and_keeps_synced_ones) {
  std::vector<file_op> trace = {
      {op_kind::create, 1, "f", 0, {}},
      {op_kind::write, 1, {}, 0, std::string(100, 'a')},
      {op_kind::datasync, 1, {}, 0, {}},
      {op_kind::dirsync, 0, {}, 0, {}},
      {op_kind::write, 1, {}, 100, std::string(1000, 'b')},
  };
  const crash_model model(trace, 512);
  EXPECT_EQ(model.crash_points(), (std::vector<std::size_t>{2, 3, 5}));
  // Before the first datasync the file may not exist at all.
  EXPECT_TRUE(model.build(2, {0, 1}).empty());
  EXPECT_EQ(model.build(2, {1, 1}).at("f").bytes, std::string(100, 'a'));
  EXPECT_EQ(model.build(2, {1, 0}).at("f").bytes, "");
  // After it, the 100 bytes stay; the 1000 in flight end at 512, 1024 or 1100.
  EXPECT_EQ(model.limits(5), (crash_choices{3}));
  EXPECT_EQ(model.build(5, {0}).at("f").bytes.size(), 100u);
  EXPECT_EQ(model.build(5, {1}).at("f").bytes.size(), 512u);
  EXPECT_EQ(model.build(5, {2}).at("f").bytes.size(), 1024u);
  EXPECT_EQ(model.build(5, {3}).at("f").bytes, std::string(100, 'a') + std::string(1000, 'b'));
  std::mt19937_64 rng(1);
  EXPECT_EQ(model.choices_to_try(5, rng, 0).size(), 4u);
}

TEST(crash_model, a_lost_write_below_a_kept_one_reads_as_zeros_and_unsynced_unlinks_may_be_undone) {
  std::vector<file_op> trace = {
      {op_kind::create, 1, "f", 0, {}},
      {op_kind::dirsync, 0, {}, 0, {}},
      {op_kind::write, 1, {}, 0, "xy"},
      {op_kind::write, 1, {}, 600, "z"},
      {op_kind::unlink, 1, "f", 0, {}},
  };
  const crash_model model(trace, 512);
  const dir_image image = model.build(5, {0, 1, 0});
  EXPECT_EQ(image.at("f").bytes, std::string(600, '\0') + "z");
  EXPECT_TRUE(model.build(5, {1, 1, 1}).empty());
}

}  // namespace
}  // namespace plant::crash
