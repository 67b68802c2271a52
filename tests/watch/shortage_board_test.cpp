#include "watch/views/shortage_board.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plant::watch {
namespace {


constexpr epoch_ms now = 1700000000000;  // 2023-11-14T22:13:20.000Z

material_view decision(stock_status status, double quantity, epoch_ms stockout_in_ms = 0) {
  material_view m;
  m.status = status;
  m.quantity = quantity;
  m.unit = "kg";
  m.rate = 10;
  m.projected_stockout = stockout_in_ms == 0 ? 0 : now + stockout_in_ms;
  m.at = now - 1000;
  m.reorder_point = 100;
  m.safety_stock = 20;
  return m;
}

void put(board_state& board, const std::string& site, const std::string& agent, const std::string& material,
         const material_view& m) {
  agent_view& a = board.agents[{site, agent}];
  a.site = site;
  a.agent = agent;
  a.materials[material] = m;
}

std::vector<std::string> order_of(const std::vector<shortage_entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.site + "/" + e.agent + "/" + e.material);
  return out;
}

TEST(watch_shortage_board, out_first_then_soonest_stockout_then_unprojected) {
  board_state board;
  put(board, "north", "gw-1", "steel", decision(stock_status::low, 80, 9 * 3600000));
  put(board, "north", "gw-1", "glue", decision(stock_status::critical, 5, 2 * 3600000));
  put(board, "south", "gw-2", "steel", decision(stock_status::out, 0));
  put(board, "south", "gw-2", "paint", decision(stock_status::low, 50));        // not consuming: no projection
  put(board, "south", "gw-2", "bolts", decision(stock_status::critical, 3));     // same, but critical first
  put(board, "east", "gw-3", "steel", decision(stock_status::low, 90, 2 * 3600000));  // ties glue: critical first
  put(board, "east", "gw-3", "film", decision(stock_status::ok, 10));
  put(board, "east", "gw-3", "wire", decision(stock_status::unknown, 0));
  EXPECT_EQ(order_of(find_shortages(board)),
            (std::vector<std::string>{"south/gw-2/steel", "north/gw-1/glue", "east/gw-3/steel", "north/gw-1/steel",
                                      "south/gw-2/bolts", "south/gw-2/paint"}));
}

TEST(watch_shortage_board, helpers_hold_a_surplus_elsewhere) {
  board_state board;
  put(board, "north", "gw-1", "steel", decision(stock_status::critical, 10, 3600000));
  put(board, "south", "gw-2", "steel", decision(stock_status::ok, 500));  // > 100 * 1.2
  put(board, "east", "gw-3", "steel", decision(stock_status::ok, 120));   // exactly 1.2 x: not a surplus
  put(board, "west", "gw-4", "steel", decision(stock_status::ok, 121));
  put(board, "west", "gw-5", "steel", decision(stock_status::low, 900));  // low itself: cannot help
  material_view no_reorder_point = decision(stock_status::ok, 41);
  no_reorder_point.reorder_point = 0;  // then 2x safety stock (20) decides
  put(board, "west", "gw-6", "steel", no_reorder_point);
  put(board, "south", "gw-2", "glue", decision(stock_status::ok, 999));   // another material
  const auto shortages = find_shortages(board);
  ASSERT_EQ(shortages.size(), 2u);  // steel at gw-1 and at gw-5
  const shortage_entry& e = shortages[0];
  EXPECT_EQ(e.agent, "gw-1");
  ASSERT_EQ(e.helpers.size(), 3u);
  EXPECT_EQ(e.helpers[0].agent, "gw-2");
  EXPECT_EQ(e.helpers[0].quantity, 500);
  EXPECT_EQ(e.helpers[1].agent, "gw-4");
  EXPECT_EQ(e.helpers[2].agent, "gw-6");
}

TEST(watch_shortage_board, surplus_rule) {
  material_view m = decision(stock_status::ok, 121);
  EXPECT_TRUE(has_surplus(m));
  m.quantity = 120;
  EXPECT_FALSE(has_surplus(m));
  EXPECT_TRUE(has_surplus(m, 0.1));
  m.reorder_point = 0;
  m.quantity = 40;
  EXPECT_FALSE(has_surplus(m));
  m.quantity = 40.5;
  EXPECT_TRUE(has_surplus(m));
  m.status = stock_status::unknown;
  EXPECT_FALSE(has_surplus(m));
}

TEST(watch_shortage_board, text_and_json) {
  board_state board;
  material_view steel = decision(stock_status::critical, 12.5, (2 * 60 + 3) * 60000);
  steel.lines = {"L1", "L2"};
  steel.starved_lines = {"L2", "L9"};
  put(board, "north", "gw-1", "steel", steel);
  put(board, "south", "gw-2", "steel", decision(stock_status::ok, 500));
  put(board, "south", "gw-2", "glue", decision(stock_status::out, 0));
  const auto shortages = find_shortages(board);
  EXPECT_EQ(render_shortage_table(shortages, now),
            "plant-watch shortages  2023-11-14T22:13:20.000Z  2 materials short\n"
            "STATUS    SITE   AGENT  MATERIAL  QUANTITY  RATE/H  STOCKOUT  SUPPLY  FEEDS                           WHO CAN HELP\n"
            "out       south  gw-2   glue          0 kg      10  now       -       -                               -\n"
            "critical  north  gw-1   steel      12.5 kg      10  in 2h03m  -       L1, L2 (starved), L9 (starved)  south/gw-2 500 kg\n");
  ASSERT_EQ(shortages.size(), 2u);
  EXPECT_EQ(shortage_json(shortages[1]),
            R"({"shortage":{"site":"north","agent":"gw-1","material":"steel","status":"critical","quantity":12.5,)"
            R"("unit":"kg","rate":10,"projected_stockout":"2023-11-15T00:16:20.000Z","at":"2023-11-14T22:13:19.000Z",)"
            R"("lines":["L1","L2"],"starved_lines":["L2","L9"],"reorder_point":100,"safety_stock":20,)"
            R"("incoming":0,"next_receipt":null,"late_receipts":{"count":0,"quantity":0},"covered_until":null,"reason":null,)"
            R"("helpers":[{"site":"south","agent":"gw-2","quantity":500,"unit":"kg"}]}})");
  EXPECT_EQ(shortage_json(shortages[0]),
            R"({"shortage":{"site":"south","agent":"gw-2","material":"glue","status":"out","quantity":0,)"
            R"("unit":"kg","rate":10,"projected_stockout":null,"at":"2023-11-14T22:13:19.000Z",)"
            R"("lines":[],"starved_lines":[],"reorder_point":100,"safety_stock":20,"incoming":0,"next_receipt":null,)"
            R"("late_receipts":{"count":0,"quantity":0},"covered_until":null,"reason":null,"helpers":[]}})");
}

TEST(watch_shortage_board, nothing_short) {
  board_state board;
  put(board, "north", "gw-1", "steel", decision(stock_status::ok, 500));
  EXPECT_TRUE(find_shortages(board).empty());
  EXPECT_EQ(render_shortage_table({}, now), "plant-watch shortages  2023-11-14T22:13:20.000Z  0 materials short\n");
}

}  // namespace
}  // namespace plant::watch
