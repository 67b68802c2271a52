// The host side's reading of Sparkplug: topics, alias resolution, the session audit.
#include <gtest/gtest.h>

#include "common/sparkplug/host_tracker.hpp"
#include "common/sparkplug/sparkplug_json.hpp"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace plant::sparkplug {
namespace {

namespace tahu = org::eclipse::tahu::protobuf;

TEST(sparkplug_topic, parses_and_formats_every_message_type_and_refuses_anything_else) {
  auto t = parse_topic("spBv1.0/site-a/DDATA/gw-1/plc");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->type, message_type::ddata);
  EXPECT_EQ(t->group_id, "site-a");
  EXPECT_EQ(t->edge_node_id, "gw-1");
  EXPECT_EQ(t->device_id, "plc");
  EXPECT_EQ(format_topic(*t), "spBv1.0/site-a/DDATA/gw-1/plc");
  auto state = parse_topic("spBv1.0/STATE/scada");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->type, message_type::state);
  EXPECT_EQ(state->edge_node_id, "scada");
  EXPECT_EQ(format_topic(*parse_topic("spBv1.0/g/NBIRTH/n")), "spBv1.0/g/NBIRTH/n");
  for (const char* bad : {"spBv1.0/g/NBIRTH/n/extra", "spBv1.0/g/DDATA/n", "spBv1.0/g/NOPE/n", "spAv1.0/g/NBIRTH/n",
                          "spBv1.0//NBIRTH/n", "spBv1.0/STATE/a/b", "spBv1.0", "plant/v1/a/b/telemetry", ""})
    EXPECT_FALSE(parse_topic(bad)) << bad;
}

tahu::Payload::Metric* add(tahu::Payload& p, const std::string& name, std::uint64_t alias, double value) {
  auto* m = p.add_metrics();
  if (!name.empty()) m->set_name(name);
  m->set_alias(alias);
  m->set_datatype(10);
  m->set_double_value(value);
  return m;
}

TEST(host_tracker, resolves_aliases_from_births_and_counts_gaps_repeats_and_unknown_aliases) {
  host_tracker tracker;
  decoded_message m;
  std::string error;
  tahu::Payload nbirth;
  nbirth.set_seq(0);
  auto* bdseq = nbirth.add_metrics();
  bdseq->set_name("bdSeq");
  bdseq->set_datatype(8);
  bdseq->set_long_value(4);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/NBIRTH/n"), nbirth.SerializeAsString(), m, error));
  EXPECT_EQ(*m.bdseq, 4u);
  tahu::Payload dbirth;
  dbirth.set_seq(1);
  add(dbirth, "stock/resin/quantity", 7, 1.0);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/DBIRTH/n/plc"), dbirth.SerializeAsString(), m, error));
  tahu::Payload data;
  data.set_seq(2);
  auto* metric = data.add_metrics();
  metric->set_alias(7);
  metric->set_double_value(2.5);  // no datatype: taken from the birth
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/DDATA/n/plc"), data.SerializeAsString(), m, error));
  ASSERT_EQ(m.metrics.size(), 1u);
  EXPECT_EQ(m.metrics[0].name, "stock/resin/quantity");
  EXPECT_EQ(m.metrics[0].datatype, 10u);
  EXPECT_EQ(*m.bdseq, 4u);
  data.set_seq(5);  // 3 and 4 never came
  data.mutable_metrics(0)->set_alias(99);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/DDATA/n/plc"), data.SerializeAsString(), m, error));
  EXPECT_EQ(m.missing_before, 2u);
  EXPECT_EQ(m.unknown_aliases, 1u);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/DDATA/n/plc"), data.SerializeAsString(), m, error));
  EXPECT_TRUE(m.repeated);
  // An NDEATH of an older session does not end this one.
  tahu::Payload death;
  auto* dead = death.add_metrics();
  dead->set_name("bdSeq");
  dead->set_datatype(8);
  dead->set_long_value(3);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/NDEATH/n"), death.SerializeAsString(), m, error));
  EXPECT_TRUE(m.stale_death);
  dead->set_long_value(4);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/NDEATH/n"), death.SerializeAsString(), m, error));
  EXPECT_FALSE(m.stale_death);
  // Data after the session's death and before a new birth cannot be read as this session's.
  data.set_seq(6);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/DDATA/n/plc"), data.SerializeAsString(), m, error));
  EXPECT_TRUE(m.before_birth);
  EXPECT_EQ(m.missing_before, 0u);
  const node_audit& audit = tracker.nodes().begin()->second;
  EXPECT_EQ(audit.gaps, 2u);
  EXPECT_EQ(audit.repeats, 1u);
  EXPECT_EQ(audit.unknown_aliases, 3u);  // the repeat and the message after the death carried it too
  EXPECT_EQ(audit.deaths, 1u);
  EXPECT_EQ(audit.stale_deaths, 1u);
  EXPECT_FALSE(audit.online);
}

TEST(host_tracker, seq_255_then_0_is_no_gap_and_hostile_bytes_are_refused_without_changing_the_session) {
  host_tracker tracker;
  decoded_message m;
  std::string error;
  tahu::Payload p;
  p.set_seq(0);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/NBIRTH/n"), p.SerializeAsString(), m, error));
  for (std::uint64_t i = 1; i <= 300; ++i) {
    p.set_seq(i % 256);
    ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/NDATA/n"), p.SerializeAsString(), m, error));
  }
  EXPECT_FALSE(tracker.decode(*parse_topic("spBv1.0/g/NDATA/n"), std::string("\x0a\xff\xff\xff\xff", 5), m, error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(tracker.nodes().begin()->second.gaps, 0u);
  EXPECT_EQ(tracker.nodes().begin()->second.received, 301u);
}

TEST(sparkplug_json, a_message_is_one_object_with_the_kind_ids_seq_bdseq_and_metrics_by_name) {
  host_tracker tracker;
  decoded_message m;
  std::string error;
  tahu::Payload nbirth;
  nbirth.set_seq(0);
  nbirth.set_timestamp(1000);
  auto* bdseq = nbirth.add_metrics();
  bdseq->set_name("bdSeq");
  bdseq->set_datatype(8);
  bdseq->set_long_value(2);
  add(nbirth, "shortage/resin/rate", 3, 12.5);
  ASSERT_TRUE(tracker.decode(*parse_topic("spBv1.0/g/NBIRTH/n"), nbirth.SerializeAsString(), m, error));
  wire::json_writer w;
  write_sparkplug_json(w, "spBv1.0/g/NBIRTH/n", false, m, 1234);
  EXPECT_EQ(w.text(),
            R"({"kind":"sparkplug","topic":"spBv1.0/g/NBIRTH/n","message_type":"NBIRTH","group_id":"g","edge_node_id":"n",)"
            R"("device_id":null,"seq":0,"bdSeq":2,"timestamp":1000,"received_at":1234,"metrics":[)"
            R"({"name":"bdSeq","type":"UInt64","value":2},{"name":"shortage/resin/rate","alias":3,"type":"Double","value":12.5}]})");
}

}  // namespace
}  // namespace plant::sparkplug
