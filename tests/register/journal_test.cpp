// The register's journal on real files: what is appended comes back in order,
// survives a restart until committed, and keeps its id across restarts.
#include "register/ingest/journal.hpp"

#include <gtest/gtest.h>

#include "register/db/pg_connection.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::central::ingest {
namespace {

TEST(journal_entry, round_trips_topic_payload_and_retained_flag) {
  const std::string payload("\0\x01" "binary\xff", 10);
  journal_entry out;
  ASSERT_TRUE(decode_entry(encode_entry("plant/v1/a/b/telemetry", payload, true), out));
  EXPECT_EQ(out.topic, "plant/v1/a/b/telemetry");
  EXPECT_EQ(out.payload, payload);
  EXPECT_TRUE(out.retained);
  EXPECT_FALSE(decode_entry(std::string("\x00\x09short", 7), out)) << "a topic length past the end";
  EXPECT_FALSE(decode_entry("", out));
}

TEST(journal, entries_wait_across_a_restart_until_committed_and_the_id_stays) {
  test::temp_dir dir("journal");
  journal_options options;
  options.dir = dir.path() + "/journal";
  std::string journal_id;
  {
    journal j(options);
    const journal_recovery first = j.recover(1000);
    EXPECT_EQ(first.entries, 0u);
    EXPECT_EQ(first.journal_id.size(), 32u);
    journal_id = first.journal_id;
    std::string error;
    for (int i = 0; i < 5; ++i)
      ASSERT_EQ(j.append_durable("t/" + std::to_string(i), "p" + std::to_string(i), false, 1000 + i, error),
                journal::append_result::durable)
          << error;
    std::uint64_t cursor = 0;
    auto e = j.next(cursor, std::chrono::milliseconds(0));
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->topic, "t/0");
    EXPECT_EQ(e->received_at, 1000);
    j.committed({e->id});
    EXPECT_EQ(j.backlog_messages(), 4u);
  }
  journal j(options);
  const journal_recovery again = j.recover(2000);
  EXPECT_EQ(again.journal_id, journal_id);
  EXPECT_EQ(again.entries, 4u);
  std::uint64_t cursor = 0;
  std::vector<std::string> topics;
  while (auto e = j.next(cursor, std::chrono::milliseconds(0))) topics.push_back(e->topic);
  EXPECT_EQ(topics, (std::vector<std::string>{"t/1", "t/2", "t/3", "t/4"}));
  // New ids continue above the old ones: journal_positions stays meaningful.
  std::string error;
  ASSERT_EQ(j.append_durable("t/5", "p5", false, 2000, error), journal::append_result::durable);
  auto e = j.next(cursor, std::chrono::milliseconds(0));
  ASSERT_TRUE(e.has_value());
  EXPECT_GT(e->id, 5u);
  // The database says more was committed than these files know: ids go above it.
  j.skip_ids_to(1000);
  ASSERT_EQ(j.append_durable("t/6", "p6", false, 2001, error), journal::append_result::durable);
  e = j.next(cursor, std::chrono::milliseconds(0));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, 1000u);
  // A delivery no record can hold is refused as such, not as a disk failure to retry.
  EXPECT_EQ(j.append_durable("big", std::string(17u << 20, 'x'), false, 2002, error), journal::append_result::too_large);
  EXPECT_EQ(j.too_large(), 1u);
}

TEST(journal, next_waits_for_an_append_from_another_thread) {
  test::temp_dir dir("journal-wait");
  journal j(journal_options{dir.path() + "/journal"});
  j.recover(1);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::string error;
    j.append_durable("late", "x", false, 2, error);
  });
  std::uint64_t cursor = 0;
  auto e = j.next(cursor, std::chrono::seconds(10));
  writer.join();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->topic, "late");
}

TEST(copy_text, escapes_what_copy_would_misread_and_arrays_quote_every_item) {
  std::string out;
  db::append_copy_text(out, std::string("a\tb\nc\\d\re\0f", 12));
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\ref");
  EXPECT_EQ(db::array_literal({}), "{}");
  EXPECT_EQ(db::array_literal({"line-1", "a \"quoted\" \\ name", "x,y"}), "{\"line-1\",\"a \\\"quoted\\\" \\\\ name\",\"x,y\"}");
}

TEST(database_url, is_described_without_credentials) {
  EXPECT_EQ(db::describe_url("postgresql://plant@db.example:6432/register?sslmode=verify-full"),
            "db.example:6432/register");
  EXPECT_EQ(db::describe_url("postgresql:///plant"), "localhost/plant");
}

}  // namespace
}  // namespace plant::central::ingest
