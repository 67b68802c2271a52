#include "common/core/seq_ranges.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace plant {
namespace {

using ranges_t = std::vector<seq_range>;

TEST(spool_seq_ranges, adjacent_and_overlapping_adds_merge) {
  seq_ranges s;
  s.add(5);
  s.add(7);
  EXPECT_EQ(s.ranges(), (ranges_t{{5, 5}, {7, 7}}));
  s.add(6);
  EXPECT_EQ(s.ranges(), (ranges_t{{5, 7}}));
  s.add(10, 20);
  s.add(15, 25);
  s.add(3, 4);
  EXPECT_EQ(s.ranges(), (ranges_t{{3, 7}, {10, 25}}));
  s.add(8, 9);
  EXPECT_EQ(s.ranges(), (ranges_t{{3, 25}}));
  EXPECT_EQ(s.count(), 23u);
  s.add(1, 30);
  EXPECT_EQ(s.ranges(), (ranges_t{{1, 30}}));
  EXPECT_EQ(s.count(), 30u);
  EXPECT_EQ(s.size(), 1u);
}

TEST(spool_seq_ranges, queries) {
  seq_ranges s;
  s.add(10, 12);
  s.add(20, 29);
  EXPECT_FALSE(s.contains(9));
  EXPECT_TRUE(s.contains(10));
  EXPECT_TRUE(s.contains(12));
  EXPECT_FALSE(s.contains(13));
  EXPECT_TRUE(s.contains(29));
  EXPECT_FALSE(s.contains(30));
  EXPECT_EQ(s.find(21), (seq_range{20, 29}));
  EXPECT_FALSE(s.find(15).has_value());
  EXPECT_EQ(s.next_at_or_after(0), 10u);
  EXPECT_EQ(s.next_at_or_after(11), 11u);
  EXPECT_EQ(s.next_at_or_after(13), 20u);
  EXPECT_FALSE(s.next_at_or_after(30).has_value());
  EXPECT_EQ(s.rank(10), 0u);
  EXPECT_EQ(s.rank(12), 2u);
  EXPECT_EQ(s.rank(15), 3u);
  EXPECT_EQ(s.rank(25), 8u);
  EXPECT_EQ(s.rank(100), 13u);
  EXPECT_EQ(s.count_in(11, 21), 4u);
  EXPECT_EQ(s.gaps_within(5, 35), (ranges_t{{5, 9}, {13, 19}, {30, 35}}));
  EXPECT_EQ(s.gaps_within(10, 12), ranges_t{});
  EXPECT_EQ(s.gaps_within(11, 20), (ranges_t{{13, 19}}));
  EXPECT_EQ(s.lowest(), 10u);
  EXPECT_EQ(s.highest(), 29u);
  std::vector<seq_range> seen;
  s.for_each_overlap(11, 25, [&](std::uint64_t a, std::uint64_t b) { seen.push_back({a, b}); });
  EXPECT_EQ(seen, (ranges_t{{11, 12}, {20, 25}}));
}

TEST(spool_seq_ranges, erase_below_splits_a_range) {
  seq_ranges s;
  s.add(1, 5);
  s.add(8, 12);
  s.erase_below(10);
  EXPECT_EQ(s.ranges(), (ranges_t{{10, 12}}));
  EXPECT_EQ(s.count(), 3u);
  s.erase_below(13);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.count(), 0u);
}

TEST(spool_seq_ranges, bound_drops_oldest_and_counts) {
  seq_ranges s(2, seq_ranges::overflow::drop_oldest);
  EXPECT_FALSE(s.add(1).has_value());
  EXPECT_FALSE(s.add(3, 4).has_value());
  EXPECT_EQ(s.add(6), (seq_range{1, 1}));
  EXPECT_EQ(s.ranges(), (ranges_t{{3, 4}, {6, 6}}));
  EXPECT_EQ(s.count(), 3u);
  EXPECT_EQ(s.overflowed(), 1u);
  EXPECT_EQ(s.add(10), (seq_range{3, 4}));
  EXPECT_EQ(s.overflowed(), 3u);
}

TEST(spool_seq_ranges, bound_merges_oldest_and_counts_the_gap) {
  seq_ranges s(2, seq_ranges::overflow::merge_oldest);
  s.add(1);
  s.add(3, 4);
  EXPECT_EQ(s.add(8), (seq_range{2, 2}));
  EXPECT_EQ(s.ranges(), (ranges_t{{1, 4}, {8, 8}}));
  EXPECT_EQ(s.count(), 5u);
  EXPECT_EQ(s.overflowed(), 1u);
}

TEST(spool_seq_ranges, extremes_do_not_overflow) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  seq_ranges s;
  s.add(max);
  s.add(0);
  s.add(max - 1);
  s.add(1);
  EXPECT_EQ(s.ranges(), (ranges_t{{0, 1}, {max - 1, max}}));
  EXPECT_TRUE(s.contains(max));
  EXPECT_EQ(s.gaps_within(max - 2, max), (ranges_t{{max - 2, max - 2}}));
}

TEST(seq_ranges_audit_use, merges_neighbours_from_either_side) {
  seq_ranges s(200000, seq_ranges::overflow::refuse);
  EXPECT_EQ(s.insert(5), seq_ranges::insert_result::added);
  EXPECT_EQ(s.insert(7), seq_ranges::insert_result::added);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.insert(6), seq_ranges::insert_result::added);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.insert(4), seq_ranges::insert_result::added);
  EXPECT_EQ(s.insert(8), seq_ranges::insert_result::added);
  EXPECT_EQ(s.insert(6), seq_ranges::insert_result::duplicate);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.count(), 5u);
  EXPECT_EQ(*s.lowest(), 4u);
  EXPECT_EQ(*s.highest(), 8u);
  EXPECT_TRUE(s.contains(4));
  EXPECT_FALSE(s.contains(9));
  EXPECT_FALSE(s.contains(3));
}

TEST(seq_ranges_audit_use, range_union) {
  seq_ranges s(200000, seq_ranges::overflow::refuse);
  s.add(10, 12);
  s.add(20, 21);
  s.add(13, 13);  // touches 10..12
  EXPECT_EQ(s.size(), 2u);
  s.add(5, 25);   // swallows both
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.count(), 21u);
  s.add(28, 30);
  EXPECT_EQ(s.count(), 24u);
  bool truncated = true;
  EXPECT_EQ(s.holes(10, truncated), (std::vector<seq_range>{{26, 27}}));
  EXPECT_FALSE(truncated);
}

TEST(seq_ranges_audit_use, bound_counts_what_it_cannot_store) {
  seq_ranges s(2, seq_ranges::overflow::refuse);
  EXPECT_EQ(s.insert(1), seq_ranges::insert_result::added);
  EXPECT_EQ(s.insert(3), seq_ranges::insert_result::added);
  EXPECT_EQ(s.insert(5), seq_ranges::insert_result::untracked);
  EXPECT_EQ(s.insert(2), seq_ranges::insert_result::added);  // merging still works at the bound
  EXPECT_EQ(s.insert(4), seq_ranges::insert_result::added);
  EXPECT_EQ(s.overflowed(), 1u);
  EXPECT_EQ(s.size(), 1u);
}

TEST(seq_ranges, erase_splits_and_keeps_the_count) {
  seq_ranges s;
  s.add(1, 100);
  s.erase(10, 19);
  EXPECT_EQ(s.count(), 90u);
  EXPECT_EQ(s.ranges(), (std::vector<seq_range>{{1, 9}, {20, 100}}));
  s.erase(1, 9);
  s.erase(95, 1000);
  EXPECT_EQ(s.ranges(), (std::vector<seq_range>{{20, 94}}));
  s.erase(0, std::numeric_limits<std::uint64_t>::max());
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.count(), 0u);
}

TEST(seq_ranges, hole_count_does_not_overflow_at_the_ends_of_uint64) {
  seq_ranges s;
  s.add(1);
  s.add(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(s.count(), 2u);
  EXPECT_EQ(s.hole_count(), std::numeric_limits<std::uint64_t>::max() - 2);
}

}  // namespace
}  // namespace plant
