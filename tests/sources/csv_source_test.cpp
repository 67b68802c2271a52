#include "agent/sources/csv/csv_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace plant::sources {
namespace {

namespace fs = std::filesystem;

constexpr epoch_ms t0 = 1795332600000;  // 2026-11-22T07:30:00Z

std::vector<std::string> names_of(const poll_result& result) {
  std::vector<std::string> names;
  for (const auto& s : result.samples) names.push_back(s.name);
  return names;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class csv_source_test : public ::testing::Test {
 protected:
  csv_source_test() {
    fs::create_directories(in_dir());
    cfg_.common.name = "stock";
    cfg_.directory = in_dir().string();
    cfg_.settle_time = std::chrono::milliseconds(1000);
    cfg_.common.interval = std::chrono::milliseconds(2000);
  }

  fs::path in_dir() const { return fs::path(dir_.path()) / "in"; }
  fs::path state_dir() const { return fs::path(dir_.path()) / "state"; }

  /// Writes `name` in the input directory and sets its mtime (Unix ms).
  fs::path write(const std::string& name, const std::string& content, epoch_ms mtime_ms,
                 const fs::path& where = {}) const {
    const fs::path path = (where.empty() ? in_dir() : where) / name;
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << content;
    }
    set_mtime(path, mtime_ms);
    return path;
  }

  static void set_mtime(const fs::path& path, epoch_ms mtime_ms) {
    timespec times[2];
    times[0].tv_sec = mtime_ms / 1000;
    times[0].tv_nsec = (mtime_ms % 1000) * 1000000;
    times[1] = times[0];
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
  }

  csv_source make(std::size_t max_tracked = csv_source::default_max_tracked) const {
    return csv_source(cfg_, state_dir(), max_tracked);
  }

  plant::test::temp_dir dir_{"csv-source"};
  sources::csv_settings cfg_;
};

const std::string two_rows = "material,quantity\nbolt,5\nnut,7\n";

TEST_F(csv_source_test, describes_itself) {
  cfg_.common.interval = std::chrono::milliseconds(1234);
  auto source = make();
  EXPECT_EQ(source.name(), "stock");
  EXPECT_EQ(source.kind(), "csv");
  EXPECT_EQ(source.interval(), std::chrono::milliseconds(1234));
  EXPECT_FALSE(source.blocking());
  EXPECT_FALSE(source.reports_current_values());
  EXPECT_EQ(source.state_file(), state_dir() / "csv" / "stock.seen");
}

TEST_F(csv_source_test, complete_file_is_read_on_the_poll_after_it_was_first_seen) {
  write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  const auto first = source.poll(t0);
  EXPECT_TRUE(first.samples.empty());
  EXPECT_FALSE(first.error);

  const auto second = source.poll(t0 + 2000);
  EXPECT_FALSE(second.error);
  EXPECT_TRUE(second.rejects.empty());
  ASSERT_EQ(names_of(second), (std::vector<std::string>{"bolt", "nut"}));
  EXPECT_EQ(second.samples[0].source_time, t0 - 5000);  // the file's mtime
  EXPECT_EQ(second.samples[0].receive_time, t0 + 2000);
  EXPECT_DOUBLE_EQ(second.samples[1].quantity, 7.0);
}

TEST_F(csv_source_test, file_still_being_written_is_not_read) {
  const auto path = write("stock.csv", "material,quantity\nbolt,5\n", t0 - 5000);
  auto source = make();
  source.poll(t0);
  // The writer appends between the polls: size and mtime change.
  write("stock.csv", two_rows, t0 + 1500);
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  // Unchanged since the last poll, but modified only 500 ms ago: not settled.
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  EXPECT_EQ(names_of(source.poll(t0 + 4000)), (std::vector<std::string>{"bolt", "nut"}));
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(csv_source_test, settle_time_is_measured_from_the_mtime) {
  cfg_.settle_time = std::chrono::milliseconds(3000);
  write("stock.csv", two_rows, t0);
  auto source = make();
  EXPECT_TRUE(source.poll(t0).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 2999).samples.empty());
  EXPECT_EQ(source.poll(t0 + 3000).samples.size(), 2u);
}

TEST_F(csv_source_test, file_without_final_newline_waits_ten_settle_times) {
  write("stock.csv", "material,quantity\nbolt,5", t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 9999).samples.empty());
  EXPECT_EQ(names_of(source.poll(t0 + 10000)), (std::vector<std::string>{"bolt"}));
}

TEST_F(csv_source_test, empty_file_waits_like_an_unterminated_one_then_is_rejected) {
  write("stock.csv", "", t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_TRUE(source.poll(t0 + 9999).rejects.empty());
  EXPECT_EQ(source.poll(t0 + 10000).rejects,
            (std::vector<std::string>{"stock.csv:1: no header (the file is empty)"}));
  EXPECT_EQ(source.rejected_files(), 1u);
  // Filled later: a new version, read normally.
  write("stock.csv", two_rows, t0 + 11000);
  source.poll(t0 + 12000);
  EXPECT_EQ(source.poll(t0 + 14000).samples.size(), 2u);
}

TEST_F(csv_source_test, mtime_in_the_future_settles_on_observed_time) {
  // The writer's clock is a minute ahead of ours.
  write("stock.csv", two_rows, t0 + 60000);
  auto source = make();
  source.poll(t0);
  EXPECT_TRUE(source.poll(t0 + 999).samples.empty());
  const auto result = source.poll(t0 + 1000);
  ASSERT_EQ(result.samples.size(), 2u);
  EXPECT_EQ(result.samples[0].source_time, t0 + 60000);
}

TEST_F(csv_source_test, appended_final_newline_makes_the_file_complete_normally) {
  write("stock.csv", "material,quantity\nbolt,5", t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  write("stock.csv", "material,quantity\nbolt,5\n", t0 + 2500);
  EXPECT_TRUE(source.poll(t0 + 4000).samples.empty());  // changed since the last poll
  EXPECT_EQ(names_of(source.poll(t0 + 6000)), (std::vector<std::string>{"bolt"}));
}

TEST_F(csv_source_test, files_are_read_oldest_first_with_quoting_bom_and_crlf) {
  write("b.csv", "\xEF\xBB\xBFmaterial,quantity\r\n\"hex, M8\",\"1e2\"\r\n", t0 - 3000);
  write("a.csv", "material,quantity\n\"two\nline\",1\nbad,x\n", t0 - 4000);
  auto source = make();
  source.poll(t0);
  const auto result = source.poll(t0 + 2000);
  EXPECT_EQ(names_of(result), (std::vector<std::string>{"two\nline", "hex, M8"}));
  EXPECT_EQ(result.rejects, (std::vector<std::string>{"a.csv:4: quantity: 'x' is not a number"}));
}

TEST_F(csv_source_test, handed_out_files_are_not_returned_again_before_commit) {
  write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  EXPECT_EQ(source.pending_files(), 1u);
  EXPECT_TRUE(source.poll(t0 + 4000).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 6000).samples.empty());
  source.commit();
  EXPECT_EQ(source.pending_files(), 0u);
  EXPECT_TRUE(source.poll(t0 + 8000).samples.empty());
}

TEST_F(csv_source_test, keep_remembers_committed_files_across_restarts) {
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  {
    auto source = make();
    source.poll(t0);
    EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
    source.commit();
  }
  EXPECT_NE(read_text(state_dir() / "csv" / "stock.seen").find(std::to_string(two_rows.size()) + " " +
                                                                std::to_string((t0 - 5000) * 1000000) + " stock.csv\n"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(state_dir() / "csv" / "stock.seen.tmp"));

  auto restarted = make();
  EXPECT_TRUE(restarted.poll(t0 + 10000).samples.empty());
  EXPECT_TRUE(restarted.poll(t0 + 12000).samples.empty());
  EXPECT_TRUE(fs::exists(path));

  // A new version of the same file is a new file.
  write("stock.csv", two_rows + "washer,9\n", t0 + 13000);
  EXPECT_TRUE(restarted.poll(t0 + 14000).samples.empty());
  EXPECT_EQ(restarted.poll(t0 + 16000).samples.size(), 3u);
}

TEST_F(csv_source_test, uncommitted_files_are_read_again_after_a_restart) {
  write("stock.csv", two_rows, t0 - 5000);
  {
    auto source = make();
    source.poll(t0);
    EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
    // dies before commit()
  }
  auto restarted = make();
  restarted.poll(t0 + 10000);
  EXPECT_EQ(names_of(restarted.poll(t0 + 12000)), (std::vector<std::string>{"bolt", "nut"}));
}

TEST_F(csv_source_test, keep_prunes_entries_of_files_that_are_gone) {
  const auto gone = write("gone.csv", two_rows, t0 - 5000);
  write("stays.csv", two_rows, t0 - 4000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 4u);
  source.commit();
  const fs::path state = state_dir() / "csv" / "stock.seen";
  EXPECT_NE(read_text(state).find("gone.csv"), std::string::npos);
  fs::remove(gone);
  source.poll(t0 + 4000);
  EXPECT_EQ(read_text(state).find("gone.csv"), std::string::npos);
  EXPECT_NE(read_text(state).find("stays.csv"), std::string::npos);
}

TEST_F(csv_source_test, file_rewritten_while_handed_out_is_read_again_after_commit) {
  write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  write("stock.csv", "material,quantity\nwasher,1\n", t0 + 2500);
  source.commit();
  source.poll(t0 + 4000);
  EXPECT_EQ(names_of(source.poll(t0 + 6000)), (std::vector<std::string>{"washer"}));
}

TEST_F(csv_source_test, delete_unlinks_only_on_commit) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  EXPECT_TRUE(fs::exists(path));
  source.commit();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
}

TEST_F(csv_source_test, delete_spares_a_file_rewritten_since_it_was_read) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  write("stock.csv", "material,quantity\nwasher,1\n", t0 + 2500);
  source.commit();
  ASSERT_TRUE(fs::exists(path));
  source.poll(t0 + 4000);
  EXPECT_EQ(names_of(source.poll(t0 + 6000)), (std::vector<std::string>{"washer"}));
  source.commit();
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(csv_source_test, move_renames_into_move_to_and_avoids_clashes) {
  cfg_.after = sources::csv_after::move;
  cfg_.move_to = (fs::path(dir_.path()) / "archive" / "done").string();
  fs::create_directories(cfg_.move_to);
  write("stock.csv", "old", t0 - 90000, cfg_.move_to);
  write("stock.csv.1", "older", t0 - 90000, cfg_.move_to);
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  EXPECT_TRUE(fs::exists(path));
  source.commit();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(read_text(fs::path(cfg_.move_to) / "stock.csv"), "old");
  EXPECT_EQ(read_text(fs::path(cfg_.move_to) / "stock.csv.1"), "older");
  EXPECT_EQ(read_text(fs::path(cfg_.move_to) / "stock.csv.2"), two_rows);
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
}

TEST_F(csv_source_test, move_defaults_to_a_done_directory_it_creates) {
  cfg_.after = sources::csv_after::move;
  write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  source.commit();
  EXPECT_EQ(read_text(in_dir() / "done" / "stock.csv"), two_rows);
  EXPECT_TRUE(source.poll(t0 + 4000).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 6000).samples.empty());
}

TEST_F(csv_source_test, move_across_filesystems_copies_then_unlinks) {
  struct stat tmp_stat {}, shm_stat {};
  if (::stat(dir_.path().c_str(), &tmp_stat) != 0 || ::stat("/dev/shm", &shm_stat) != 0 ||
      tmp_stat.st_dev == shm_stat.st_dev || ::access("/dev/shm", W_OK) != 0) {
    GTEST_SKIP() << "needs /dev/shm on a filesystem other than the temp dir";
  }
  std::string pattern = "/dev/shm/csv-move-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path other(pattern);
  cfg_.after = sources::csv_after::move;
  cfg_.move_to = other.string();
  write("stock.csv", "clash", t0, other);
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  source.commit();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(read_text(other / "stock.csv"), "clash");
  EXPECT_EQ(read_text(other / "stock.csv.1"), two_rows);
  EXPECT_FALSE(fs::exists(other / ".stock.csv.moving"));
  fs::remove_all(other);
}

TEST_F(csv_source_test, oversize_file_is_rejected_once_and_left_alone) {
  cfg_.after = sources::csv_after::remove;
  cfg_.max_file_bytes = 20;
  const auto big = write("big.csv", two_rows, t0 - 5000);  // 31 bytes
  auto source = make();
  source.poll(t0);
  const auto second = source.poll(t0 + 2000);
  EXPECT_TRUE(second.samples.empty());
  EXPECT_EQ(second.rejects, (std::vector<std::string>{"big.csv: 31 bytes is over max_file_bytes (20); not read"}));
  EXPECT_EQ(source.rejected_files(), 1u);
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
  EXPECT_TRUE(source.poll(t0 + 6000).rejects.empty());
  EXPECT_EQ(source.rejected_files(), 1u);
  EXPECT_TRUE(fs::exists(big));

  // Remembered across a restart too.
  auto restarted = make();
  restarted.poll(t0 + 8000);
  EXPECT_TRUE(restarted.poll(t0 + 10000).rejects.empty());
}

TEST_F(csv_source_test, file_with_missing_column_is_rejected_once_and_kept) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", "material,qty\nbolt,5\n", t0 - 5000);
  write("good.csv", two_rows, t0 - 4000);
  auto source = make();
  source.poll(t0);
  const auto result = source.poll(t0 + 2000);
  EXPECT_EQ(names_of(result), (std::vector<std::string>{"bolt", "nut"}));
  EXPECT_EQ(result.rejects,
            (std::vector<std::string>{"stock.csv:1: no column 'quantity' in the header (columns: material, qty)"}));
  EXPECT_EQ(source.rejected_files(), 1u);
  source.commit();
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(in_dir() / "good.csv"));
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
}

TEST_F(csv_source_test, file_without_good_rows_is_finished_without_commit) {
  write("stock.csv", "material,quantity\nbolt,x\n", t0 - 5000);
  {
    auto source = make();
    source.poll(t0);
    const auto result = source.poll(t0 + 2000);
    EXPECT_TRUE(result.samples.empty());
    EXPECT_EQ(result.rejects, (std::vector<std::string>{"stock.csv:2: quantity: 'x' is not a number"}));
    EXPECT_EQ(source.pending_files(), 0u);
    EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
  }
  auto restarted = make();
  restarted.poll(t0 + 6000);
  EXPECT_TRUE(restarted.poll(t0 + 8000).rejects.empty());
}

TEST_F(csv_source_test, only_visible_matching_regular_files_are_read) {
  cfg_.pattern = "*";
  for (const char* name : {".hidden.csv", "a.tmp", "a.part", "a.partial", "a.swp", "a.csv~"}) {
    write(name, two_rows, t0 - 5000);
  }
  fs::create_directories(in_dir() / "dir.csv");
  write("real.csv", "material,quantity\nreal,1\n", t0 - 5000);
  auto source = make();
  source.poll(t0);
  const auto result = source.poll(t0 + 2000);
  EXPECT_EQ(names_of(result), (std::vector<std::string>{"real"}));
  EXPECT_TRUE(result.rejects.empty());
}

TEST_F(csv_source_test, pattern_selects_files) {
  cfg_.pattern = "stock_*.csv";
  write("stock_1.csv", "material,quantity\none,1\n", t0 - 5000);
  write("other.csv", two_rows, t0 - 5000);
  write("stock_2.txt", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(names_of(source.poll(t0 + 2000)), (std::vector<std::string>{"one"}));
}

TEST_F(csv_source_test, missing_directory_is_a_poll_error_and_retried) {
  cfg_.directory = (fs::path(dir_.path()) / "missing").string();
  auto source = make();
  const auto result = source.poll(t0);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(*result.error, "directory '" + cfg_.directory + "': No such file or directory");
  EXPECT_TRUE(source.poll(t0 + 2000).error);

  fs::create_directories(cfg_.directory);
  write("stock.csv", two_rows, t0 - 5000, cfg_.directory);
  EXPECT_FALSE(source.poll(t0 + 4000).error);
  EXPECT_EQ(source.poll(t0 + 6000).samples.size(), 2u);
}

TEST_F(csv_source_test, tracking_is_bounded_and_overflow_reported_once) {
  for (const char* name : {"a.csv", "b.csv", "c.csv"}) write(name, two_rows, t0 - 5000);
  auto source = make(2);
  const auto first = source.poll(t0);
  EXPECT_EQ(first.rejects, (std::vector<std::string>{"directory '" + in_dir().string() +
                                                     "': more than 2 files match '*.csv'; 1 not tracked until "
                                                     "others are gone"}));
  const auto second = source.poll(t0 + 2000);
  EXPECT_EQ(second.samples.size(), 4u);
  EXPECT_TRUE(second.rejects.empty());
  EXPECT_EQ(source.untracked_files(), 2u);
}

TEST_F(csv_source_test, malformed_state_entries_are_reported_and_skipped) {
  fs::create_directories(state_dir() / "csv");
  {
    std::ofstream out(state_dir() / "csv" / "stock.seen");
    out << "# plant-agent csv seen-state v1\n" << two_rows.size() << " " << (t0 - 5000) * 1000000
        << " stock.csv\ngarbage\n-1 x y\n";
  }
  write("stock.csv", two_rows, t0 - 5000);
  auto source = make();
  const auto first = source.poll(t0);
  EXPECT_EQ(first.rejects, (std::vector<std::string>{"state file '" + (state_dir() / "csv" / "stock.seen").string() +
                                                     "':3: 2 malformed entries ignored"}));
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());  // the good entry still counts
}

TEST_F(csv_source_test, unwritable_state_dir_is_reported_once_and_files_still_flow) {
  // A regular file where the state directory should be makes every save fail, even for root.
  { std::ofstream(state_dir().string()) << "x"; }
  write("a.csv", two_rows, t0 - 5000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  source.commit();
  const auto next = source.poll(t0 + 4000);
  ASSERT_EQ(next.rejects.size(), 1u);
  EXPECT_EQ(next.rejects[0].rfind("state file '" + (state_dir() / "csv" / "stock.seen").string() + "': cannot create", 0),
            0u)
      << next.rejects[0];
  EXPECT_TRUE(next.samples.empty());
  EXPECT_TRUE(source.poll(t0 + 6000).rejects.empty());
}

TEST_F(csv_source_test, unreadable_file_is_reported_once_and_retried) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  fs::permissions(path, fs::perms::none);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).rejects, (std::vector<std::string>{"stock.csv: cannot read: Permission denied"}));
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
  fs::permissions(path, fs::perms::owner_read);
  EXPECT_EQ(source.poll(t0 + 6000).samples.size(), 2u);
}

TEST_F(csv_source_test, big_backlog_is_spread_over_polls) {
  cfg_.max_file_bytes = 40;
  write("a.csv", two_rows, t0 - 5000);  // 31 bytes each: two do not fit in one poll
  write("b.csv", two_rows, t0 - 4000);
  auto source = make();
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).samples.size(), 2u);
  EXPECT_EQ(source.poll(t0 + 4000).samples.size(), 2u);
  EXPECT_EQ(source.pending_files(), 2u);
}

}  // namespace
}  // namespace plant::sources
