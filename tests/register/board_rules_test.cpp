#include <gtest/gtest.h>

#include "register/http/operator_tokens.hpp"
#include "register/http/shortage_rules.hpp"

namespace plant::central::api {
namespace {

using std::chrono::hours;

TEST(operator_tokens, reads_name_token_lines_and_locates_every_mistake) {
  const auto r = parse_operator_tokens(
      "# operators\n\nalice:0123456789abcdef0123\n bob : fedcba9876543210fedc \nnocolon\n"
      "carol:short\nalice:another-token-long-enough\ndave:0123456789abcdef0123\nbad name:0123456789abcdef01\n",
      "/etc/plant-register/tokens");
  ASSERT_EQ(r.operators.size(), 2u);
  EXPECT_EQ(r.operators[0].name, "alice");
  EXPECT_EQ(r.operators[1].name, "bob");
  EXPECT_EQ(r.operators[1].token, "fedcba9876543210fedc");
  ASSERT_EQ(r.errors.size(), 5u);
  EXPECT_EQ(r.errors[0], "/etc/plant-register/tokens:5: expected \"name:token\"");
  EXPECT_EQ(r.errors[1],
            "/etc/plant-register/tokens:6: the token (after ':') must be at least 16 printable characters without spaces");
  EXPECT_EQ(r.errors[2], "/etc/plant-register/tokens:7: this operator name is listed on an earlier line too");
  EXPECT_EQ(r.errors[3], "/etc/plant-register/tokens:8: this token is also another operator's");
  EXPECT_EQ(r.errors[4], "/etc/plant-register/tokens:9: the operator name (before ':') must be 1-64 letters, digits, "
                         "'-', '_' or '.'");
  for (const auto& e : r.errors) {
    EXPECT_EQ(e.find("0123456789abcdef"), std::string::npos) << "a token in: " << e;
    EXPECT_EQ(e.find("bad name"), std::string::npos) << "a name (maybe a token written first) in: " << e;
  }
  // Written the wrong way round, the token is not echoed either.
  const auto reversed = parse_operator_tokens("0123456789abcdef0123:carol\n", "t");
  ASSERT_EQ(reversed.errors.size(), 1u);
  EXPECT_EQ(reversed.errors[0].find("0123456789abcdef0123"), std::string::npos) << reversed.errors[0];
}

TEST(operator_tokens, a_bearer_token_names_its_operator_and_nothing_else_does) {
  const operator_tokens none;
  EXPECT_FALSE(none.writes_enabled());
  EXPECT_EQ(none.operator_for("Bearer 0123456789abcdef0123"), "");
  const operator_tokens tokens({{"alice", "0123456789abcdef0123"}, {"bob", "fedcba9876543210fedc"}});
  EXPECT_TRUE(tokens.writes_enabled());
  EXPECT_EQ(tokens.operator_for("Bearer 0123456789abcdef0123"), "alice");
  EXPECT_EQ(tokens.operator_for("bearer fedcba9876543210fedc"), "bob");
  EXPECT_EQ(tokens.operator_for("Bearer 0123456789abcdef012"), "");    // a prefix
  EXPECT_EQ(tokens.operator_for("Bearer 0123456789abcdef01234"), "");  // longer
  EXPECT_EQ(tokens.operator_for("Basic 0123456789abcdef0123"), "");
  EXPECT_EQ(tokens.operator_for("0123456789abcdef0123"), "");
  EXPECT_EQ(tokens.operator_for(""), "");
  EXPECT_EQ(tokens.operator_for("Bearer "), "");
}

TEST(shortage_rules, severity_orders_the_statuses) {
  EXPECT_LT(severity("ok"), severity("low"));
  EXPECT_LT(severity("low"), severity("critical"));
  EXPECT_LT(severity("critical"), severity("out"));
  EXPECT_EQ(severity("unknown"), -1);
}

TEST(shortage_rules, a_transfer_entry_serves_both_ways_unless_the_other_way_has_its_own) {
  const std::vector<transfer_route> routes{{"south", "north", hours(6)}, {"north", "east", hours(3)},
                                           {"east", "north", hours(5)}};
  EXPECT_EQ(transfer_time(routes, "south", "north"), config_millis(hours(6)));
  EXPECT_EQ(transfer_time(routes, "north", "south"), config_millis(hours(6)));
  EXPECT_EQ(transfer_time(routes, "north", "east"), config_millis(hours(3)));
  EXPECT_EQ(transfer_time(routes, "east", "north"), config_millis(hours(5)));
  EXPECT_FALSE(transfer_time(routes, "south", "east").has_value());
}

TEST(shortage_rules, spare_is_what_lies_above_the_plants_own_reorder_point) {
  EXPECT_DOUBLE_EQ(spare_quantity(50000, 5000, 500), 45000);
  EXPECT_DOUBLE_EQ(spare_quantity(3000, 0, 500), 2500);  // no reorder point: above safety stock
  EXPECT_DOUBLE_EQ(spare_quantity(4000, 5000, 500), 0);
}

TEST(shortage_rules, a_proposal_says_whether_it_arrives_before_the_stockout) {
  const epoch_ms now = 1'000'000'000'000;
  const epoch_ms h = 3'600'000;
  auto in_time = propose_transfer(config_millis(hours(6)), now, "critical", now + 17 * h);
  EXPECT_TRUE(in_time.has_route);
  EXPECT_EQ(in_time.arrives_at, now + 6 * h);
  EXPECT_EQ(in_time.arrives_before_stockout, true);
  EXPECT_EQ(propose_transfer(config_millis(hours(6)), now, "critical", now + 5 * h).arrives_before_stockout, false);
  EXPECT_EQ(propose_transfer(config_millis(hours(6)), now, "out", 0).arrives_before_stockout, false);
  EXPECT_FALSE(propose_transfer(config_millis(hours(6)), now, "low", 0).arrives_before_stockout.has_value());
  const auto no_route = propose_transfer(std::nullopt, now, "critical", now + h);
  EXPECT_FALSE(no_route.has_route);
  EXPECT_FALSE(no_route.arrives_before_stockout.has_value());
}

TEST(shortage_rules, an_acknowledgement_holds_until_the_shortage_escalates_or_ends) {
  const shortage_action ack{"ack", "alice", "truck booked", "low", 1000, 0};
  EXPECT_EQ(effect_of(ack, "low", 5000, false), action_effect::holds);
  EXPECT_EQ(effect_of(ack, "critical", 5000, false), action_effect::escalated);
  EXPECT_EQ(effect_of(ack, "out", 5000, false), action_effect::escalated);
  EXPECT_EQ(effect_of(ack, "ok", 5000, false), action_effect::expired);
  EXPECT_EQ(effect_of(ack, "low", 5000, true), action_effect::expired);  // it was ok in between: a new shortage
  const shortage_action critical_ack{"ack", "alice", "", "critical", 1000, 0};
  EXPECT_EQ(effect_of(critical_ack, "low", 5000, false), action_effect::holds);  // better is no reason to alarm
}

TEST(shortage_rules, a_snooze_ends_at_its_time_or_on_escalation) {
  const shortage_action snooze{"snooze", "bob", "", "critical", 1000, 10000};
  EXPECT_EQ(effect_of(snooze, "critical", 9999, false), action_effect::holds);
  EXPECT_EQ(effect_of(snooze, "critical", 10000, false), action_effect::expired);
  EXPECT_EQ(effect_of(snooze, "out", 5000, false), action_effect::escalated);
}

}  // namespace
}  // namespace plant::central::api
