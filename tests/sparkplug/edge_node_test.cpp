// The Sparkplug edge node's session rules, against a recording connection and
// decoded with the host side's own tracker (the independent Tahu decoder runs
// in the integration tests).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <map>
#include <set>

#include "agent/encoding/envelope.hpp"
#include "agent/encoding/telemetry_batcher.hpp"
#include "agent/sparkplug/edge_node.hpp"
#include "common/sparkplug/host_tracker.hpp"
#include "common/sparkplug/sparkplug_metrics.hpp"
#include "plant/v1/plant.pb.h"
#include "sparkplug_b/sparkplug_b.pb.h"
#include "tests/support/capture_publisher.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::sparkplug {
namespace {

namespace tahu = org::eclipse::tahu::protobuf;

sample stock_sample(const std::string& material, double quantity, epoch_ms at, quality q = quality::good) {
  sample s;
  s.kind = sample::kind_t::stock;
  s.name = material;
  s.quantity = quantity;
  s.unit = "kg";
  s.q = q;
  s.source_time = at;
  s.receive_time = at;
  return s;
}

sample line_sample(const std::string& line, std::uint64_t good, epoch_ms at, quality q = quality::good) {
  sample s;
  s.kind = sample::kind_t::line;
  s.name = line;
  s.state = line_state::running;
  s.good_count = good;
  s.q = q;
  s.source_time = at;
  s.receive_time = at;
  return s;
}

struct edge_node_fixture : ::testing::Test {
  boost::asio::io_context io;
  test::temp_dir dir{"sparkplug-node"};
  test::capture_publisher wire;
  std::vector<std::uint64_t> delivered;
  int connected = 0;
  int lost = 0;
  int restarts = 0;
  std::unique_ptr<edge_node> node;
  transport::publisher_events wire_events;
  std::string primary_host;
  encoding::telemetry_batcher batcher{{"gw-1", "site-a"}};
  std::uint64_t next_seq = 1;

  void make_node() {
    edge_node_settings s;
    s.group_id = "site-a";
    s.edge_node_id = "gw-1";
    s.primary_host_id = primary_host;
    s.version = "1.2.3";
    s.materials = {"resin"};
    s.bdseq_file = dir.file("sparkplug/bdseq");
    transport::publisher_events outer;
    outer.connected = [this] { ++connected; };
    outer.connection_lost = [this](const std::string&) { ++lost; };
    outer.delivered = [this](std::uint64_t tag) { delivered.push_back(tag); };
    node = std::make_unique<edge_node>(io, s, outer, nullptr);
    wire_events = node->wire_events();
    node->attach(wire, [this](const std::string&, bool) {
      ++restarts;
      wire.connected_ = false;
      wire_events.connection_lost("restart");
    });
  }

  void connect() {
    (void)node->will_for_next_connect();
    wire.connected_ = true;
    wire_events.session_started();  // CONNACK
    wire_events.connected();        // SUBACK
  }

  /// Seals `samples` (from source `source`) and hands the envelope to the node as the outbox would.
  transport::publish_outcome send(const std::vector<sample>& samples, const std::string& source = "plc",
                                  bool replayed = false) {
    for (const sample& s : samples) batcher.add(s, source);
    std::string bytes = batcher.seal(next_seq, 1000);
    if (replayed) encoding::mark_replayed(bytes);
    return node->publish("ignored", std::move(bytes), 1, false, next_seq++);
  }

  /// Everything the node published, decoded in order.
  std::vector<decoded_message> decoded() {
    host_tracker tracker;
    std::vector<decoded_message> out;
    for (const auto& sent : wire.log) {
      auto t = parse_topic(sent.topic);
      EXPECT_TRUE(t.has_value()) << sent.topic;
      if (!t) continue;
      decoded_message m;
      std::string error;
      EXPECT_TRUE(tracker.decode(*t, sent.payload, m, error)) << error;
      out.push_back(std::move(m));
    }
    return out;
  }

  void ack_all() {
    for (std::uint64_t tag : wire.take_unacked()) wire_events.delivered(tag);
    io.poll();
  }
};

TEST_F(edge_node_fixture, a_connection_gives_an_nbirth_with_seq_0_the_session_bdseq_and_the_node_metrics) {
  make_node();
  connect();
  ASSERT_EQ(connected, 1);
  ASSERT_EQ(wire.log.size(), 1u);
  EXPECT_EQ(wire.log[0].topic, "spBv1.0/site-a/NBIRTH/gw-1");
  tahu::Payload birth;
  ASSERT_TRUE(birth.ParseFromString(wire.log[0].payload));
  EXPECT_EQ(birth.seq(), 0u);
  std::map<std::string, const tahu::Payload::Metric*> by_name;
  for (const auto& m : birth.metrics()) by_name[m.name()] = &m;
  for (const char* name : {"bdSeq", "Node Control/Rebirth", "Properties/Version", "agent/backlog_messages",
                           "agent/backlog_oldest_age_ms", "agent/dropped", "agent/corrupted", "shortage/resin/status",
                           "shortage/resin/projected_stockout", "shortage/resin/rate"})
    EXPECT_TRUE(by_name.count(name)) << name;
  EXPECT_EQ(by_name["bdSeq"]->long_value(), 0u);
  EXPECT_EQ(by_name["bdSeq"]->datatype(), static_cast<std::uint32_t>(datatype::uint64));
  EXPECT_FALSE(by_name["Node Control/Rebirth"]->has_alias()) << "the rebirth metric must have no alias";
  EXPECT_EQ(by_name["Node Control/Rebirth"]->datatype(), static_cast<std::uint32_t>(datatype::boolean));
  EXPECT_EQ(by_name["Properties/Version"]->string_value(), "1.2.3");
  EXPECT_EQ(by_name["shortage/resin/projected_stockout"]->datatype(), static_cast<std::uint32_t>(datatype::datetime));
  // The Will carries the same bdSeq as the birth.
  tahu::Payload will;
  ASSERT_TRUE(will.ParseFromString(node->will_for_next_connect()->payload));  // the same number: not yet used again
  EXPECT_EQ(will.metrics(0).name(), "bdSeq");
  EXPECT_FALSE(will.has_seq());
}

TEST_F(edge_node_fixture, a_source_gets_a_dbirth_with_units_then_data_by_alias_only_and_unchanged_values_are_not_sent) {
  make_node();
  connect();
  ASSERT_EQ(send({stock_sample("resin", 10, 1000), line_sample("line-1", 5, 1000)}), transport::publish_outcome::ok);
  ASSERT_EQ(send({stock_sample("resin", 10, 2000), line_sample("line-1", 6, 2000)}), transport::publish_outcome::ok);
  auto messages = decoded();
  ASSERT_EQ(messages.size(), 3u);  // NBIRTH, DBIRTH, one DDATA (the first reading is the birth's)
  EXPECT_EQ(messages[1].where.type, message_type::dbirth);
  EXPECT_EQ(messages[1].where.device_id, "plc");
  EXPECT_EQ(*messages[1].seq, 1u);
  std::set<std::string> names;
  for (const auto& m : messages[1].metrics) {
    names.insert(m.name);
    if (m.name == "stock/resin/quantity") {
      EXPECT_EQ(m.unit, "kg");
      EXPECT_EQ(m.number, 10.0);
      EXPECT_EQ(*m.quality, quality_good);
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"stock/resin/quantity", "line/line-1/state", "line/line-1/good_count",
                                          "line/line-1/reject_count", "line/line-1/good_rate"}));
  const decoded_message& data = messages[2];
  EXPECT_EQ(data.where.type, message_type::ddata);
  EXPECT_EQ(*data.seq, 2u);
  ASSERT_EQ(data.metrics.size(), 1u) << "only the changed good_count is reported";
  EXPECT_EQ(data.metrics[0].name, "line/line-1/good_count");
  EXPECT_EQ(data.metrics[0].integer, 6u);
  EXPECT_EQ(data.metrics[0].timestamp, 2000);
  EXPECT_EQ(data.unknown_aliases, 0u);
  tahu::Payload raw;
  ASSERT_TRUE(raw.ParseFromString(wire.log[2].payload));
  EXPECT_FALSE(raw.metrics(0).has_name()) << "data carries the alias alone";
  EXPECT_TRUE(raw.metrics(0).has_alias());
}

TEST_F(edge_node_fixture, seq_wraps_from_255_to_0_without_a_gap_and_aliases_are_unique) {
  make_node();
  connect();
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(send({stock_sample("resin", i, 1000 + i)}), transport::publish_outcome::ok);
    ack_all();
  }
  auto messages = decoded();
  ASSERT_GT(messages.size(), 290u);
  std::uint64_t previous = *messages[0].seq;
  bool wrapped = false;
  for (std::size_t i = 1; i < messages.size(); ++i) {
    ASSERT_TRUE(messages[i].seq.has_value());
    EXPECT_EQ(*messages[i].seq, (previous + 1) % 256) << "message " << i;
    wrapped = wrapped || (previous == 255 && *messages[i].seq == 0);
    previous = *messages[i].seq;
  }
  EXPECT_TRUE(wrapped);
  host_tracker tracker;
  std::set<std::uint64_t> aliases;
  std::size_t with_alias = 0;
  for (const auto& m : messages[0].metrics)
    if (m.alias) ++with_alias, aliases.insert(*m.alias);
  for (const auto& m : messages[1].metrics)
    if (m.alias) ++with_alias, aliases.insert(*m.alias);
  EXPECT_EQ(aliases.size(), with_alias) << "aliases are unique across node and devices";
}

TEST_F(edge_node_fixture, a_full_window_answers_retry_and_says_writable_when_acknowledgements_open_it) {
  int writable = 0;
  edge_node_settings s;
  s.group_id = "site-a";
  s.edge_node_id = "gw-1";
  s.bdseq_file = dir.file("sparkplug/bdseq");
  s.max_in_flight = 8;
  transport::publisher_events outer;
  outer.delivered = [this](std::uint64_t tag) { delivered.push_back(tag); };
  outer.writable = [&] { ++writable; };
  node = std::make_unique<edge_node>(io, s, outer, nullptr);
  wire_events = node->wire_events();
  node->attach(wire, [](const std::string&, bool) {});
  connect();
  transport::publish_outcome last = transport::publish_outcome::ok;
  int sent = 0;
  for (int i = 0; i < 20 && last == transport::publish_outcome::ok; ++i) {
    last = send({stock_sample("resin", i, 1000 + i)});
    if (last == transport::publish_outcome::ok) ++sent;
  }
  EXPECT_EQ(last, transport::publish_outcome::retry) << "the window of 8 publishes fills";
  EXPECT_LT(sent, 8);
  ack_all();
  EXPECT_EQ(writable, 1);
  EXPECT_EQ(send({stock_sample("resin", 99, 5000)}), transport::publish_outcome::ok);
}

TEST_F(edge_node_fixture, a_message_that_cannot_be_sent_whole_is_encoded_again_whole_with_no_seq_gap) {
  make_node();
  connect();
  ack_all();
  send({stock_sample("resin", 1, 1000)});  // DBIRTH + nothing new
  ack_all();
  const std::size_t before = wire.log.size();
  // Two sources in one message: the second part finds the client's buffer full.
  for (const sample& s : {stock_sample("resin", 2, 2000)}) batcher.add(s, "plc");
  batcher.add(stock_sample("film", 3, 2000), "plc-b");
  const std::string bytes = batcher.seal(50, 2000);
  int calls = 0;
  wire.answer = [&](std::uint64_t) { return ++calls == 2 ? transport::publish_outcome::retry : transport::publish_outcome::ok; };
  EXPECT_EQ(node->publish("t", bytes, 1, false, 50), transport::publish_outcome::retry);
  wire.answer = nullptr;
  EXPECT_EQ(node->publish("t", bytes, 1, false, 50), transport::publish_outcome::ok);
  // The first attempt's DDATA for plc, then the whole message again: plc's value 2 once more.
  auto messages = decoded();
  std::size_t resin_twos = 0;
  for (std::size_t i = before; i < messages.size(); ++i)
    for (const auto& m : messages[i].metrics)
      if (m.name == "stock/resin/quantity" && m.number == 2.0) ++resin_twos;
  EXPECT_EQ(resin_twos, 2u) << "the retry re-sends what report by exception had counted as told";
  for (std::size_t i = 1; i < messages.size(); ++i) {
    if (messages[i].where.type == message_type::nbirth) continue;
    EXPECT_EQ(*messages[i].seq, (*messages[i - 1].seq + 1) % 256) << "no seq was spent on what was not sent";
  }
}

TEST_F(edge_node_fixture, an_outbox_message_is_delivered_once_every_sparkplug_message_it_became_is_acknowledged) {
  make_node();
  connect();
  ack_all();
  for (const sample& s : {stock_sample("resin", 1, 1000), stock_sample("resin", 2, 1000)}) batcher.add(s, "plc-a");
  batcher.add(stock_sample("film", 3, 1000), "plc-b");
  std::string bytes = batcher.seal(7, 1000);
  ASSERT_EQ(node->publish("t", bytes, 1, false, 7), transport::publish_outcome::ok);
  auto tags = wire.take_unacked();
  ASSERT_GE(tags.size(), 3u);  // two DBIRTHs (tag 0: not listed) and data for both sources
  for (std::size_t i = 0; i + 1 < tags.size(); ++i) wire_events.delivered(tags[i]);
  EXPECT_TRUE(delivered.empty()) << "one part is still unacknowledged";
  wire_events.delivered(tags.back());
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0], 7u);
}

TEST_F(edge_node_fixture, a_rebirth_command_gives_a_fresh_nbirth_with_the_same_bdseq_and_every_dbirth_without_an_ndeath) {
  make_node();
  connect();
  send({stock_sample("resin", 1, 1000)});
  ack_all();  // births still in flight would fold the request into the next message
  const std::size_t before = wire.log.size();
  tahu::Payload command;
  auto* metric = command.add_metrics();
  metric->set_name("Node Control/Rebirth");
  metric->set_datatype(static_cast<std::uint32_t>(datatype::boolean));
  metric->set_boolean_value(true);
  wire_events.message("spBv1.0/site-a/NCMD/gw-1", command.SerializeAsString());
  ASSERT_EQ(wire.log.size(), before + 2);
  EXPECT_EQ(wire.log[before].topic, "spBv1.0/site-a/NBIRTH/gw-1");
  EXPECT_EQ(wire.log[before + 1].topic, "spBv1.0/site-a/DBIRTH/gw-1/plc");
  tahu::Payload first, again;
  first.ParseFromString(wire.log[0].payload);
  again.ParseFromString(wire.log[before].payload);
  EXPECT_EQ(again.seq(), 0u);
  EXPECT_EQ(again.metrics(0).long_value(), first.metrics(0).long_value()) << "same bdSeq";
  EXPECT_EQ(node->counters().rebirth_requests, 1u);
  // Anything else in a command is ignored: nothing is written anywhere.
  command.mutable_metrics(0)->set_name("line/line-1/state");
  wire_events.message("spBv1.0/site-a/DCMD/gw-1/plc", command.SerializeAsString());
  EXPECT_EQ(wire.log.size(), before + 2);
  EXPECT_EQ(node->counters().commands_ignored, 1u);
  // A hostile payload is logged, not fatal.
  wire_events.message("spBv1.0/site-a/NCMD/gw-1", std::string("\xff\xff\xff", 3));
  EXPECT_EQ(wire.log.size(), before + 2);
}

TEST_F(edge_node_fixture, a_source_that_stops_answering_gets_a_ddeath_and_a_dbirth_when_it_is_back) {
  make_node();
  connect();
  send({stock_sample("resin", 5, 1000)});
  send({stock_sample("resin", 5, 2000, quality::stale)});
  send({stock_sample("resin", 5, 3000, quality::stale)});
  send({stock_sample("resin", 6, 4000)});
  auto messages = decoded();
  std::vector<std::string> types;
  for (const auto& m : messages) types.push_back(std::string(to_string(m.where.type)));
  // No data while it is dead, and the birth after its return carries the new reading.
  EXPECT_EQ(types, (std::vector<std::string>{"NBIRTH", "DBIRTH", "DDEATH", "DBIRTH"}));
  EXPECT_EQ(node->counters().device_deaths, 1u);
  ASSERT_EQ(messages[3].metrics.size(), 1u);
  EXPECT_EQ(messages[3].metrics[0].number, 6.0);
  EXPECT_EQ(*messages[3].metrics[0].quality, quality_good);
}

TEST_F(edge_node_fixture, held_data_goes_out_flagged_historical_and_does_not_move_the_live_values) {
  make_node();
  connect();
  send({stock_sample("resin", 5, 1000)});
  send({stock_sample("resin", 4, 500), stock_sample("resin", 5, 600)}, "plc", true);
  auto messages = decoded();
  ASSERT_EQ(messages.size(), 3u);
  ASSERT_EQ(messages[2].metrics.size(), 2u) << "history is sent whole, not by exception";
  for (const auto& m : messages[2].metrics) EXPECT_TRUE(m.historical);
  // The live value is still 5: a new 5 is no change.
  send({stock_sample("resin", 5, 2000)});
  EXPECT_EQ(decoded().size(), 3u);
}

TEST_F(edge_node_fixture, held_data_of_a_source_that_is_dead_now_is_sent_between_a_dbirth_and_a_ddeath) {
  make_node();
  connect();
  send({stock_sample("resin", 5, 1000)});
  send({stock_sample("resin", 5, 2000, quality::stale)});  // DDEATH
  send({stock_sample("resin", 4, 500)}, "plc", true);       // held from before: not lost
  auto messages = decoded();
  std::vector<std::string> types;
  for (const auto& m : messages) types.push_back(std::string(to_string(m.where.type)));
  EXPECT_EQ(types, (std::vector<std::string>{"NBIRTH", "DBIRTH", "DDEATH", "DBIRTH", "DDATA", "DDEATH"}));
  ASSERT_EQ(messages[4].metrics.size(), 1u);
  EXPECT_TRUE(messages[4].metrics[0].historical);
  EXPECT_EQ(messages[4].metrics[0].number, 4.0);
  // Still dead: its next stale reading sends nothing more.
  send({stock_sample("resin", 5, 3000, quality::stale)});
  EXPECT_EQ(decoded().size(), messages.size());
}

TEST_F(edge_node_fixture, metrics_past_the_bound_are_counted_and_not_announced) {
  make_node();
  connect();
  std::vector<sample> many;
  for (int i = 0; i < 50010; ++i) many.push_back(stock_sample("m" + std::to_string(i), 1, 1000));
  ASSERT_EQ(send(many), transport::publish_outcome::ok);
  EXPECT_EQ(node->metric_count(), 50000u);
  // 10 node metrics leave room for 49,990 of the 50,010 stocks.
  EXPECT_EQ(node->counters().metrics_dropped, 20u);
}

TEST_F(edge_node_fixture, bdseq_grows_by_one_per_session_and_survives_a_new_process) {
  make_node();
  connect();
  EXPECT_EQ(node->bdseq(), 0u);
  wire.connected_ = false;
  wire_events.connection_lost("gone");
  (void)node->will_for_next_connect();  // an attempt that fails: the number is reused
  connect();
  EXPECT_EQ(node->bdseq(), 1u);
  node.reset();
  make_node();  // a restart reads the file: the next session gets the next number
  connect();
  EXPECT_EQ(node->bdseq(), 2u);
}

TEST_F(edge_node_fixture, a_retained_state_that_arrives_before_the_suback_still_lets_the_node_be_born) {
  primary_host = "scada";
  make_node();
  (void)node->will_for_next_connect();
  wire.connected_ = true;
  wire_events.session_started();
  // MQTT lets the broker send retained messages before the SUBACK.
  wire_events.message("spBv1.0/STATE/scada", R"({"online":true,"timestamp":2000})");
  EXPECT_EQ(connected, 0);
  wire_events.connected();
  EXPECT_EQ(connected, 1);
  ASSERT_FALSE(wire.log.empty());
  EXPECT_EQ(wire.log[0].topic, "spBv1.0/site-a/NBIRTH/gw-1");
  // A STATE whose timestamp is no clock reading is ignored, not trusted.
  wire_events.message("spBv1.0/STATE/scada", R"({"online":false,"timestamp":1e300})");
  EXPECT_TRUE(node->connected());
}

TEST_F(edge_node_fixture, with_a_primary_host_nothing_is_born_until_its_state_says_online_and_offline_ends_the_session) {
  primary_host = "scada";
  make_node();
  EXPECT_EQ(node->subscriptions().back(), "spBv1.0/STATE/scada");
  connect();
  EXPECT_TRUE(wire.log.empty());
  EXPECT_EQ(send({stock_sample("resin", 1, 1000)}), transport::publish_outcome::retry);
  wire_events.message("spBv1.0/STATE/scada", "not json");  // ignored with a warning
  EXPECT_EQ(connected, 0);
  wire_events.message("spBv1.0/STATE/scada", R"({"online":true,"timestamp":2000})");
  EXPECT_EQ(connected, 1);
  ASSERT_EQ(wire.log.size(), 1u);
  // An older STATE (a stale retained copy) changes nothing.
  wire_events.message("spBv1.0/STATE/scada", R"({"online":false,"timestamp":1000})");
  EXPECT_EQ(lost, 0);
  wire_events.message("spBv1.0/STATE/scada", R"({"online":false,"timestamp":3000})");
  EXPECT_EQ(lost, 1);
  EXPECT_EQ(wire.log.back().topic, "spBv1.0/site-a/NDEATH/gw-1");
  EXPECT_EQ(wire.log.back().qos, 1);
  EXPECT_FALSE(node->connected());
}

}  // namespace
}  // namespace plant::sparkplug
