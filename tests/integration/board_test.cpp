// The ops board on plant-register: its API additions (transfer proposals,
// acknowledgements and snoozes with their refusals, history endpoints, the
// event stream, the pages and their 404s) read as a client would, and the
// board itself in Debian's chromium (tests/board/board_check.mjs), all against
// real agents, Mosquitto and PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "tests/support/agent_harness.hpp"
#include "tests/support/binaries.hpp"
#include "tests/support/json_text.hpp"
#include "tests/support/register_harness.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/shortage_scenario.hpp"
#include "tests/support/text_files.hpp"

namespace plant::test {
namespace {

using namespace std::chrono_literals;

const std::string alice_token = "alice-0123456789abcdef";
const std::string bob_token = "bob-fedcba9876543210xyz";

// Hourly WMS rows for the last `hours` hours up to now: `start` falling `per_hour`.
std::string history_until_now(double start, double per_hour, int hours) {
  const std::time_t now = std::time(nullptr);
  std::string text = "material,quantity,unit,time\n";
  for (int h = hours; h >= 0; --h)
    text += "resin," + std::to_string(start - per_hour * (hours - h)) + ",kg," + std::to_string(now - h * 3600) + "\n";
  return text;
}

// North runs short of resin (1.7 t left at 100 kg/h), south holds 50 t and a
// transfer takes 6 h; east has lines only. One register with two operators.
struct board_stack {
  central_stack stack;
  std::string north_drop, south_drop;
  std::unique_ptr<register_instance> reg;
  std::unique_ptr<agent_process> north, south, east;

  testing::AssertionResult start(bool with_tokens = true) {
    auto started = stack.start();
    if (!started) return started;
    north_drop = stack.dir.file("north");
    south_drop = stack.dir.file("south");
    ::mkdir(north_drop.c_str(), 0755);
    ::mkdir(south_drop.c_str(), 0755);
    std::string extra;
    if (with_tokens) {
      const std::string tokens = stack.dir.file("tokens");
      write_file(tokens, "# operators of the test\nalice:" + alice_token + "\nbob:" + bob_token + "\n");
      ::chmod(tokens.c_str(), 0600);
      extra = "tokens_file = \"" + tokens + "\"\n";
    }
    extra += "\n[[transfer]]\nfrom = \"south\"\nto = \"north\"\ntime = \"6h\"\n";
    reg = std::make_unique<register_instance>(stack.dir, "reg", stack.broker.url(), stack.pg.url(), extra);
    started = reg->start_and_wait();
    if (!started) return started;
    const std::string fast = "publish_interval = \"100ms\"\n";
    north = std::make_unique<agent_process>(
        stack.dir, "north",
        agent_config_text("north-gw", "north", stack.dir.file("n"), stack.broker.url(), fast,
                          csv_section(north_drop) + material_section));
    south = std::make_unique<agent_process>(
        stack.dir, "south",
        agent_config_text("south-gw", "south", stack.dir.file("s"), stack.broker.url(), fast,
                          csv_section(south_drop) + material_section));
    east = std::make_unique<agent_process>(
        stack.dir, "east",
        agent_config_text("line-gw", "east", stack.dir.file("e"), stack.broker.url(), fast,
                          "[[source.simulator]]\nname = \"sim\"\nseed = 5\nlines = 2\nmaterials = 2\n"
                          "interval = \"200ms\"\nspeed = 20.0\n"));
    for (auto* a : {north.get(), south.get(), east.get()}) {
      started = a->start();
      if (!started) return started;
    }
    drop_file(stack.dir, north_drop, "north.csv", history_until_now(6500, 100, 48));
    drop_file(stack.dir, south_drop, "south.csv", history_until_now(50000, 0, 48));
    // South's surplus shows with its next status message.
    if (!wait_until([&] { return reg->get("/api/shortages").find("\"spare\"") != std::string::npos; }, 30s))
      return testing::AssertionFailure() << "no shortage with a surplus: " << reg->get("/api/shortages") << reg->process.log();
    return testing::AssertionSuccess();
  }

  command_result post(const std::string& path, const std::string& body, const std::string& token = "") const {
    std::vector<std::string> argv{"curl", "-s", "-w", "\n%{http_code}", "-X", "POST", "-H",
                                  "Content-Type: application/json", "--data-binary", body};
    if (!token.empty()) {
      argv.push_back("-H");
      argv.push_back("Authorization: Bearer " + token);
    }
    argv.push_back("http://127.0.0.1:" + std::to_string(reg->port) + path);
    return run_command(argv, 10s);
  }
};

// "<body>\n<status>" from post() as the status and the body.
std::pair<int, std::string> status_and_body(const command_result& r) {
  const auto cut = r.stdout_text.rfind('\n');
  if (cut == std::string::npos) return {0, r.stdout_text + r.stderr_text};
  return {std::atoi(r.stdout_text.c_str() + cut + 1), r.stdout_text.substr(0, cut)};
}

std::string north_resin(const register_instance& r) {
  for (const auto& s : json_array_items(r.get("/api/shortages")))
    if (unquoted(json_member(s, "site")) == "north" && unquoted(json_member(s, "material")) == "resin") return s;
  return "";
}

TEST(board_api, a_surplus_plant_is_proposed_with_its_spare_quantity_transfer_time_and_arrival) {
  board_stack b;
  ASSERT_TRUE(b.start());
  const std::string s = north_resin(*b.reg);
  ASSERT_FALSE(s.empty()) << b.reg->get("/api/shortages");
  EXPECT_EQ(unquoted(json_member(s, "status")), "critical") << s;
  const auto surplus = json_array_items(json_member(s, "surplus"));
  ASSERT_EQ(surplus.size(), 1u) << s;
  const std::string& p = surplus[0];
  EXPECT_EQ(unquoted(json_member(p, "site")), "south");
  EXPECT_DOUBLE_EQ(std::stod(json_member(p, "quantity")), 50000.0);
  EXPECT_DOUBLE_EQ(std::stod(json_member(p, "spare")), 45000.0) << "above south's own reorder point of 5 t";
  EXPECT_EQ(json_member(p, "transfer_time"), "21600") << p;
  EXPECT_EQ(json_member(p, "arrives_before_stockout"), "true") << "17 h to the stockout, 6 h to arrive: " << s;
  EXPECT_LT(unquoted(json_member(p, "arrives_at")), unquoted(json_member(s, "projected_stockout"))) << s;
  EXPECT_EQ(json_member(s, "action"), "null");
  // The agent's reason reaches the register: north has nothing on order.
  EXPECT_EQ(unquoted(json_member(s, "reason")), "no_cover") << s;
  EXPECT_EQ(json_member(s, "incoming"), "0") << s;
  EXPECT_EQ(json_member(s, "late_receipts"), "{\"count\":0,\"quantity\":0}") << s;

  // The transfer time changes on SIGHUP: 20 h arrives after the stockout.
  std::string config = read_file(b.reg->process.config_path());
  config.replace(config.find("time = \"6h\""), 11, "time = \"20h\"");
  write_file(b.reg->process.config_path(), config);
  ASSERT_EQ(::kill(b.reg->process.process().pid(), SIGHUP), 0);
  PLANT_ASSERT_EVENTUALLY(north_resin(*b.reg).find("\"transfer_time\":72000") != std::string::npos, 10s)
      << north_resin(*b.reg) << b.reg->process.log();
  EXPECT_NE(north_resin(*b.reg).find("\"arrives_before_stockout\":false"), std::string::npos) << north_resin(*b.reg);
}

TEST(board_api, acknowledgements_and_snoozes_need_a_token_hold_until_escalation_and_refuse_bad_bodies) {
  board_stack b;
  ASSERT_TRUE(b.start());
  const std::string ack = "/api/shortages/north/resin/ack";
  const std::string snooze = "/api/shortages/north/resin/snooze";

  // Refusals, each with a message that says why.
  const std::vector<std::tuple<std::string, std::string, std::string, int, std::string>> refused{
      {ack, "{}", "", 401, "Authorization"},
      {ack, "{}", "wrong-token-0123456789", 401, "not in http.tokens_file"},
      {ack, "{\"note\":", alice_token, 400, "body: at byte 8"},
      {ack, "[1,2]", alice_token, 400, "must be a JSON object"},
      {ack, "{\"note\":5}", alice_token, 400, "note: must be a string"},
      {ack, "{\"note\":\"a\",\"note\":\"b\"}", alice_token, 400, "appears twice"},
      {ack, "{\"reason\":\"x\"}", alice_token, 400, "unknown member \\\"reason\\\""},
      {ack, "{\"note\":\"" + std::string(1001, 'x') + "\"}", alice_token, 400, "note: longer than 1000"},
      {snooze, "{}", alice_token, 400, "duration: missing"},
      {snooze, "{\"duration\":\"soon\"}", alice_token, 400, "duration: 'soon'"},
      {snooze, "{\"duration\":\"10s\"}", alice_token, 400, "from 1m to 7d"},
      {snooze, "{\"duration\":\"30d\"}", alice_token, 400, "from 1m to 7d"},
      {"/api/shortages/north/steel/ack", "{}", alice_token, 404, "no material 'steel' at site 'north'"},
      {"/api/shortages/south/resin/ack", "{}", alice_token, 409, "not short"},
      {ack, "{\"note\":\"\xFF\"}", alice_token, 400, "must be valid UTF-8"},
      {"/api/shortages/north%FF/resin/ack", "{}", alice_token, 400, "path: not valid UTF-8"},
  };
  for (const auto& [path, body, token, status, message] : refused) {
    const auto [got, text] = status_and_body(b.post(path, body, token));
    EXPECT_EQ(got, status) << path << " " << body.substr(0, 40) << ": " << text;
    EXPECT_NE(text.find(message), std::string::npos) << path << " " << body.substr(0, 40) << ": " << text;
    EXPECT_EQ(text.find(alice_token), std::string::npos) << "a token in an answer: " << text;
  }
  EXPECT_EQ(b.reg->status("/api/shortages/north/resin/ack"), 405) << "GET on an action";
  EXPECT_EQ(b.reg->get("/api/shortages").find("\"action\":{"), std::string::npos) << "nothing refused was stored";

  // whoami: who a token belongs to.
  EXPECT_EQ(b.reg->get("/api/whoami"), "{\"writes_enabled\":true,\"operator\":null}\n");

  // alice acknowledges at critical; the board shows who, when and why.
  auto [status, text] = status_and_body(b.post(ack, "{\"note\":\"truck from south\"}", alice_token));
  ASSERT_EQ(status, 200) << text;
  std::string s = north_resin(*b.reg);
  const std::string action = json_member(s, "action");
  EXPECT_EQ(unquoted(json_member(action, "by")), "alice") << s;
  EXPECT_EQ(unquoted(json_member(action, "note")), "truck from south") << s;
  EXPECT_EQ(unquoted(json_member(action, "status")), "critical") << s;
  EXPECT_EQ(unquoted(json_member(action, "effect")), "holds") << s;
  EXPECT_EQ(unquoted(json_member(action, "action")), "ack") << s;

  // It runs out: the acknowledgement no longer holds, the shortage is shown again.
  // (three readings: the estimator holds a single sudden drop until another confirms it)
  const std::time_t t = std::time(nullptr);
  std::string empty = "material,quantity,unit,time\n";
  for (int i = 1; i <= 3; ++i) empty += "resin,0,kg," + std::to_string(t + i) + "\n";
  drop_file(b.stack.dir, b.north_drop, "north2.csv", empty);
  PLANT_ASSERT_EVENTUALLY(unquoted(json_member(north_resin(*b.reg), "status")) == "out", 30s)
      << north_resin(*b.reg) << b.north->log();
  s = north_resin(*b.reg);
  EXPECT_EQ(unquoted(json_member(json_member(s, "action"), "effect")), "escalated") << s;
  EXPECT_EQ(unquoted(json_member(json_member(s, "action"), "by")), "alice") << s;

  // bob snoozes it for 2 hours: the newest action counts, and holds until its time.
  std::tie(status, text) = status_and_body(b.post(snooze, "{\"duration\":\"2h\",\"note\":\"on the phone\"}", bob_token));
  ASSERT_EQ(status, 200) << text;
  s = north_resin(*b.reg);
  const std::string snoozed = json_member(s, "action");
  EXPECT_EQ(unquoted(json_member(snoozed, "action")), "snooze") << s;
  EXPECT_EQ(unquoted(json_member(snoozed, "by")), "bob") << s;
  EXPECT_EQ(unquoted(json_member(snoozed, "effect")), "holds") << s;
  EXPECT_GT(unquoted(json_member(snoozed, "until")), unquoted(json_member(snoozed, "at"))) << s;
  EXPECT_EQ(b.stack.pg.query("SELECT count(*) FROM shortage_actions"), "2\n") << "the history keeps both";

  // A register without http.tokens_file is read-only, and says so.
  register_instance read_only(b.stack.dir, "read-only", b.stack.broker.url(), b.stack.pg.url());
  ASSERT_TRUE(read_only.start_and_wait());
  const command_result r = run_command({"curl", "-s", "-w", "\n%{http_code}", "-X", "POST", "-H",
                                        "Authorization: Bearer " + alice_token,
                                        "http://127.0.0.1:" + std::to_string(read_only.port) + ack},
                                       10s);
  const auto [ro_status, ro_text] = status_and_body(r);
  EXPECT_EQ(ro_status, 403) << ro_text;
  EXPECT_NE(ro_text.find("read-only: http.tokens_file is not set"), std::string::npos) << ro_text;
  EXPECT_EQ(read_only.get("/api/whoami"), "{\"writes_enabled\":false,\"operator\":null}\n");
}

TEST(board_api, history_endpoints_the_event_stream_and_the_pages_answer_as_documented) {
  board_stack b;
  ASSERT_TRUE(b.start());
  register_instance& r = *b.reg;

  // /api/materials: every watched material with its limits; stock nobody watches has status null.
  const auto materials = json_array_items(r.get("/api/materials?site=north&material=resin"));
  ASSERT_EQ(materials.size(), 1u) << r.get("/api/materials");
  for (const char* field : {"site", "agent", "material", "status", "quantity", "unit", "time", "rate",
                            "projected_stockout", "reorder_point", "safety_stock", "lead_time_ms", "lines",
                            "starved_lines", "incoming", "next_receipt", "late_receipts", "covered_until", "reason"})
    EXPECT_FALSE(json_member(materials[0], field).empty()) << field << " missing in " << materials[0];
  EXPECT_EQ(json_member(materials[0], "reorder_point"), "5000");
  EXPECT_EQ(json_member(materials[0], "safety_stock"), "500");
  EXPECT_EQ(json_member(materials[0], "lead_time_ms"), "86400000");
  bool unwatched = false;
  for (const auto& m : json_array_items(r.get("/api/materials?site=east")))
    unwatched = unwatched || json_member(m, "status") == "null";
  EXPECT_TRUE(unwatched) << "the simulator's materials are not [[material]]s: " << r.get("/api/materials?site=east");

  // /api/alerts: north's transitions, oldest first.
  PLANT_ASSERT_EVENTUALLY(!json_array_items(r.get("/api/alerts?site=north&material=resin")).empty(), 10s);
  for (const auto& a : json_array_items(r.get("/api/alerts?site=north"))) {
    for (const char* field : {"site", "agent", "seq", "material", "time", "status", "previous_status", "cleared",
                              "quantity", "unit", "rate", "projected_stockout"})
      EXPECT_FALSE(json_member(a, field).empty()) << field << " missing in " << a;
  }

  // /api/stock?step: one point per step; 48 hourly samples over 4 h steps are 13 points.
  const auto stepped = json_array_items(r.get("/api/stock?site=north&material=resin&step=4h"));
  EXPECT_GE(stepped.size(), 12u);
  EXPECT_LE(stepped.size(), 13u);
  EXPECT_EQ(json_array_items(r.get("/api/stock?site=north&material=resin")).size(), 49u);

  // /api/line_states: spans of one state; only the last one is still open.
  PLANT_ASSERT_EVENTUALLY(!json_array_items(r.get("/api/line_states?site=east")).empty(), 10s);
  std::map<std::string, int> open_spans;
  for (const auto& span : json_array_items(r.get("/api/line_states?site=east"))) {
    for (const char* field : {"site", "agent", "line", "state", "from", "to"})
      EXPECT_FALSE(json_member(span, field).empty()) << field << " missing in " << span;
    if (json_member(span, "to") == "null") ++open_spans[unquoted(json_member(span, "line"))];
  }
  EXPECT_EQ(open_spans.size(), 2u);
  for (const auto& [line, n] : open_spans) EXPECT_EQ(n, 1) << line;

  // Bad parameters name themselves.
  for (const auto& [path, parameter] : std::vector<std::pair<std::string, std::string>>{
           {"/api/stock?step=often", "step"}, {"/api/stock?step=10ms", "step"},
           {"/api/alerts?from=today", "from"}, {"/api/line_states?material=x", "material"},
           {"/api/materials?limit=5", "limit"}, {"/api/whoami?x=1", "x"}, {"/api/stock?site=%FF", "site"},
           {"/api/alerts?material=a%00b", "material"}}) {
    auto reply = http_get(r.port, path, 10s);
    ASSERT_TRUE(reply.has_value()) << path;
    EXPECT_EQ(reply->status, 400) << path << ": " << reply->body;
    EXPECT_NE(reply->body.find(parameter), std::string::npos) << path << ": " << reply->body;
  }

  // /api/events: hello first, then what changes (the simulator's lines move).
  const command_result events = run_command(
      {"curl", "-sN", "--max-time", "4", "http://127.0.0.1:" + std::to_string(r.port) + "/api/events"}, 10s);
  EXPECT_EQ(events.stdout_text.rfind("event: hello\ndata: {", 0), 0u) << events.stdout_text.substr(0, 300);
  EXPECT_NE(events.stdout_text.find("event: line\ndata: {\"site\":\"east\""), std::string::npos)
      << events.stdout_text.substr(0, 2000);
  // An acknowledgement reaches the stream of every board.
  const std::string stream_file = b.stack.dir.file("events.txt");
  child_process listener;
  process_spec spec;
  spec.argv = {"curl", "-sN", "-o", stream_file, "http://127.0.0.1:" + std::to_string(r.port) + "/api/events"};
  spec.output_dir = b.stack.dir.path();
  spec.name = "events";
  ASSERT_TRUE(listener.start(spec));
  PLANT_ASSERT_EVENTUALLY(read_file(stream_file).find("event: hello") != std::string::npos, 10s);
  ASSERT_EQ(status_and_body(b.post("/api/shortages/north/resin/ack", "{\"note\":\"seen\"}", alice_token)).first, 200);
  PLANT_ASSERT_EVENTUALLY(read_file(stream_file).find("event: action\ndata: {\"site\":\"north\",\"material\":\"resin\"") !=
                              std::string::npos,
                          10s)
      << read_file(stream_file).substr(0, 2000);

  // The pages: the board, the plants and a known material are the page; the rest is a 404 page.
  for (const char* path : {"/", "/plants", "/material/north/resin"}) {
    auto reply = http_get(r.port, path, 10s);
    ASSERT_TRUE(reply.has_value()) << path;
    EXPECT_EQ(reply->status, 200) << path;
    EXPECT_NE(reply->body.find("<script src=\"/board.js\">"), std::string::npos) << path;
  }
  EXPECT_EQ(r.status("/board.js"), 200);
  EXPECT_EQ(r.status("/board.css"), 200);
  for (const auto& [path, reason] : std::vector<std::pair<std::string, std::string>>{
           {"/material/north/steel", "No material &#39;steel&#39; at site &#39;north&#39;"},
           {"/material/nowhere/resin", "at site &#39;nowhere&#39;"},
           {"/material/north", "/material/&lt;site&gt;/&lt;material&gt;"},
           {"/material/%3Cscript%3E/x", "at site &#39;&lt;script&gt;&#39;"},
           {"/nothing", "No page /nothing"}}) {
    auto reply = http_get(r.port, path, 10s);
    ASSERT_TRUE(reply.has_value()) << path;
    EXPECT_EQ(reply->status, 404) << path;
    EXPECT_NE(reply->body.find(reason), std::string::npos) << path << ": " << reply->body;
  }
  EXPECT_EQ(r.status("/api/nothing"), 404);
  const std::string metrics = r.get("/metrics");
  for (const char* name : {"plant_register_event_streams ", "plant_register_events_sent_total",
                           "plant_register_event_streams_refused_total", "plant_register_events_listening"})
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
}

// A stream of /api/events written to a file by curl, for as long as the test needs it.
struct event_listener {
  event_listener(const temp_dir& dir, std::uint16_t port, const std::string& name) : file(dir.file(name + ".txt")) {
    process_spec spec;
    spec.argv = {"curl", "-sN", "-o", file, "-w", "%{http_code}", "http://127.0.0.1:" + std::to_string(port) + "/api/events"};
    spec.output_dir = dir.path();
    spec.name = name;
    started = process.start(spec);
  }
  std::string text() const { return read_file(file); }
  std::size_t count(const std::string& what) const {
    std::size_t n = 0;
    const std::string t = text();
    for (auto at = t.find(what); at != std::string::npos; at = t.find(what, at + 1)) ++n;
    return n;
  }
  std::string file;
  child_process process;
  testing::AssertionResult started = testing::AssertionFailure();
};

TEST(board_api, event_streams_survive_a_postgres_restart_and_are_bounded) {
  board_stack b;
  ASSERT_TRUE(b.start());
  event_listener board(b.stack.dir, b.reg->port, "board");
  ASSERT_TRUE(board.started);
  PLANT_ASSERT_EVENTUALLY(board.count("event: hello") == 1, 10s) << board.text();

  // PostgreSQL restarts: the stream stays open, says hello again once the register
  // listens again, and carries what happens after.
  ASSERT_TRUE(b.stack.pg.stop());
  PLANT_ASSERT_EVENTUALLY(b.reg->status("/healthz") == 503, 10s);
  ASSERT_TRUE(b.stack.pg.start());
  PLANT_ASSERT_EVENTUALLY(b.reg->status("/healthz") == 200, 30s) << b.reg->get("/healthz");
  PLANT_ASSERT_EVENTUALLY(board.count("event: hello") == 2, 20s) << board.text().substr(0, 500) << b.reg->process.log();
  ASSERT_EQ(status_and_body(b.post("/api/shortages/north/resin/ack", "{\"note\":\"after the restart\"}", alice_token)).first,
            200);
  PLANT_ASSERT_EVENTUALLY(board.text().find("after the restart") != std::string::npos, 10s) << board.text().substr(0, 500);
  EXPECT_NE(b.reg->process.log().find("live updates paused"), std::string::npos) << b.reg->process.log();

  // A body over the request bound is refused before it is read whole.
  const auto [big_status, big_text] =
      status_and_body(b.post("/api/shortages/north/resin/ack", "{\"note\":\"" + std::string(20000, 'x') + "\"}", alice_token));
  EXPECT_EQ(big_status, 413) << big_text;

  // Streams are bounded (half of http.max_connections): the one too many gets 503 and is counted.
  register_instance small(b.stack.dir, "small", b.stack.broker.url(), b.stack.pg.url(), "max_connections = 4\n");
  ASSERT_TRUE(small.start_and_wait());
  event_listener first(b.stack.dir, small.port, "first"), second(b.stack.dir, small.port, "second");
  ASSERT_TRUE(first.started);
  ASSERT_TRUE(second.started);
  PLANT_ASSERT_EVENTUALLY(first.count("event: hello") == 1 && second.count("event: hello") == 1, 10s);
  auto refused = http_get(small.port, "/api/events", 5s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("too many open event streams (2)"), std::string::npos) << refused->body;
  EXPECT_EQ(metric_value(small.get("/metrics"), "plant_register_event_streams_refused_total"), std::optional<double>(1.0));
  EXPECT_EQ(metric_value(small.get("/metrics"), "plant_register_event_streams"), std::optional<double>(2.0));
  // A client that goes frees its place.
  first.process.kill9();
  PLANT_ASSERT_EVENTUALLY(http_get(small.port, "/metrics", 5s).has_value() &&
                              metric_value(small.get("/metrics"), "plant_register_event_streams") == std::optional<double>(1.0),
                          20s);
}

TEST(board_browser, chromium_shows_the_shortage_the_proposal_the_chart_the_plants_live_and_acts_with_a_token) {
  const std::string script = source_dir() + "/tests/board/board_check.mjs";
  ASSERT_EQ(::access((source_dir() + "/tests/board/node_modules/puppeteer-core").c_str(), F_OK), 0)
      << "puppeteer-core is not installed: run scripts/deps";
  const char* chromium = std::getenv("CHROMIUM");
  const std::string browser = chromium != nullptr ? chromium : "/usr/bin/chromium";
  ASSERT_EQ(::access(browser.c_str(), X_OK), 0) << browser << " is missing: run scripts/deps";
  board_stack b;
  ASSERT_TRUE(b.start());
  const char* keep = std::getenv("BOARD_SCREENSHOT_DIR");  // set to docs/ to refresh the README's pictures
  const std::string shots = keep != nullptr ? keep : b.stack.dir.path();
  const command_result run = run_command(
      {"env", "BOARD_URL=http://127.0.0.1:" + std::to_string(b.reg->port), "BOARD_TOKEN=" + alice_token,
       "AGENT_PID=" + std::to_string(b.east->process().pid()),
       "REGISTER_PID=" + std::to_string(b.reg->process.process().pid()), "SCREENSHOT_DIR=" + shots,
       "CHROMIUM=" + browser, "node", script},
      180s);
  std::cout << run.stdout_text;
  EXPECT_EQ(run.exit_code, 0) << run.stdout_text << run.stderr_text << "\nregister log:\n" << b.reg->process.log();
  for (const char* shot : {"board-shortages.png", "board-material.png", "board-plants.png", "board-phone.png"}) {
    struct stat st {};
    EXPECT_EQ(::stat((shots + "/" + shot).c_str(), &st), 0) << shot;
    EXPECT_GT(st.st_size, 10000) << shot;
  }
}

}  // namespace
}  // namespace plant::test
