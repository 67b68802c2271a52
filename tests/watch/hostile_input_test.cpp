// What plant-watch does with messages an attacker (or a broken agent) sends:
// terminal escapes in names (D11), payloads built to cost far more memory than
// their size (D12), and forged seqs and times that overflowed sums (D22).
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "common/wire/envelope_decode.hpp"
#include "watch/app/message_processor.hpp"
#include "watch/audit/sequence_audit.hpp"
#include "watch/views/board_table.hpp"
#include "watch/views/shortage_board.hpp"

namespace plant::watch {
namespace {

constexpr epoch_ms now = 1700000000000;

// On the sending agent's own topic, as a broker ACL makes it (names and all: a topic
// level may hold escapes too); an envelope naming another agent would be rejected.
received_message delivery(const plant::v1::Envelope& e, const std::string& kind = "telemetry") {
  received_message m;
  m.topic = "plant/v1/" + (e.site().empty() ? "s" : e.site()) + "/" + (e.agent().empty() ? "a" : e.agent()) + "/" + kind;
  m.payload = e.SerializeAsString();
  m.received_at_us = now * 1000;
  return m;
}

TEST(watch_hostile_input, escape_sequences_in_names_never_reach_the_terminal) {
  processor_settings settings;
  settings.board = true;
  message_processor p(settings);
  plant::v1::Envelope e;
  e.set_site("site\x1b]0;pwned\x07");
  e.set_agent("gw\x1b[2J");
  e.set_seq(1);
  auto* t = e.mutable_telemetry();
  t->set_base_time(now);
  t->add_lines()->set_line("L1\x1b[31mFAKE");
  auto* stock = t->add_stocks();
  stock->set_material("steel\r\nfake row");
  stock->set_unit("kg\x1b[8m");
  plant::v1::Envelope status;
  status.set_site(e.site());
  status.set_agent(e.agent());
  status.mutable_status()->set_state(plant::v1::AgentStatus::STATE_ONLINE);
  status.mutable_status()->set_last_error("oops\x1b]2;title\x07");
  auto* m = status.mutable_status()->add_materials();
  m->set_material("steel\x1b[2J");
  m->set_status(plant::v1::STOCK_STATUS_LOW);
  std::string out, err;
  p.handle(delivery(e), out, err);
  p.handle(delivery(status, "status"), out, err);
  const std::string table = render_board_table(p.board(), now);
  const std::string shortages = render_shortage_table(find_shortages(p.board()), now);
  for (const std::string* text : {&table, &shortages}) {
    EXPECT_EQ(text->find('\x1b'), std::string::npos) << *text;
    EXPECT_EQ(text->find('\x07'), std::string::npos) << *text;
    EXPECT_EQ(text->find('\r'), std::string::npos) << *text;
  }
  EXPECT_NE(table.find("gw\\x1B[2J"), std::string::npos) << table;
  EXPECT_NE(table.find("steel\\r\\nfake row"), std::string::npos) << table;
  // The undecodable-message report quotes the topic escaped too.
  received_message junk;
  junk.topic = "plant/v1/\x1b[2J/x/telemetry";
  junk.payload = "\xff\xff";
  p.handle(junk, out, err);
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
}

TEST(watch_hostile_input, a_payload_that_would_cost_far_more_than_its_size_is_refused_before_decoding) {
  // 4 MiB of empty LineStatus elements: two bytes each on the wire, ~100 bytes each decoded.
  std::string body;
  for (int i = 0; i < 2 * 1024 * 1024; ++i) body += std::string("\x1a\x00", 2);
  std::string payload;
  payload += '\x52';  // field 10 (telemetry), length-delimited
  std::size_t length = body.size();
  while (length >= 0x80) {
    payload += static_cast<char>((length & 0x7F) | 0x80);
    length >>= 7;
  }
  payload += static_cast<char>(length);
  payload += body;
  std::string reason;
  EXPECT_FALSE(wire::affordable(payload, wire::decode_limits{}, reason));
  EXPECT_NE(reason.find("repeated elements is over the limit"), std::string::npos) << reason;

  processor_settings settings;
  settings.board = true;
  message_processor p(settings);
  received_message m;
  m.topic = "plant/v1/s/a/telemetry";
  m.payload = payload;
  std::string out, err;
  p.handle(m, out, err);
  EXPECT_EQ(p.undecodable(), 1u);
  EXPECT_TRUE(p.board().agents.empty());
  // A real batch of 100,000 samples (the agent's largest max_batch) still passes.
  plant::v1::Envelope big;
  big.set_seq(1);
  for (int i = 0; i < 100000; ++i) big.mutable_telemetry()->add_stocks()->set_material("m");
  EXPECT_TRUE(wire::affordable(big.SerializeAsString(), wire::decode_limits{}, reason)) << reason;
}

TEST(watch_hostile_input, the_board_is_bounded_in_bytes_whatever_the_names) {
  processor_settings settings;
  settings.board = true;
  message_processor p(settings);
  std::string out, err;
  const std::string long_name(200, 'x');
  for (int agent = 0; agent < 2000; ++agent) {
    plant::v1::Envelope e;
    e.set_site("site");
    e.set_agent(long_name + std::to_string(agent));
    e.set_seq(1);
    e.mutable_telemetry()->set_base_time(now);
    for (int i = 0; i < 200; ++i) e.mutable_telemetry()->add_stocks()->set_material(long_name + std::to_string(i));
    p.handle(delivery(e), out, err);
  }
  EXPECT_LE(p.board().bytes, board_limits{}.max_bytes);
  EXPECT_GT(p.board().entries_dropped, 0u);
  // A name longer than any real one is refused, not stored.
  plant::v1::Envelope huge;
  huge.set_site("site");
  huge.set_agent(std::string(1u << 20, 'y'));
  huge.set_seq(1);
  huge.mutable_telemetry()->set_base_time(now);
  const auto agents_before = p.board().agents.size();
  p.handle(delivery(huge), out, err);
  EXPECT_EQ(p.board().agents.size(), agents_before);
}

TEST(watch_hostile_input, forged_ranges_and_seqs_cannot_overflow_the_audit) {
  sequence_audit audit;
  plant::v1::Envelope status;
  status.set_site("s");
  status.set_agent("a");
  auto* r = status.mutable_status()->add_dropped_ranges();
  r->set_first(0);
  r->set_last(std::numeric_limits<std::uint64_t>::max());  // 2^64 members: the count wrapped to 0
  auto* ok = status.mutable_status()->add_dropped_ranges();
  ok->set_first(5);
  ok->set_last(6);
  audit.record("s", "a", status, false, now * 1000);
  plant::v1::Envelope forged;
  forged.set_seq(std::numeric_limits<std::uint64_t>::max());
  forged.mutable_telemetry();
  audit.record("s", "a", forged, false, now * 1000);
  plant::v1::Envelope real;
  real.set_seq(7);
  real.mutable_telemetry();
  audit.record("s", "a", real, false, now * 1000);
  const auto lines = audit.report_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"reported_dropped\":2"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"last_seq\":7"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"implausible\":2"), std::string::npos) << lines[0];
}

TEST(watch_hostile_input, the_audit_is_bounded_in_ranges_over_all_agents) {
  sequence_audit audit(100, 1000);
  for (std::uint64_t seq = 1; seq <= 10000; seq += 2) {  // every other seq: one range each
    plant::v1::Envelope e;
    e.set_seq(seq);
    e.mutable_telemetry();
    audit.record("s", "a", e, false, now * 1000);
  }
  EXPECT_LE(audit.ranges_held(), 1000u);
  const agent_audit* a = audit.find("s", "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->untracked, 5000u - a->seqs.count());
}

TEST(watch_hostile_input, times_at_the_ends_of_int64_are_clamped_not_undefined) {
  processor_settings settings;
  settings.board = true;
  settings.json = true;
  message_processor p(settings);
  plant::v1::Envelope e;
  e.set_site("s");
  e.set_agent("a");
  e.set_seq(1);
  auto* t = e.mutable_telemetry();
  t->set_base_time(std::numeric_limits<std::int64_t>::max());
  auto* line = t->add_lines();
  line->set_line("L");
  line->set_receive_time(std::numeric_limits<std::int64_t>::max());
  line->set_source_time(std::numeric_limits<std::int64_t>::min());
  std::string out, err;
  p.handle(delivery(e), out, err);
  EXPECT_EQ(p.board().agents.size(), 1u);
  EXPECT_NE(out.find("\"line\":\"L\""), std::string::npos);
}

}  // namespace
}  // namespace plant::watch
