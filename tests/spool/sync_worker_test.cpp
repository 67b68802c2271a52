// The sync round's power-cut ordering and its failure paths, on real files.
#include "common/spool/sync_worker.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "tests/spool/spool_fixture.hpp"

namespace plant::spool {
namespace {

namespace fs = std::filesystem;

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::shared_ptr<segment_file> make_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  EXPECT_GE(fd, 0);
  return std::make_shared<segment_file>(fd, path);
}

TEST(spool_sync_round, writes_the_ack_record_after_the_data_and_unlinks_what_it_covers) {
  plant::test::temp_dir dir("sync");
  ack_file ack;
  bool created = false;
  ASSERT_FALSE(ack.open(fs::path(dir.path()) / "ack", created));
  auto live = make_file(fs::path(dir.path()) / "live");
  const fs::path doomed = fs::path(dir.path()) / "doomed";
  make_file(doomed);
  sync_job job;
  job.files = {live};
  job.target = 9;
  job.acked_through = 4;
  job.next_seq = 10;
  job.doomed = {doomed};
  std::optional<ack_state> written;
  const int dir_fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const sync_outcome out = perform_sync(job, ack, written, dir_fd, dir.path(), true);
  ::close(dir_fd);
  EXPECT_TRUE(out.synced);
  EXPECT_EQ(out.error, "");
  ASSERT_TRUE(written);
  EXPECT_EQ(written->stored_through, 9u);
  EXPECT_EQ(written->acked_through, 4u);
  EXPECT_EQ(written->next_seq, 10u);
  EXPECT_FALSE(fs::exists(doomed));
  EXPECT_EQ(ack.read().state->stored_through, 9u);
}

// D9: with an ack record that could not be opened, doomed segments were never
// unlinked (and their descriptors never closed): the spool grew without bound.
TEST(spool_sync_round, an_ack_record_that_cannot_be_written_does_not_stop_the_spool_shrinking) {
  plant::test::temp_dir dir("sync");
  ack_file ack;  // never opened: its directory does not exist
  bool created = false;
  EXPECT_TRUE(ack.open(fs::path(dir.path()) / "gone" / "ack", created));
  const std::size_t descriptors_before = open_descriptors();
  std::optional<ack_state> written;
  for (int round = 0; round < 50; ++round) {
    const fs::path doomed = fs::path(dir.path()) / ("seg-" + std::to_string(round));
    make_file(doomed);  // closed again as the job only keeps its path
    sync_job job;
    job.target = static_cast<std::uint64_t>(round);
    job.acked_through = static_cast<std::uint64_t>(round);
    job.doomed = {doomed};
    const sync_outcome out = perform_sync(job, ack, written, -1, dir.path(), true);
    EXPECT_NE(out.error.find("ack record"), std::string::npos) << out.error;
    EXPECT_FALSE(fs::exists(doomed)) << "round " << round;
  }
  EXPECT_FALSE(written);
  EXPECT_LE(open_descriptors(), descriptors_before);
}

TEST(spool_sync_round, skips_the_data_sync_when_everything_is_acknowledged_but_still_writes_the_ack_record) {
  plant::test::temp_dir dir("sync");
  ack_file ack;
  bool created = false;
  ASSERT_FALSE(ack.open(fs::path(dir.path()) / "ack", created));
  sync_job job;
  job.files = {make_file(fs::path(dir.path()) / "seg")};
  job.target = 7;
  job.acked_through = 7;
  job.next_seq = 8;
  job.data_needs_sync = false;
  std::optional<ack_state> written;
  const sync_outcome out = perform_sync(job, ack, written, -1, dir.path(), true);
  EXPECT_TRUE(out.synced);
  ASSERT_TRUE(written);
  EXPECT_EQ(written->acked_through, 7u);
}

// The ack record is synced only when its seq reservation must reach the disk; a round
// that defers its records claims nothing for them.
TEST(spool_sync_round, syncs_the_ack_record_only_for_a_reservation_and_claims_nothing_deferred) {
  plant::test::temp_dir dir("sync");
  ack_file ack;
  bool created = false;
  ASSERT_FALSE(ack.open(fs::path(dir.path()) / "ack", created));
  std::optional<ack_state> written;
  sync_job job;
  job.target = 5;
  job.acked_through = 5;
  job.next_seq = 6;
  job.data_needs_sync = false;
  job.reserved_through = 300;
  job.boot = 77;
  job.ack_needs_sync = true;
  sync_outcome out = perform_sync(job, ack, written, -1, dir.path(), true);
  EXPECT_EQ(out.syncs, 1u) << "the reservation is synced";
  EXPECT_EQ(out.floor_on_disk, 301u);
  ASSERT_TRUE(written);
  EXPECT_EQ(written->reserved_through, 300u);
  EXPECT_EQ(written->boot, 77u);
  // Acknowledgements only: written in place, not synced, and the synced floor is not claimed again.
  job.acked_through = 9;
  job.target = 9;
  job.next_seq = 10;
  job.ack_needs_sync = false;
  out = perform_sync(job, ack, written, -1, dir.path(), true);
  EXPECT_EQ(out.syncs, 0u);
  EXPECT_TRUE(out.ack_written);
  EXPECT_EQ(out.floor_on_disk, 0u);
  EXPECT_EQ(ack.read().state->acked_through, 9u) << "a crash of the process keeps it (the page cache has it)";
  // Records left unsynced in their window: stored_through stays where it was.
  job.target = 12;
  job.next_seq = 13;
  job.claims_target = false;
  out = perform_sync(job, ack, written, -1, dir.path(), true);
  EXPECT_FALSE(out.synced);
  EXPECT_EQ(written->stored_through, 9u);
  // Nothing changed: nothing written.
  out = perform_sync(job, ack, written, -1, dir.path(), true);
  EXPECT_FALSE(out.ack_written);
}

TEST(spool_sync_worker, one_round_serves_every_request_queued_while_the_last_ran) {
  std::atomic<int> rounds{0};
  std::atomic<std::uint64_t> durable{0};
  std::atomic<int> answered{0};
  {
    sync_worker worker([] { return std::optional<sync_job>(sync_job{}); },
                       [&](const sync_job&) {
                         ++rounds;
                         std::this_thread::sleep_for(std::chrono::milliseconds(20));
                         sync_outcome out;
                         out.synced = true;
                         return out;
                       },
                       [&](const sync_outcome&) { return ++durable; });
    for (int i = 0; i < 20; ++i) worker.request([&](std::uint64_t) { ++answered; });
    ASSERT_TRUE(plant::test::wait_until([&] { return answered.load() == 20; }, std::chrono::seconds(10)));
  }
  // The first request starts a round; the other 19 arrive while it sleeps and share at most two more.
  EXPECT_LE(rounds.load(), 4);  // three, plus the final round at destruction
}

}  // namespace
}  // namespace plant::spool
