// plant-register end to end: real agents -> Mosquitto -> plant-register
// instances -> a private PostgreSQL, with the register killed, the database
// stopped and the journal's disk full, and the HTTP API read as a client would.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <sys/stat.h>
#include <thread>

#include "tests/support/agent_harness.hpp"
#include "tests/support/binaries.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/register_harness.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/shortage_scenario.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/text_files.hpp"
#include "tests/support/wait_until.hpp"
#include "plant/v1/plant.pb.h"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

std::string simulator(int seed, int lines = 4, int materials = 12) {
  return "[[source.simulator]]\nname = \"sim\"\nseed = " + std::to_string(seed) + "\nlines = " +
         std::to_string(lines) + "\nmaterials = " + std::to_string(materials) +
         "\ninterval = \"100ms\"\nspeed = 20.0\n";
}

// Adds mqtt.share_group to the instance's config.
void join_share_group(register_instance& r, const std::string& group) {
  std::string text = read_file(r.process.config_path());
  text.insert(text.find("[mqtt]\n") + 7, "share_group = \"" + group + "\"\n");
  write_file(r.process.config_path(), text);
}

std::string audit_entry(const register_instance& r, const std::string& agent) {
  for (const auto& item : json_array_items(r.get("/api/audit")))
    if (json_member(item, "agent") == "\"" + agent + "\"") return item;
  return "";
}

std::int64_t member_integer(const std::string& object, const std::string& key) {
  const std::string text = json_member(object, key);
  return text.empty() ? -1 : std::stoll(text);
}

// The agent's own count of sequenced messages, from its shutdown status in the database.
std::int64_t last_seq_in_database(const postgres_server& pg, const std::string& agent) {
  const std::string out = pg.query("SELECT last_seq FROM agents WHERE agent = '" + agent + "' AND reason = 'shutdown'");
  return out.empty() || out.rfind("ERROR", 0) == 0 ? -1 : std::stoll(out);
}

// Everything an agent sealed is stored exactly once: stored == last_seq, no gaps.
testing::AssertionResult complete(const register_instance& r, const postgres_server& pg, const std::string& agent) {
  const std::int64_t last_seq = last_seq_in_database(pg, agent);
  const std::string entry = audit_entry(r, agent);
  if (last_seq <= 0 || entry.empty()) return testing::AssertionFailure() << agent << ": last_seq " << last_seq << ", audit " << entry;
  if (member_integer(entry, "stored") != last_seq || member_integer(entry, "gaps") != 0)
    return testing::AssertionFailure() << agent << ": last_seq " << last_seq << ", audit " << entry;
  return testing::AssertionSuccess();
}

// Rows in the sample tables equal the samples of the messages counted once.
void expect_no_doubled_rows(const postgres_server& pg) {
  const std::string rows = pg.query(
      "SELECT (SELECT count(*) FROM stock_samples) + (SELECT count(*) FROM line_samples) = "
      "(SELECT sum(samples) FROM agents)");
  EXPECT_EQ(rows, "t\n") << pg.query("SELECT agent, samples, stored, duplicates FROM agents");
}

TEST(register_ingest, three_agents_two_registers_in_a_share_group_store_everything_exactly_once) {
  central_stack stack;
  ASSERT_TRUE(stack.start());
  register_instance r1(stack.dir, "reg-1", stack.broker.url(), stack.pg.url());
  register_instance r2(stack.dir, "reg-2", stack.broker.url(), stack.pg.url());
  for (auto* r : {&r1, &r2}) join_share_group(*r, "registers");
  ASSERT_TRUE(run_command({register_binary(), "--check-config", r1.process.config_path()}, 10s).ok());
  ASSERT_TRUE(r1.start_and_wait());
  ASSERT_TRUE(r2.start_and_wait());
  PLANT_ASSERT_EVENTUALLY(stack.broker.has_subscription("reg-1", "$share/registers/plant/v1/+/+/telemetry") &&
                              stack.broker.has_subscription("reg-2", "$share/registers/plant/v1/+/+/telemetry"),
                          10s)
      << stack.broker.log_text();

  std::vector<std::unique_ptr<agent_process>> agents;
  const std::vector<std::string> sites{"plant-a", "plant-b", "plant-c"};
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const std::string id = "gw-" + std::to_string(i + 1);
    agents.push_back(std::make_unique<agent_process>(
        stack.dir, id,
        agent_config_text(id, sites[i], stack.dir.file(id + "-state"), stack.broker.url(),
                          "publish_interval = \"100ms\"\n", simulator(static_cast<int>(i) + 1))));
    ASSERT_TRUE(agents.back()->start());
  }
  PLANT_ASSERT_EVENTUALLY(stack.pg.query("SELECT count(*) FROM agents WHERE max_seq >= 40") == "3\n", 60s)
      << stack.pg.query("SELECT agent, max_seq FROM agents") << r1.process.log();

  // Duplicates: a crashed agent resends what it sent but had not yet recorded as acknowledged.
  PLANT_ASSERT_EVENTUALLY(
      [&] {
        agents[0]->process().kill9();
        const bool restarted = agents[0]->start();
        const std::string dups = stack.pg.query("SELECT duplicates FROM agents WHERE agent = 'gw-1'");
        if (!restarted) return false;
        std::this_thread::sleep_for(1500ms);  // traffic between crashes, so each has unacknowledged messages
        return stack.pg.query("SELECT duplicates FROM agents WHERE agent = 'gw-1'") != "0\n" && dups != "";
      }(),
      90s)
      << agents[0]->log();

  for (auto& a : agents) ASSERT_TRUE(a->process().terminate_and_wait(15s).code == 0) << a->log();
  for (const auto& id : {"gw-1", "gw-2", "gw-3"}) {
    PLANT_EXPECT_EVENTUALLY(complete(r1, stack.pg, id), 30s) << r1.process.log() << r2.process.log();
  }
  EXPECT_GT(member_integer(audit_entry(r1, "gw-1"), "duplicates"), 0);
  expect_no_doubled_rows(stack.pg);
  // Both instances did part of the work, and both API views agree.
  for (auto* r : {&r1, &r2}) {
    EXPECT_GT(scrape_metric(r->port, "plant_register_messages_stored_total").value_or(0), 0) << r->get("/metrics");
  }
  EXPECT_EQ(r1.get("/api/audit"), r2.get("/api/audit"));
}

// Hostile bytes on the register's topics: refused one by one (logged, counted),
// never retried, and what real agents send around them is stored.
TEST(register_ingest, hostile_messages_are_rejected_alone_and_the_rest_is_stored) {
  central_stack stack;
  ASSERT_TRUE(stack.start());
  register_instance r(stack.dir, "reg-1", stack.broker.url(), stack.pg.url());
  ASSERT_TRUE(r.start_and_wait());
  agent_process a(stack.dir, "gw-1",
                  agent_config_text("gw-1", "plant-a", stack.dir.file("a1"), stack.broker.url(),
                                    "publish_interval = \"100ms\"\n", simulator(2)));
  ASSERT_TRUE(a.start());
  PLANT_ASSERT_EVENTUALLY(scrape_metric(r.port, "plant_register_messages_stored_total").value_or(0) > 5, 30s);

  v1::Envelope far_future;
  far_future.set_agent("gw-evil");
  far_future.set_site("plant-a");
  far_future.set_seq(1);
  far_future.set_created_at(1'000'000'000'000'000LL);  // year 33658
  far_future.mutable_telemetry()->set_base_time(1'000'000'000'000'000LL);
  v1::Envelope nul_names;
  nul_names.set_agent("gw-nul");
  nul_names.set_site("plant-a");
  nul_names.set_seq(1);
  nul_names.set_created_at(1'790'812'800'000);
  nul_names.mutable_telemetry()->set_base_time(1'790'812'800'000);
  auto* stock = nul_names.mutable_telemetry()->add_stocks();
  stock->set_material(std::string("res\0in\ttab\\slash\nline", 21));
  stock->set_unit("kg");
  v1::Envelope huge_seq = nul_names;
  huge_seq.set_agent("gw-huge");
  huge_seq.set_seq(~0ull);
  // A forgery: gw-forger's topic, gw-1's name (a broker ACL lets only gw-forger write there).
  v1::Envelope forged = far_future;
  forged.set_agent("gw-1");
  forged.set_created_at(1'790'812'800'000);
  forged.mutable_telemetry()->set_base_time(1'790'812'800'000);
  const std::vector<std::pair<std::string, std::string>> payloads{
      {"gw-evil", "not protobuf at all \xff\xfe"}, {"gw-evil", std::string(1000, '\x0a')},
      {"gw-evil", far_future.SerializeAsString()},  {"gw-nul", nul_names.SerializeAsString()},
      {"gw-huge", huge_seq.SerializeAsString()},    {"gw-forger", forged.SerializeAsString()},
      {"gw-evil", ""}};
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const auto& [agent, payload] = payloads[i];
    const std::string topic = "plant/v1/plant-a/" + agent + "/telemetry";
    const std::string file = stack.dir.write("hostile-" + std::to_string(i), payload);
    std::vector<std::string> pub{"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(stack.broker.port()),
                                 "-q", "1", "-t", topic, "-f", file};
    if (payload.empty()) pub = {"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(stack.broker.port()),
                                "-q", "1", "-t", topic, "-n"};
    ASSERT_TRUE(run_command(pub, 10s).ok());
  }
  // Six cannot be stored; the NUL-named sample is stored with the NUL left out.
  PLANT_ASSERT_EVENTUALLY(scrape_metric(r.port, "plant_register_rejected_total").value_or(0) >= 6, 20s)
      << r.get("/metrics") << r.process.log();
  EXPECT_EQ(scrape_metric(r.port, "plant_register_rejected_total").value_or(0), 6) << r.process.log();
  EXPECT_NE(r.process.log().find("not stored"), std::string::npos);
  EXPECT_NE(r.process.log().find("the envelope names site 'plant-a' agent 'gw-1', the topic belongs to site "
                                 "'plant-a' agent 'gw-forger'"),
            std::string::npos)
      << r.process.log();
  PLANT_EXPECT_EVENTUALLY(stack.pg.query("SELECT material FROM stock_samples WHERE agent = 'gw-nul'") ==
                              "resin\ttab\\slash\nline\n",
                          10s)
      << stack.pg.query("SELECT material FROM stock_samples WHERE agent = 'gw-nul'");
  EXPECT_EQ(r.status("/healthz"), 200) << r.get("/healthz");
  const double before = scrape_metric(r.port, "plant_register_messages_stored_total").value_or(0);
  PLANT_EXPECT_EVENTUALLY(scrape_metric(r.port, "plant_register_messages_stored_total").value_or(0) > before + 5, 20s);
  ASSERT_TRUE(a.process().terminate_and_wait(15s).code == 0) << a.log();
  PLANT_EXPECT_EVENTUALLY(complete(r, stack.pg, "gw-1"), 30s) << r.process.log();
}

TEST(register_ingest, kill_9_of_a_register_at_random_moments_loses_nothing) {
  central_stack stack;
  ASSERT_TRUE(stack.start());
  auto make = [&](const std::string& name) {
    auto r = std::make_unique<register_instance>(stack.dir, name, stack.broker.url(), stack.pg.url());
    join_share_group(*r, "registers");
    return r;
  };
  auto r1 = make("reg-1");
  auto r2 = make("reg-2");
  ASSERT_TRUE(r1->start_and_wait());
  ASSERT_TRUE(r2->start_and_wait());
  agent_process a1(stack.dir, "gw-1",
                   agent_config_text("gw-1", "plant-a", stack.dir.file("a1"), stack.broker.url(),
                                     "publish_interval = \"50ms\"\n", simulator(7, 6, 30)));
  agent_process a2(stack.dir, "gw-2",
                   agent_config_text("gw-2", "plant-b", stack.dir.file("a2"), stack.broker.url(),
                                     "publish_interval = \"50ms\"\n", simulator(8, 6, 30)));
  ASSERT_TRUE(a1.start());
  ASSERT_TRUE(a2.start());
  std::mt19937 random(20261201);
  std::uniform_int_distribution<int> pause_ms(200, 1500);
  for (int cycle = 0; cycle < 10; ++cycle) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
    r1->process.process().kill9();
    ASSERT_TRUE(r1->start_and_wait()) << "cycle " << cycle;
  }
  ASSERT_TRUE(a1.process().terminate_and_wait(15s).code == 0) << a1.log();
  ASSERT_TRUE(a2.process().terminate_and_wait(15s).code == 0) << a2.log();
  PLANT_EXPECT_EVENTUALLY(complete(*r2, stack.pg, "gw-1"), 60s) << r1->process.log() << r2->process.log();
  PLANT_EXPECT_EVENTUALLY(complete(*r2, stack.pg, "gw-2"), 60s) << r2->get("/api/audit");
  expect_no_doubled_rows(stack.pg);
  EXPECT_EQ(stack.broker.log_text().find("Error saving in-memory database"), std::string::npos);
}

TEST(register_ingest, postgres_stopped_for_20_seconds_loses_nothing_and_the_journal_drains) {
  central_stack stack;
  ASSERT_TRUE(stack.start());
  register_instance r(stack.dir, "reg-1", stack.broker.url(), stack.pg.url());
  ASSERT_TRUE(r.start_and_wait());
  agent_process a(stack.dir, "gw-1",
                  agent_config_text("gw-1", "plant-a", stack.dir.file("a1"), stack.broker.url(),
                                    "publish_interval = \"100ms\"\n", simulator(3)));
  ASSERT_TRUE(a.start());
  PLANT_ASSERT_EVENTUALLY(scrape_metric(r.port, "plant_register_messages_stored_total").value_or(0) > 10, 30s);
  ASSERT_TRUE(stack.pg.stop());
  const auto stopped_at = std::chrono::steady_clock::now();
  // The register says so, and keeps taking deliveries into its journal.
  PLANT_EXPECT_EVENTUALLY(r.status("/healthz") == 503 && r.get("/healthz").find("database") != std::string::npos, 10s)
      << r.get("/healthz");
  PLANT_EXPECT_EVENTUALLY(scrape_metric(r.port, "plant_register_journal_backlog_messages").value_or(0) > 20, 15s)
      << r.get("/metrics");
  EXPECT_EQ(r.status("/api/agents"), 503);
  std::this_thread::sleep_until(stopped_at + 20s);
  ASSERT_TRUE(stack.pg.start());
  PLANT_ASSERT_EVENTUALLY(r.status("/healthz") == 200, 30s) << r.get("/healthz") << r.process.log();
  ASSERT_TRUE(a.process().terminate_and_wait(15s).code == 0) << a.log();
  PLANT_EXPECT_EVENTUALLY(complete(r, stack.pg, "gw-1"), 30s) << r.process.log();
  PLANT_EXPECT_EVENTUALLY(scrape_metric(r.port, "plant_register_journal_backlog_messages").value_or(1) == 0, 10s);
  EXPECT_EQ(scrape_metric(r.port, "plant_register_journal_dropped_total").value_or(1), 0);
  expect_no_doubled_rows(stack.pg);
}

// The PUBACK experiment: a register whose journal cannot write must not let the
// broker consider anything delivered. Killed and started again with room on its
// disk, it receives every message again from its session, and nothing is missing.
TEST(register_ingest, a_journal_that_cannot_write_acknowledges_nothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  central_stack stack;
  ASSERT_TRUE(stack.start());
  temp_dir disk("register-disk");
  ASSERT_EQ(::mount("tmpfs", disk.path().c_str(), "tmpfs", 0, "size=4m"), 0) << std::strerror(errno);
  struct unmount_at_end {
    std::string path;
    ~unmount_at_end() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{disk.path()};
  const std::uint16_t port = free_tcp_port();
  register_process r(stack.dir, "reg-1",
                     register_config_text(disk.path() + "/state", stack.broker.url(), stack.pg.url(), port, "reg-1"));
  ASSERT_TRUE(r.start());
  PLANT_ASSERT_EVENTUALLY(http_get(port, "/healthz", 5s).value_or(http_reply{}).status == 200, 20s) << r.log();
  agent_process a(stack.dir, "gw-1",
                  agent_config_text("gw-1", "plant-a", stack.dir.file("a1"), stack.broker.url(),
                                    "publish_interval = \"100ms\"\n", simulator(5)));
  ASSERT_TRUE(a.start());
  PLANT_ASSERT_EVENTUALLY(scrape_metric(port, "plant_register_messages_stored_total").value_or(0) > 5, 30s);
  // Fill the disk: the journal's next append fails.
  run_command({"dd", "if=/dev/zero", "of=" + disk.path() + "/filler", "bs=64k"}, 30s);
  PLANT_ASSERT_EVENTUALLY(scrape_metric(port, "plant_register_journal_failures_total").value_or(0) > 0, 20s)
      << r.log();
  PLANT_EXPECT_EVENTUALLY(http_get(port, "/healthz", 5s).value_or(http_reply{}).body.find("journal") !=
                              std::string::npos,
                          10s);
  std::this_thread::sleep_for(2s);  // more messages arrive at the broker meanwhile, none acknowledged
  r.process().kill9();
  ASSERT_EQ(::unlink((disk.path() + "/filler").c_str()), 0);
  ASSERT_TRUE(r.start());
  ASSERT_TRUE(a.process().terminate_and_wait(15s).code == 0) << a.log();
  const std::string audit_path = "/api/audit";
  PLANT_EXPECT_EVENTUALLY(
      [&] {
        const std::int64_t last_seq = last_seq_in_database(stack.pg, "gw-1");
        auto reply = http_get(port, audit_path, 5s);
        if (!reply || last_seq <= 0) return false;
        const auto items = json_array_items(reply->body);
        return items.size() == 1 && member_integer(items[0], "stored") == last_seq &&
               member_integer(items[0], "gaps") == 0;
      }(),
      60s)
      << http_get(port, audit_path, 5s).value_or(http_reply{}).body << r.log();
}

// Two plants on WMS exports (one running out of resin, one with plenty) and one on a
// simulator, all stored; then the API is read as a client would.
TEST(register_api, every_endpoint_answers_with_its_fields_order_and_filters_and_400_names_the_parameter) {
  central_stack stack;
  ASSERT_TRUE(stack.start());
  register_instance r(stack.dir, "reg-1", stack.broker.url(), stack.pg.url());
  ASSERT_TRUE(r.start_and_wait());
  const std::string north_drop = stack.dir.file("north"), south_drop = stack.dir.file("south");
  ASSERT_EQ(::mkdir(north_drop.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(south_drop.c_str(), 0755), 0);
  agent_process north(stack.dir, "north", agent_config_text("north-gw", "north", stack.dir.file("n"), stack.broker.url(),
                                                            "publish_interval = \"100ms\"\n",
                                                            csv_section(north_drop) + material_section));
  agent_process south(stack.dir, "south", agent_config_text("south-gw", "south", stack.dir.file("s"), stack.broker.url(),
                                                            "publish_interval = \"100ms\"\n",
                                                            csv_section(south_drop) + material_section));
  agent_process lines(stack.dir, "lines", agent_config_text("line-gw", "east", stack.dir.file("l"), stack.broker.url(),
                                                            "publish_interval = \"100ms\"\n", simulator(11, 3, 4)));
  ASSERT_TRUE(north.start());
  ASSERT_TRUE(south.start());
  ASSERT_TRUE(lines.start());
  drop_file(stack.dir, north_drop, "north.csv", consuming_history(90));  // 1 t left at 90 h: short
  drop_file(stack.dir, south_drop, "south.csv", surplus_history());
  // South's surplus shows with its next status message (heartbeat_interval 1s).
  PLANT_ASSERT_EVENTUALLY(json_array_items(r.get("/api/shortages")).size() == 1 &&
                              r.get("/api/shortages").find("\"surplus\":[{") != std::string::npos &&
                              std::stod("0" + json_member(json_array_items(r.get("/api/shortages"))[0], "quantity")) < 1100 &&
                              r.get("/api/stock?site=south").find("resin") != std::string::npos &&
                              json_array_items(r.get("/api/stock?site=north&limit=100000")).size() == 91,
                          30s)
      << r.get("/api/shortages") << r.process.log();

  // /api/agents: one per agent, sorted by site then agent, every field.
  const auto agents = json_array_items(r.get("/api/agents"));
  ASSERT_EQ(agents.size(), 3u) << r.get("/api/agents");
  EXPECT_EQ(unquoted(json_member(agents[0], "site")), "east");
  EXPECT_EQ(unquoted(json_member(agents[1], "site")), "north");
  EXPECT_EQ(unquoted(json_member(agents[2], "site")), "south");
  for (const auto& a : agents) {
    for (const char* field : {"site", "agent", "state", "last_seen", "version", "backlog_messages", "dropped",
                              "corrupted", "gaps"})
      EXPECT_FALSE(json_member(a, field).empty()) << field << " missing in " << a;
    EXPECT_EQ(unquoted(json_member(a, "state")), "online") << a;
    EXPECT_EQ(json_member(a, "gaps"), "0") << a;
  }

  // /api/stock: time-ordered, filtered, bounded.
  const auto north_stock = json_array_items(r.get("/api/stock?site=north&material=resin&limit=100000"));
  ASSERT_EQ(north_stock.size(), 91u);
  for (std::size_t i = 0; i < north_stock.size(); ++i) {
    const auto& row = north_stock[i];
    for (const char* field : {"site", "agent", "material", "time", "quantity", "unit", "quality"})
      EXPECT_FALSE(json_member(row, field).empty()) << field << " missing in " << row;
    EXPECT_EQ(unquoted(json_member(row, "site")), "north");
    EXPECT_EQ(unquoted(json_member(row, "unit")), "kg");
    if (i > 0) {
      EXPECT_LE(unquoted(json_member(north_stock[i - 1], "time")), unquoted(json_member(row, "time")));
    }
  }
  EXPECT_EQ(unquoted(json_member(north_stock.front(), "time")), "2026-10-01T00:00:00.000Z");
  // from is inclusive, to exclusive; an offset is honoured (12:00+02:00 = 10:00Z).
  const auto window = json_array_items(
      r.get("/api/stock?site=north&from=2026-10-01T12:00:00%2B02:00&to=2026-10-01T15:00:00Z"));
  ASSERT_EQ(window.size(), 5u) << "10:00 .. 14:00";
  EXPECT_EQ(unquoted(json_member(window.front(), "time")), "2026-10-01T10:00:00.000Z");
  EXPECT_EQ(unquoted(json_member(window.back(), "time")), "2026-10-01T14:00:00.000Z");
  EXPECT_EQ(json_array_items(r.get("/api/stock?limit=7")).size(), 7u);
  EXPECT_TRUE(json_array_items(r.get("/api/stock?material=no-such-material")).empty());
  for (const auto& row : json_array_items(r.get("/api/stock?material=resin&limit=100000")))
    EXPECT_EQ(unquoted(json_member(row, "material")), "resin");

  // /api/current: the newest level per (site, material) and state per (site, line).
  const std::string current = r.get("/api/current");
  const auto current_stock = json_array_items(json_member(current, "stock"));
  const auto current_lines = json_array_items(json_member(current, "lines"));
  int resin_rows = 0;
  for (const auto& row : current_stock) {
    if (unquoted(json_member(row, "material")) != "resin") continue;
    ++resin_rows;
    if (unquoted(json_member(row, "site")) == "north") {
      EXPECT_EQ(unquoted(json_member(row, "time")), "2026-10-04T18:00:00.000Z") << row;
    }
  }
  EXPECT_EQ(resin_rows, 2) << current;
  ASSERT_EQ(current_lines.size(), 3u) << current;
  for (const auto& row : current_lines) {
    EXPECT_EQ(unquoted(json_member(row, "site")), "east");
    for (const char* field : {"agent", "line", "time", "state", "good_count", "reject_count", "good_rate", "quality"})
      EXPECT_FALSE(json_member(row, field).empty()) << field << " missing in " << row;
  }

  // /api/shortages: north is short of resin and south can help.
  const auto shortages = json_array_items(r.get("/api/shortages"));
  ASSERT_EQ(shortages.size(), 1u);
  const std::string& s = shortages[0];
  EXPECT_EQ(unquoted(json_member(s, "site")), "north");
  EXPECT_EQ(unquoted(json_member(s, "agent")), "north-gw");
  EXPECT_EQ(unquoted(json_member(s, "material")), "resin");
  const std::string status = unquoted(json_member(s, "status"));
  EXPECT_TRUE(status == "low" || status == "critical" || status == "out") << s;
  for (const char* field : {"quantity", "unit", "rate", "projected_stockout", "lines", "starved_lines"})
    EXPECT_FALSE(json_member(s, field).empty()) << field << " missing in " << s;
  // 1 t left at 100 kg/h on 2026-10-04T18:00: out about ten hours later.
  EXPECT_GE(unquoted(json_member(s, "projected_stockout")), "2026-10-05T03:30") << s;
  EXPECT_LE(unquoted(json_member(s, "projected_stockout")), "2026-10-05T04:30") << s;
  const auto surplus = json_array_items(json_member(s, "surplus"));
  ASSERT_EQ(surplus.size(), 1u) << s;
  EXPECT_EQ(unquoted(json_member(surplus[0], "site")), "south");
  EXPECT_EQ(unquoted(json_member(surplus[0], "agent")), "south-gw");
  EXPECT_GT(std::stod(json_member(surplus[0], "quantity")), 49000.0);
  EXPECT_EQ(unquoted(json_member(surplus[0], "unit")), "kg");

  // /api/audit
  const auto audit = json_array_items(r.get("/api/audit"));
  ASSERT_EQ(audit.size(), 3u);
  for (const auto& a : audit) {
    for (const char* field :
         {"site", "agent", "stored", "duplicates", "gaps", "missing", "reported_dropped", "reported_corrupted"})
      EXPECT_FALSE(json_member(a, field).empty()) << field << " missing in " << a;
    EXPECT_EQ(json_member(a, "missing"), "[]") << a;
  }

  // Bad parameters: 400, naming the parameter.
  const std::vector<std::pair<std::string, std::string>> bad{
      {"/api/stock?sight=north", "sight"},          {"/api/stock?from=yesterday", "from"},
      {"/api/stock?to=2026-10-01T25:00:00Z", "to"}, {"/api/stock?limit=0", "limit"},
      {"/api/stock?limit=abc", "limit"},            {"/api/stock?limit=100001", "limit"},
      {"/api/stock?limit=-5", "limit"},             {"/api/stock?site=a&site=b", "site"},
      {"/api/stock?from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z", "from"},
      {"/api/stock?site=%zz", "site"},              {"/api/agents?site=north", "site"},
      {"/api/stock?from=2026-10-01T00:00:00", "from"}};
  for (const auto& [path, parameter] : bad) {
    auto reply = http_get(r.port, path, 10s);
    ASSERT_TRUE(reply.has_value()) << path;
    EXPECT_EQ(reply->status, 400) << path << ": " << reply->body;
    EXPECT_NE(reply->body.find(parameter), std::string::npos) << path << ": " << reply->body;
  }
  EXPECT_EQ(r.status("/api/nothing"), 404);
  const command_result post = run_command(
      {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://127.0.0.1:" + std::to_string(r.port) + "/api/agents"},
      10s);
  EXPECT_EQ(post.stdout_text, "405");
  const std::string metrics = r.get("/metrics");
  for (const char* name : {"plant_register_messages_received_total", "plant_register_messages_stored_total",
                           "plant_register_batch_seconds_bucket", "plant_register_journal_backlog_messages",
                           "plant_register_database_errors_total", "plant_register_samples_stored_total"})
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
}

TEST(register_config, errors_name_the_file_line_and_key_and_secrets_stay_out_of_urls) {
  temp_dir dir("register-config");
  const std::string path = dir.write("bad.toml",
                                     "[register]\nstate_dir = \"\"\n[mqtt]\nshare_group = \"a/b\"\n[database]\n"
                                     "url = \"postgresql://plant:secret@db/plant\"\nmax_batch = 0\n[http]\nlisten = \"x\"\n"
                                     "[htttp]\n");
  const command_result r = run_command({register_binary(), "--check-config", path}, 10s);
  EXPECT_EQ(r.exit_code, 1);
  for (const std::string& expected :
       std::vector<std::string>{path + ":2:13: error: register.state_dir", path + ":4:15: error: mqtt.share_group",
        path + ":6:7: error: database.url", "put it in database.password_file", path + ":7:13: error: database.max_batch",
        path + ":9:10: error: http.listen", "htttp"}) {
    EXPECT_NE(r.stderr_text.find(expected), std::string::npos) << expected << "\n" << r.stderr_text;
  }
  EXPECT_EQ(r.stderr_text.find("secret@"), std::string::npos) << r.stderr_text;
  const std::string good = dir.write("good.toml", "[database]\nurl = \"postgresql://plant@127.0.0.1:1/plant\"\n");
  EXPECT_TRUE(run_command({register_binary(), "--check-config", good, "--set", "database.max_batch=10"}, 10s).ok());
  // The reference file in the tree is what the binary prints.
  const command_result reference = run_command({register_binary(), "--print-reference"}, 10s);
  EXPECT_EQ(reference.stdout_text, read_file(source_dir() + "/config/plant-register.toml"));
}

}  // namespace
}  // namespace plant::test
