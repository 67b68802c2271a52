#include "watch/app/message_processor.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/wire/envelope_json.hpp"

namespace plant::watch {
namespace {

using namespace plant::wire;

constexpr std::int64_t t0 = 1700000000000;

received_message delivery(const std::string& topic, const std::string& payload, bool retained = false) {
  received_message m;
  m.topic = topic;
  m.payload = payload;
  m.retained = retained;
  m.received_at_us = (t0 + 4) * 1000;
  return m;
}

plant::v1::Envelope telemetry(std::uint64_t seq) {
  plant::v1::Envelope e;
  e.set_agent("gw-1");
  e.set_site("site-a");
  e.set_seq(seq);
  e.set_created_at(t0);
  auto* t = e.mutable_telemetry();
  t->set_base_time(t0);
  auto* line = t->add_lines();
  line->set_line("L1");
  line->set_good_count(seq * 10);
  return e;
}

TEST(watch_message_processor, json_line_per_message) {
  processor_settings settings;
  settings.json = true;
  message_processor p(settings);
  std::string out;
  std::string err;
  const plant::v1::Envelope e = telemetry(1);
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", e.SerializeAsString()), out, err);
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", e.SerializeAsString() + std::string("\x20\x01", 2)), out, err);
  plant::v1::Envelope replayed = e;
  replayed.set_replayed(true);
  const epoch_ms received = t0 + 4;  // delivery() stamps receipt 4 ms after creation
  EXPECT_EQ(out, envelope_json("plant/v1/site-a/gw-1/telemetry", false, e, received) + "\n" +
                     envelope_json("plant/v1/site-a/gw-1/telemetry", false, replayed, received) + "\n");
  EXPECT_NE(out.find("\"received_at\":\"2023-11-14T22:13:20.004Z\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"replayed\":true"), std::string::npos);
  EXPECT_EQ(err, "");
  EXPECT_EQ(p.received(), 2u);
}

TEST(watch_message_processor, undecodable_messages_are_reported_and_counted_not_fatal) {
  processor_settings settings;
  settings.json = true;
  settings.audit = true;
  settings.board = true;
  settings.max_error_reports = 2;
  message_processor p(settings);
  std::string out;
  std::string err;
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", "\xff\xff\xff"), out, err);
  p.handle(delivery("plant/v1/site-a/gw-1/status", "\x98\x06\x01"), out, err);
  p.handle(delivery("plant/v1/site-a/gw-1/status", "junk"), out, err);
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", telemetry(5).SerializeAsString()), out, err);
  EXPECT_EQ(err,
            "plant-watch: cannot decode message on 'plant/v1/site-a/gw-1/telemetry' (3 bytes): "
            "not a plant.v1.Envelope\n"
            "plant-watch: cannot decode message on 'plant/v1/site-a/gw-1/status' (3 bytes): "
            "an Envelope without telemetry, status or alert\n"
            "plant-watch: further undecodable messages are counted, not reported\n");
  EXPECT_EQ(p.received(), 4u);
  EXPECT_EQ(p.undecodable(), 3u);
  EXPECT_EQ(p.board().undecodable, 3u);
  EXPECT_EQ(p.board().messages, 4u);
  EXPECT_EQ(out, envelope_json("plant/v1/site-a/gw-1/telemetry", false, telemetry(5), t0 + 4) + "\n");
  ASSERT_NE(p.audit().find("site-a", "gw-1"), nullptr);
  EXPECT_EQ(p.audit().find("site-a", "gw-1")->received, 1u);
  EXPECT_EQ(p.board().agents.at({"site-a", "gw-1"}).lines.at("L1").good_count, 50u);
}

// The topic is what the broker's ACL vouches for: a status on gw-1's topic that
// claims to be gw-2's is nobody's, and gw-2's picture stays untouched.
TEST(watch_message_processor, an_envelope_naming_another_agent_than_its_topic_is_rejected_not_attributed) {
  processor_settings settings;
  settings.json = true;
  settings.audit = true;
  settings.board = true;
  message_processor p(settings);
  std::string out;
  std::string err;
  plant::v1::Envelope forged;
  forged.set_site("site-b");
  forged.set_agent("gw-2");
  forged.mutable_status()->set_state(plant::v1::AgentStatus::STATE_OFFLINE);
  p.handle(delivery("plant/v1/site-a/gw-1/status", forged.SerializeAsString(), true), out, err);
  plant::v1::Envelope other_agent = telemetry(3);
  other_agent.set_agent("gw-2");
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", other_agent.SerializeAsString()), out, err);
  EXPECT_EQ(err,
            "plant-watch: rejected message on 'plant/v1/site-a/gw-1/status': the envelope names site 'site-b' agent "
            "'gw-2', the topic belongs to site 'site-a' agent 'gw-1' (only that agent may write there; the message "
            "is not counted as anyone's)\n"
            "plant-watch: rejected message on 'plant/v1/site-a/gw-1/telemetry': the envelope names site 'site-a' "
            "agent 'gw-2', the topic belongs to site 'site-a' agent 'gw-1' (only that agent may write there; the "
            "message is not counted as anyone's)\n");
  EXPECT_EQ(out, "");
  EXPECT_EQ(p.rejected(), 2u);
  EXPECT_EQ(p.board().rejected, 2u);
  EXPECT_TRUE(p.board().agents.empty());
  EXPECT_EQ(p.audit().find("site-b", "gw-2"), nullptr);
  EXPECT_EQ(p.audit().find("site-a", "gw-2"), nullptr);
  // The agent's own message on its own topic, and one that leaves the names to the topic, are taken.
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", telemetry(4).SerializeAsString()), out, err);
  plant::v1::Envelope unnamed = telemetry(5);
  unnamed.clear_site();
  unnamed.clear_agent();
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", unnamed.SerializeAsString()), out, err);
  EXPECT_EQ(p.rejected(), 2u);
  ASSERT_NE(p.audit().find("site-a", "gw-1"), nullptr);
  EXPECT_EQ(p.audit().find("site-a", "gw-1")->received, 2u);
}

TEST(watch_message_processor, empty_payload_clears_a_retained_message_silently) {
  processor_settings settings;
  settings.json = true;
  message_processor p(settings);
  std::string out;
  std::string err;
  p.handle(delivery("plant/v1/site-a/gw-1/alerts", "", true), out, err);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
  EXPECT_EQ(p.received(), 1u);
  EXPECT_EQ(p.empty_payloads(), 1u);
  EXPECT_EQ(p.undecodable(), 0u);
}

TEST(watch_message_processor, views_are_kept_only_when_asked_for) {
  message_processor p(processor_settings{});
  std::string out;
  std::string err;
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", telemetry(1).SerializeAsString()), out, err);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(p.board().agents.empty());
  EXPECT_EQ(p.audit().find("site-a", "gw-1"), nullptr);
}

TEST(watch_message_processor, arena_reuse_keeps_messages_apart) {
  processor_settings settings;
  settings.board = true;
  message_processor p(settings);
  std::string out;
  std::string err;
  plant::v1::Envelope big = telemetry(1);
  for (int i = 0; i < 5000; ++i) big.mutable_telemetry()->add_stocks()->set_material("m" + std::to_string(i));
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", big.SerializeAsString()), out, err);  // spills past the block
  p.handle(delivery("plant/v1/site-a/gw-1/telemetry", telemetry(2).SerializeAsString()), out, err);
  const agent_view& a = p.board().agents.at({"site-a", "gw-1"});
  EXPECT_EQ(a.stocks.size(), 5000u);
  EXPECT_EQ(a.lines.at("L1").good_count, 20u);
}

}  // namespace
}  // namespace plant::watch
