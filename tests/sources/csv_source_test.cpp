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

  std::unique_ptr<csv_source> make(std::size_t max_tracked = csv_source::default_max_tracked) const {
    return std::make_unique<csv_source>(cfg_, state_dir(), max_tracked);
  }

  plant::test::temp_dir dir_{"csv-source"};
  sources::csv_settings cfg_;
};

const std::string two_rows = "material,quantity\nbolt,5\nnut,7\n";

// What the core does with a poll that says `more`: poll again at once. Returns
// everything the polls gave and the tokens to settle.
struct drained {
  std::vector<sample> samples;
  std::vector<std::string> rejects;
  std::vector<std::uint64_t> tokens;
  std::optional<std::string> error;
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& s : samples) out.push_back(s.name);
    return out;
  }
};

drained drain(csv_source& source, epoch_ms now) {
  drained out;
  for (int polls = 0; polls < 10000; ++polls) {
    poll_result r = source.poll(now);
    out.samples.insert(out.samples.end(), r.samples.begin(), r.samples.end());
    out.rejects.insert(out.rejects.end(), r.rejects.begin(), r.rejects.end());
    if (r.settle_token != 0) out.tokens.push_back(r.settle_token);
    if (r.error) out.error = r.error;
    if (!r.more) break;
  }
  return out;
}

// What the core does once the samples are on disk (or acknowledged).
void settle_all(csv_source& source, const drained& d, bool safe = true) {
  for (auto token : d.tokens) source.settle(token, safe);
}

TEST_F(csv_source_test, describes_itself) {
  cfg_.common.interval = std::chrono::milliseconds(1234);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  EXPECT_EQ(source.name(), "stock");
  EXPECT_EQ(source.kind(), "csv");
  EXPECT_EQ(source.interval(), std::chrono::milliseconds(1234));
  EXPECT_FALSE(source.blocking());
  EXPECT_FALSE(source.reports_current_values());
  EXPECT_EQ(source.state_file(), state_dir() / "csv" / "stock.seen");
}

TEST_F(csv_source_test, complete_file_is_read_on_the_poll_after_it_was_first_seen) {
  write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
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
  auto source_ptr = make();
  csv_source& source = *source_ptr;
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
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  EXPECT_TRUE(source.poll(t0).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 2999).samples.empty());
  EXPECT_EQ(source.poll(t0 + 3000).samples.size(), 2u);
}

TEST_F(csv_source_test, file_without_final_newline_waits_ten_settle_times) {
  write("stock.csv", "material,quantity\nbolt,5", t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 9999).samples.empty());
  EXPECT_EQ(names_of(source.poll(t0 + 10000)), (std::vector<std::string>{"bolt"}));
}

TEST_F(csv_source_test, empty_file_waits_like_an_unterminated_one_then_is_rejected) {
  write("stock.csv", "", t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
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
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  EXPECT_TRUE(source.poll(t0 + 999).samples.empty());
  const auto result = source.poll(t0 + 1000);
  ASSERT_EQ(result.samples.size(), 2u);
  EXPECT_EQ(result.samples[0].source_time, t0 + 60000);
}

TEST_F(csv_source_test, appended_final_newline_makes_the_file_complete_normally) {
  write("stock.csv", "material,quantity\nbolt,5", t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  EXPECT_TRUE(source.poll(t0 + 2000).samples.empty());
  write("stock.csv", "material,quantity\nbolt,5\n", t0 + 2500);
  EXPECT_TRUE(source.poll(t0 + 4000).samples.empty());  // changed since the last poll
  EXPECT_EQ(names_of(source.poll(t0 + 6000)), (std::vector<std::string>{"bolt"}));
}

TEST_F(csv_source_test, files_are_read_oldest_first_with_quoting_bom_and_crlf) {
  write("b.csv", "\xEF\xBB\xBFmaterial,quantity\r\n\"hex, M8\",\"1e2\"\r\n", t0 - 3000);
  write("a.csv", "material,quantity\n\"two\nline\",1\nbad,x\n", t0 - 4000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto result = drain(source, t0 + 2000);
  // A newline inside quotes is CSV, but not a name anything downstream can show: refused.
  EXPECT_EQ(result.names(), (std::vector<std::string>{"hex, M8"}));
  EXPECT_EQ(result.rejects, (std::vector<std::string>{"a.csv:2: material: control character U+000A",
                                                      "a.csv:4: quantity: 'x' is not a number"}));
  EXPECT_EQ(result.tokens.size(), 2u) << "one chunk per file";
}

TEST_F(csv_source_test, handed_out_files_are_not_returned_again_before_they_settle) {
  write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  EXPECT_EQ(source.pending_files(), 1u);
  EXPECT_TRUE(source.poll(t0 + 4000).samples.empty());
  EXPECT_TRUE(source.poll(t0 + 6000).samples.empty());
  settle_all(source, got);
  EXPECT_EQ(source.pending_files(), 0u);
  EXPECT_TRUE(source.poll(t0 + 8000).samples.empty());
}

TEST_F(csv_source_test, keep_remembers_settled_files_across_restarts) {
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  {
    auto source_ptr = make();
    csv_source& source = *source_ptr;
    source.poll(t0);
    const auto got = drain(source, t0 + 2000);
    EXPECT_EQ(got.samples.size(), 2u);
    settle_all(source, got);
  }
  const std::string state = read_text(state_dir() / "csv" / "stock.seen");
  EXPECT_EQ(state.rfind("# plant-agent csv seen-state v2\n" + std::to_string(two_rows.size()) + " " +
                            std::to_string((t0 - 5000) * 1000000) + " ",
                        0),
            0u)
      << state;
  EXPECT_NE(state.find(" stock.csv\n"), std::string::npos) << state;
  EXPECT_FALSE(fs::exists(state_dir() / "csv" / "stock.seen.tmp"));

  auto restarted_ptr = make();
  csv_source& restarted = *restarted_ptr;
  EXPECT_TRUE(restarted.poll(t0 + 10000).samples.empty());
  EXPECT_TRUE(restarted.poll(t0 + 12000).samples.empty());
  EXPECT_TRUE(fs::exists(path));

  // A new version of the same file is a new file.
  write("stock.csv", two_rows + "washer,9\n", t0 + 13000);
  EXPECT_TRUE(restarted.poll(t0 + 14000).samples.empty());
  EXPECT_EQ(drain(restarted, t0 + 16000).samples.size(), 3u);
}

// D7: a new export with the same name, size and mtime (cp -p, rsync -t, unzip, FAT's
// 2 s mtimes) used to be ignored for ever with after = "keep".
TEST_F(csv_source_test, keep_reads_a_new_export_with_the_same_name_size_and_mtime) {
  const std::string first = "material,quantity\nbolt,5\n";
  const std::string second = "material,quantity\nbolt,6\n";  // same size
  write("stock.csv", first, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  ASSERT_EQ(got.samples.size(), 1u);
  settle_all(source, got);
  // Replaced by rename, as an export tool does, keeping the old mtime.
  const fs::path staged = fs::path(dir_.path()) / "staged.csv";
  write("staged.csv", second, t0 - 5000, fs::path(dir_.path()));
  fs::rename(staged, in_dir() / "stock.csv");
  source.poll(t0 + 4000);
  const auto again = drain(source, t0 + 6000);
  ASSERT_EQ(again.samples.size(), 1u) << "the new content must be read";
  EXPECT_DOUBLE_EQ(again.samples[0].quantity, 6.0);
  // A change of metadata only (chmod) is not a new version.
  settle_all(source, again);
  fs::permissions(in_dir() / "stock.csv", fs::perms::owner_all);
  source.poll(t0 + 8000);
  EXPECT_TRUE(drain(source, t0 + 10000).samples.empty());
}

TEST_F(csv_source_test, unsettled_files_are_read_again_after_a_restart) {
  write("stock.csv", two_rows, t0 - 5000);
  {
    auto source_ptr = make();
    csv_source& source = *source_ptr;
    source.poll(t0);
    EXPECT_EQ(drain(source, t0 + 2000).samples.size(), 2u);
    // dies before the chunk settles
  }
  auto restarted_ptr = make();
  csv_source& restarted = *restarted_ptr;
  restarted.poll(t0 + 10000);
  EXPECT_EQ(drain(restarted, t0 + 12000).names(), (std::vector<std::string>{"bolt", "nut"}));
}

TEST_F(csv_source_test, a_chunk_dropped_before_it_was_safe_makes_the_file_read_again) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  ASSERT_EQ(got.samples.size(), 2u);
  settle_all(source, got, false);
  EXPECT_TRUE(fs::exists(path)) << "nothing is given up that was not safe";
  EXPECT_EQ(source.pending_files(), 0u);
  const auto again = drain(source, t0 + 4000);
  EXPECT_EQ(again.names(), (std::vector<std::string>{"bolt", "nut"}));
  settle_all(source, again);
  EXPECT_FALSE(fs::exists(path));
}

// D5: a whole file used to be parsed into memory before batching (1,000,000 rows
// peaked at 359 MB RSS). It is read in chunks, each handed out as it is read.
TEST_F(csv_source_test, a_big_file_is_read_in_bounded_chunks_and_given_up_when_every_chunk_is_safe) {
  cfg_.after = sources::csv_after::remove;
  const std::size_t rows = 3 * csv_source::rows_per_poll + 17;
  std::string text = "material,quantity\n";
  for (std::size_t i = 0; i < rows; ++i) text += "m" + std::to_string(i) + "," + std::to_string(i) + "\n";
  const auto path = write("big.csv", text, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  std::vector<std::uint64_t> tokens;
  std::size_t total = 0;
  std::size_t polls = 0;
  for (bool more = true; more; ++polls) {
    const poll_result r = source.poll(t0 + 2000);
    EXPECT_LE(r.samples.size(), csv_source::rows_per_poll);
    total += r.samples.size();
    if (r.settle_token != 0) tokens.push_back(r.settle_token);
    more = r.more;
  }
  EXPECT_EQ(total, rows);
  EXPECT_GE(polls, 4u);
  // Out of order, as acknowledgements may come; the file goes only with the last one.
  for (std::size_t i = tokens.size(); i-- > 1;) {
    source.settle(tokens[i], true);
    EXPECT_TRUE(fs::exists(path));
  }
  source.settle(tokens[0], true);
  EXPECT_FALSE(fs::exists(path));
}

// D3: one invalid UTF-8 byte in a cell made the whole batch undecodable downstream.
TEST_F(csv_source_test, a_cell_that_is_not_utf8_or_holds_control_characters_rejects_its_row_only) {
  write("export.csv", "material,quantity\nsteel-coil,100\n\xff\xfe" "bad,5\nresin,7\nesc\x1b[2J,1\n", t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.names(), (std::vector<std::string>{"steel-coil", "resin"}));
  EXPECT_EQ(got.rejects, (std::vector<std::string>{"export.csv:3: material: invalid UTF-8",
                                                   "export.csv:5: material: control character U+001B"}));
}

// D8: a link in the drop directory was followed, and the "missing column" error
// printed the target's first line: a link to the password file showed the password.
TEST_F(csv_source_test, links_are_not_followed_and_a_bad_header_is_shown_short_and_escaped) {
  const fs::path secret = fs::path(dir_.path()) / "password";
  { std::ofstream(secret) << "hunter2-the-broker-password\n"; }
  fs::create_symlink(secret, in_dir() / "stock.csv");
  std::string wide_header = "a\x1b]0;owned\x07";
  for (int i = 0; i < 50; ++i) wide_header += ",col" + std::to_string(i);
  write("wide.csv", wide_header + "\n1\n", t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  const auto first = drain(source, t0);
  const auto got = drain(source, t0 + 2000);
  std::string all;
  for (const auto& r : first.rejects) all += r + "\n";
  for (const auto& r : got.rejects) all += r + "\n";
  EXPECT_EQ(all.find("hunter2"), std::string::npos) << all;
  EXPECT_NE(all.find("'stock.csv': a symbolic link; not followed, not read"), std::string::npos) << all;
  EXPECT_EQ(all.find('\x1b'), std::string::npos) << "escape sequences reach the log raw: " << all;
  EXPECT_NE(all.find("wide.csv:1: no column 'material' in the header (columns: 'a\\x1B]0;owned\\x07', 'col0'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("... (51 columns)"), std::string::npos) << all;
  EXPECT_LT(all.size(), 1000u);
  EXPECT_TRUE(got.samples.empty());
}

// A row over the record limit is skipped whole: its tail (which may look like a
// row of its own) is not read as one, and a header over the limit refuses the file.
TEST_F(csv_source_test, a_row_longer_than_the_record_limit_is_skipped_whole_and_such_a_header_refuses_the_file) {
  // Longer than two reads, so the row cannot be in the buffer whole.
  const std::string long_cell(3 * csv_source::max_record_bytes + 4096, 'x');
  write("long-row.csv", "material,quantity\nbolt,5\n" + long_cell + "junk,1\nnut,7\n", t0 - 5000);
  write("long-header.csv", "material," + long_cell + "\nquantity,1\nbolt,5\n", t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  drain(source, t0);
  drained got = drain(source, t0 + 2000);
  for (int more_files = 0; more_files < 3; ++more_files) {
    drained next = drain(source, t0 + 2000);
    got.samples.insert(got.samples.end(), next.samples.begin(), next.samples.end());
    got.rejects.insert(got.rejects.end(), next.rejects.begin(), next.rejects.end());
  }
  EXPECT_EQ(got.names(), (std::vector<std::string>{"bolt", "nut"}));
  const std::string limit = std::to_string(csv_source::max_record_bytes);
  EXPECT_EQ(got.rejects, (std::vector<std::string>{
                             "long-header.csv:1: the header is longer than " + limit + " bytes; the file is not read",
                             "long-row.csv:3: a row longer than " + limit + " bytes; skipped"}));
}

TEST_F(csv_source_test, keep_prunes_entries_of_files_that_are_gone) {
  const auto gone = write("gone.csv", two_rows, t0 - 5000);
  write("stays.csv", two_rows, t0 - 4000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 4u);
  settle_all(source, got);
  const fs::path state = state_dir() / "csv" / "stock.seen";
  EXPECT_NE(read_text(state).find("gone.csv"), std::string::npos);
  fs::remove(gone);
  source.poll(t0 + 4000);
  EXPECT_EQ(read_text(state).find("gone.csv"), std::string::npos);
  EXPECT_NE(read_text(state).find("stays.csv"), std::string::npos);
}

TEST_F(csv_source_test, file_rewritten_while_handed_out_is_read_again_after_it_settles) {
  write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  write("stock.csv", "material,quantity\nwasher,1\n", t0 + 2500);
  settle_all(source, got);
  source.poll(t0 + 4000);
  EXPECT_EQ(drain(source, t0 + 6000).names(), (std::vector<std::string>{"washer"}));
}

TEST_F(csv_source_test, delete_unlinks_only_when_the_rows_are_safe) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  EXPECT_TRUE(fs::exists(path));
  settle_all(source, got);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
}

TEST_F(csv_source_test, delete_spares_a_file_rewritten_since_it_was_read) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  write("stock.csv", "material,quantity\nwasher,1\n", t0 + 2500);
  settle_all(source, got);
  ASSERT_TRUE(fs::exists(path));
  source.poll(t0 + 4000);
  const auto again = drain(source, t0 + 6000);
  EXPECT_EQ(again.names(), (std::vector<std::string>{"washer"}));
  settle_all(source, again);
  EXPECT_FALSE(fs::exists(path));
}

// D7: a replacement with the same size and mtime was deleted unread.
TEST_F(csv_source_test, delete_spares_a_replacement_with_the_same_size_and_mtime) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", "material,quantity\nbolt,5\n", t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  ASSERT_EQ(got.samples.size(), 1u);
  write("next.csv.tmp", "material,quantity\nbolt,6\n", t0 - 5000);  // same size, same mtime
  fs::rename(in_dir() / "next.csv.tmp", path);
  settle_all(source, got);
  ASSERT_TRUE(fs::exists(path)) << "the replacement was deleted unread";
  EXPECT_EQ(read_text(path), "material,quantity\nbolt,6\n");
  source.poll(t0 + 4000);
  const auto again = drain(source, t0 + 6000);
  ASSERT_EQ(again.samples.size(), 1u);
  EXPECT_DOUBLE_EQ(again.samples[0].quantity, 6.0);
}

TEST_F(csv_source_test, move_renames_into_move_to_and_avoids_clashes) {
  cfg_.after = sources::csv_after::move;
  cfg_.move_to = (fs::path(dir_.path()) / "archive" / "done").string();
  fs::create_directories(cfg_.move_to);
  write("stock.csv", "old", t0 - 90000, cfg_.move_to);
  write("stock.csv.1", "older", t0 - 90000, cfg_.move_to);
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  EXPECT_TRUE(fs::exists(path));
  settle_all(source, got);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(read_text(fs::path(cfg_.move_to) / "stock.csv"), "old");
  EXPECT_EQ(read_text(fs::path(cfg_.move_to) / "stock.csv.1"), "older");
  EXPECT_EQ(read_text(fs::path(cfg_.move_to) / "stock.csv.2"), two_rows);
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
}

TEST_F(csv_source_test, move_defaults_to_a_done_directory_it_creates) {
  cfg_.after = sources::csv_after::move;
  write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  settle_all(source, got);
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
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  settle_all(source, got);
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
  auto source_ptr = make();
  csv_source& source = *source_ptr;
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
  auto restarted_ptr = make();
  csv_source& restarted = *restarted_ptr;
  restarted.poll(t0 + 8000);
  EXPECT_TRUE(restarted.poll(t0 + 10000).rejects.empty());
}

TEST_F(csv_source_test, file_with_missing_column_is_rejected_once_and_kept) {
  cfg_.after = sources::csv_after::remove;
  const auto path = write("stock.csv", "material,qty\nbolt,5\n", t0 - 5000);
  write("good.csv", two_rows, t0 - 4000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto result = drain(source, t0 + 2000);
  EXPECT_EQ(result.names(), (std::vector<std::string>{"bolt", "nut"}));
  EXPECT_EQ(result.rejects, (std::vector<std::string>{
                                "stock.csv:1: no column 'quantity' in the header (columns: 'material', 'qty')"}));
  EXPECT_EQ(source.rejected_files(), 1u);
  settle_all(source, result);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(in_dir() / "good.csv"));
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
}

TEST_F(csv_source_test, file_without_good_rows_is_finished_when_its_chunk_settles) {
  write("stock.csv", "material,quantity\nbolt,x\n", t0 - 5000);
  {
    auto source_ptr = make();
    csv_source& source = *source_ptr;
    source.poll(t0);
    const auto result = drain(source, t0 + 2000);
    EXPECT_TRUE(result.samples.empty());
    EXPECT_EQ(result.rejects, (std::vector<std::string>{"stock.csv:2: quantity: 'x' is not a number"}));
    settle_all(source, result);
    EXPECT_EQ(source.pending_files(), 0u);
    EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
  }
  auto restarted_ptr = make();
  csv_source& restarted = *restarted_ptr;
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
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto result = drain(source, t0 + 2000);
  EXPECT_EQ(result.names(), (std::vector<std::string>{"real"}));
  EXPECT_TRUE(result.rejects.empty());
}

TEST_F(csv_source_test, pattern_selects_files) {
  cfg_.pattern = "stock_*.csv";
  write("stock_1.csv", "material,quantity\none,1\n", t0 - 5000);
  write("other.csv", two_rows, t0 - 5000);
  write("stock_2.txt", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  EXPECT_EQ(drain(source, t0 + 2000).names(), (std::vector<std::string>{"one"}));
}

TEST_F(csv_source_test, missing_directory_is_a_poll_error_and_retried) {
  cfg_.directory = (fs::path(dir_.path()) / "missing").string();
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  const auto result = source.poll(t0);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(*result.error, "directory '" + cfg_.directory + "': No such file or directory");
  EXPECT_TRUE(source.poll(t0 + 2000).error);

  fs::create_directories(cfg_.directory);
  write("stock.csv", two_rows, t0 - 5000, cfg_.directory);
  EXPECT_FALSE(source.poll(t0 + 4000).error);
  EXPECT_EQ(drain(source, t0 + 6000).samples.size(), 2u);
}

TEST_F(csv_source_test, tracking_is_bounded_and_overflow_reported_once) {
  for (const char* name : {"a.csv", "b.csv", "c.csv"}) write(name, two_rows, t0 - 5000);
  auto source_ptr = make(2);
  csv_source& source = *source_ptr;
  const auto first = source.poll(t0);
  EXPECT_EQ(first.rejects, (std::vector<std::string>{"directory '" + in_dir().string() +
                                                     "': more than 2 files match '*.csv'; 1 not tracked until "
                                                     "others are gone"}));
  const auto second = drain(source, t0 + 2000);
  EXPECT_EQ(second.samples.size(), 4u);
  EXPECT_TRUE(second.rejects.empty());
  EXPECT_GE(source.untracked_files(), 2u);
}

TEST_F(csv_source_test, a_v1_state_file_still_counts_and_malformed_entries_are_reported_and_skipped) {
  fs::create_directories(state_dir() / "csv");
  {
    std::ofstream out(state_dir() / "csv" / "stock.seen");
    out << "# plant-agent csv seen-state v1\n" << two_rows.size() << " " << (t0 - 5000) * 1000000
        << " stock.csv\ngarbage\n-1 x y\n";
  }
  write("stock.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  const auto first = source.poll(t0);
  EXPECT_EQ(first.rejects, (std::vector<std::string>{"state file '" + (state_dir() / "csv" / "stock.seen").string() +
                                                     "':3: 2 malformed entries ignored"}));
  EXPECT_TRUE(drain(source, t0 + 2000).samples.empty());  // the good entry still counts
  // ...and is written back in the new format, with what identifies the file now.
  EXPECT_EQ(read_text(state_dir() / "csv" / "stock.seen").rfind("# plant-agent csv seen-state v2\n", 0), 0u);
}

TEST_F(csv_source_test, unwritable_state_dir_is_reported_once_and_files_still_flow) {
  // A regular file where the state directory should be makes every save fail, even for root.
  { std::ofstream(state_dir().string()) << "x"; }
  write("a.csv", two_rows, t0 - 5000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto got = drain(source, t0 + 2000);
  EXPECT_EQ(got.samples.size(), 2u);
  settle_all(source, got);
  const auto next = source.poll(t0 + 4000);
  ASSERT_EQ(next.rejects.size(), 1u);
  EXPECT_EQ(next.rejects[0].rfind("state file '" + (state_dir() / "csv" / "stock.seen").string() + "': cannot write", 0),
            0u)
      << next.rejects[0];
  EXPECT_TRUE(next.samples.empty());
  EXPECT_TRUE(source.poll(t0 + 6000).rejects.empty());
}

TEST_F(csv_source_test, unreadable_file_is_reported_once_and_retried) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const auto path = write("stock.csv", two_rows, t0 - 5000);
  fs::permissions(path, fs::perms::none);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  EXPECT_EQ(source.poll(t0 + 2000).rejects, (std::vector<std::string>{"stock.csv: cannot read: Permission denied"}));
  EXPECT_TRUE(source.poll(t0 + 4000).rejects.empty());
  fs::permissions(path, fs::perms::owner_read);
  EXPECT_EQ(drain(source, t0 + 6000).samples.size(), 2u);
}

TEST_F(csv_source_test, a_backlog_of_files_is_read_one_file_per_poll) {
  write("a.csv", two_rows, t0 - 5000);
  write("b.csv", two_rows, t0 - 4000);
  auto source_ptr = make();
  csv_source& source = *source_ptr;
  source.poll(t0);
  const auto first = source.poll(t0 + 2000);
  EXPECT_EQ(first.samples.size(), 2u);
  const auto second = source.poll(t0 + 2000);
  EXPECT_EQ(second.samples.size(), 2u);
  EXPECT_EQ(source.pending_files(), 2u);
}


// --- kind = "receipts" and "demand": snapshots of open orders and planned demand -----

std::vector<supply_snapshot> supplies_of(csv_source& source, epoch_ms now, std::vector<std::string>* rejects = nullptr) {
  std::vector<supply_snapshot> out;
  for (int polls = 0; polls < 100; ++polls) {
    poll_result r = source.poll(now);
    EXPECT_TRUE(r.samples.empty()) << "receipts and demand are not telemetry";
    for (auto& s : r.supplies) out.push_back(std::move(s));
    if (rejects) rejects->insert(rejects->end(), r.rejects.begin(), r.rejects.end());
    if (r.settle_token != 0) source.settle(r.settle_token, true);
    if (!r.more) break;
  }
  return out;
}

TEST_F(csv_source_test, a_receipts_file_is_one_snapshot_with_its_bad_rows_located_and_survives_a_restart) {
  cfg_.kind = csv_kind::receipts;
  cfg_.order_column = "po";
  cfg_.supplier_column = "supplier";
  write("orders.csv",
        "material,quantity,due,po,supplier\n"
        "resin,3000,2026-11-23T06:00:00Z,PO-1,\"Acme, Inc.\"\n"
        "resin,abc,2026-11-23T06:00:00Z,PO-2,acme\n"
        "film,200,soon,PO-3,acme\n"
        "film,-5,1795400000,PO-4,acme\n"
        "film,250,1795400000,PO-5,\n",
        t0 - 5000);
  std::vector<std::string> rejects;
  {
    auto source = make();
    source->poll(t0);
    const auto snapshots = supplies_of(*source, t0 + 2000, &rejects);
    ASSERT_EQ(snapshots.size(), 1u);
    const auto& s = snapshots[0];
    EXPECT_EQ(s.kind, supply_snapshot::kind_t::receipts);
    ASSERT_EQ(s.rows.size(), 2u);
    EXPECT_EQ(s.rows[0].material, "resin");
    EXPECT_DOUBLE_EQ(s.rows[0].quantity, 3000);
    EXPECT_EQ(s.rows[0].due, 1795413600000);
    EXPECT_EQ(s.rows[0].order, "PO-1");
    EXPECT_EQ(s.rows[0].supplier, "Acme, Inc.");
    EXPECT_EQ(s.rows[1].due, 1795400000000);
    EXPECT_EQ(rejects, (std::vector<std::string>{"orders.csv:3: quantity: 'abc' is not a number",
                                                 "orders.csv:4: due: 'soon' is not RFC 3339 or epoch seconds",
                                                 "orders.csv:5: quantity: '-5' must be above 0"}));
    EXPECT_TRUE(fs::exists(source->snapshot_file()));
  }
  // A restart hands the kept snapshot on at the first poll, before any file is read.
  auto again = make();
  poll_result first = again->poll(t0 + 10000);
  ASSERT_EQ(first.supplies.size(), 1u);
  ASSERT_EQ(first.supplies[0].rows.size(), 2u);
  EXPECT_EQ(first.supplies[0].rows[0].supplier, "Acme, Inc.");
  EXPECT_EQ(first.supplies[0].rows[0].due, 1795413600000);
  EXPECT_DOUBLE_EQ(first.supplies[0].rows[1].quantity, 250);
  EXPECT_TRUE(again->poll(t0 + 20000).supplies.empty()) << "handed on once";
}

TEST_F(csv_source_test, a_big_snapshot_survives_a_restart_and_a_file_of_only_bad_rows_replaces_nothing) {
  cfg_.kind = csv_kind::receipts;
  std::string text = "material,quantity,due\n";
  for (int i = 0; i < 3000; ++i) text += "material-" + std::to_string(i) + ",1" + std::to_string(i) + ",1795400000\n";
  write("orders.csv", text, t0 - 5000);
  {
    auto source = make();
    source->poll(t0);
    const auto snapshots = supplies_of(*source, t0 + 2000);
    ASSERT_EQ(snapshots.size(), 1u);
    ASSERT_EQ(snapshots[0].rows.size(), 3000u);
    ASSERT_GT(fs::file_size(source->snapshot_file()), 64u << 10) << "bigger than a password file may be";
    // The next export has a new date format the parser refuses: every row bad.
    write("orders-2.csv", "material,quantity,due\nresin,5,2026/11/23\nfilm,6,2026/11/24\n", t0 + 3000);
    source->poll(t0 + 4000);
    std::vector<std::string> rejects;
    EXPECT_TRUE(supplies_of(*source, t0 + 6000, &rejects).empty()) << "not an empty snapshot";
    EXPECT_NE(std::find(rejects.begin(), rejects.end(),
                        "orders-2.csv: no usable row; the snapshot is not used (the previous one stays)"),
              rejects.end())
        << ::testing::PrintToString(rejects);
  }
  auto again = make();
  const poll_result first = again->poll(t0 + 10000);
  EXPECT_TRUE(first.rejects.empty()) << ::testing::PrintToString(first.rejects);
  ASSERT_EQ(first.supplies.size(), 1u);
  EXPECT_EQ(first.supplies[0].rows.size(), 3000u);
  EXPECT_EQ(first.supplies[0].rows[2999].material, "material-2999");
}

TEST_F(csv_source_test, a_demand_file_needs_to_after_from_and_a_missing_column_refuses_the_file) {
  cfg_.kind = csv_kind::demand;
  write("plan.csv",
        "material,quantity,from,to\nresin,4000,2026-11-24T00:00:00Z,2026-11-25T00:00:00Z\n"
        "resin,100,2026-11-25T00:00:00Z,2026-11-24T00:00:00Z\n",
        t0 - 5000);
  write("broken.csv", "material,quantity,start\nresin,1,2026-11-24T00:00:00Z\n", t0 - 4000);
  auto source = make();
  source->poll(t0);
  std::vector<std::string> rejects;
  const auto snapshots = supplies_of(*source, t0 + 2000, &rejects);
  ASSERT_EQ(snapshots.size(), 1u) << "the broken file gives no (empty) snapshot";
  ASSERT_EQ(snapshots[0].rows.size(), 1u);
  EXPECT_EQ(snapshots[0].rows[0].from, 1795478400000);
  EXPECT_EQ(snapshots[0].rows[0].to, 1795564800000);
  std::vector<std::string> more;
  supplies_of(*source, t0 + 4000, &more);
  rejects.insert(rejects.end(), more.begin(), more.end());
  EXPECT_NE(std::find(rejects.begin(), rejects.end(), "plan.csv:3: to: is not after from"), rejects.end());
  bool refused = false;
  for (const auto& r : rejects) refused = refused || r.rfind("broken.csv:1: no column 'from' in the header", 0) == 0;
  EXPECT_TRUE(refused) << ::testing::PrintToString(rejects);
}

}  // namespace
}  // namespace plant::sources
