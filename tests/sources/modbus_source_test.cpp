// modbus_source against real libmodbus servers (tests/support/modbus_test_server):
// decoding through poll(), request merging counted by the server, exception
// answers, hung and vanished devices, reconnects, dead-device isolation, and
// several unit ids on one RTU line over a socat pty pair. Loopback and threads
// only; every timeout is short so the suite stays fast.
#ifdef AGENT_WITH_MODBUS
#include "agent/sources/modbus/modbus_source.hpp"

#include <gtest/gtest.h>
#include <modbus/modbus.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <stdexcept>
#include <thread>

#include "tests/support/modbus_test_server.hpp"
#include "tests/support/socat_pty_pair.hpp"
#include "tests/support/tcp_port.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::sources {
namespace {

using namespace std::chrono_literals;
using sources::modbus_area;
using sources::modbus_type;
using sources::word_order;
using test::modbus_test_server;

epoch_ms wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

sources::modbus_point reg(modbus_area area, int address, modbus_type type = modbus_type::uint16,
                         word_order order = word_order::abcd) {
  sources::modbus_point p;
  p.area = area;
  p.address = static_cast<std::uint16_t>(address);
  p.type = type;
  p.order = order;
  return p;
}

sources::modbus_point holding(int address, modbus_type type = modbus_type::uint16, word_order order = word_order::abcd) {
  return reg(modbus_area::holding, address, type, order);
}

sources::modbus_settings base_config(const std::string& address) {
  sources::modbus_settings cfg;
  cfg.common.name = "plc";
  cfg.address = address;
  cfg.unit_id = 1;
  cfg.common.interval = 100ms;
  cfg.timeout = 200ms;
  cfg.max_gap = 8;
      return cfg;
}

sources::modbus_stock stock(const std::string& material, sources::modbus_point quantity) {
  sources::modbus_stock s;
  s.material = material;
  s.unit = "kg";
  s.location = "bay-1";
  s.quantity = std::move(quantity);
  return s;
}

std::map<std::string, sample> by_name(const poll_result& result) {
  std::map<std::string, sample> out;
  for (const auto& s : result.samples) out.emplace(s.name, s);
  return out;
}

// The map used by several tests, and the one whose request count the report quotes:
// three lines (state, good and reject counters) and three stock levels.
sources::modbus_settings typical_config(const std::string& address) {
  auto cfg = base_config(address);
  sources::modbus_line line1;
  line1.id = "line-1";
  line1.state = holding(100);
  line1.state->bit = 0;
  line1.state->map = {{0, "idle"}, {1, "running"}};
  line1.good_count = holding(102, modbus_type::uint32, word_order::cdab);
  line1.reject_count = holding(104, modbus_type::uint32, word_order::cdab);
  sources::modbus_line line2;
  line2.id = "line-2";
  line2.state = holding(110);
  line2.state->map = {{0, "idle"}, {1, "running"}, {2, "starved"}, {5, "fault"}};
  line2.good_count = holding(112, modbus_type::uint32, word_order::cdab);
  line2.reject_count = holding(114, modbus_type::uint32, word_order::cdab);
  sources::modbus_line line3;
  line3.id = "line-3";
  line3.state = reg(modbus_area::discrete, 0, modbus_type::boolean);
  line3.state->map = {{0, "idle"}, {1, "running"}};
  cfg.lines = {line1, line2, line3};
  cfg.stocks = {stock("silo-1", holding(200, modbus_type::float32)), stock("silo-2", holding(202, modbus_type::float32)),
                stock("tank-1", reg(modbus_area::input, 0))};
  cfg.stocks[2].quantity.scale = 0.1;
  for (std::size_t i = 0; i < cfg.lines.size(); ++i) {
    const std::string base = "source.modbus[0].line[" + std::to_string(i) + "].";
    cfg.lines[i].state->key_path = base + "state";
    if (cfg.lines[i].good_count) cfg.lines[i].good_count->key_path = base + "good_count";
    if (cfg.lines[i].reject_count) cfg.lines[i].reject_count->key_path = base + "reject_count";
  }
  for (std::size_t i = 0; i < cfg.stocks.size(); ++i)
    cfg.stocks[i].quantity.key_path = "source.modbus[0].stock[" + std::to_string(i) + "].quantity";
  return cfg;
}

void fill_typical(modbus_test_server& server) {
  server.set_holding(100, 0x0001);
  server.set_uint32(102, 1000000, word_order::cdab);
  server.set_uint32(104, 17, word_order::cdab);
  server.set_holding(110, 2);
  server.set_uint32(112, 70000, word_order::cdab);
  server.set_uint32(114, 3, word_order::cdab);
  server.set_discrete(0, false);
  server.set_float32(200, 1234.5f, word_order::abcd);
  server.set_float32(202, 80.25f, word_order::abcd);
  server.set_input(0, 4321);
}

TEST(modbus_source, every_type_and_order_decodes_through_a_poll) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  auto cfg = base_config(server.address());
  struct expectation {
    std::string name;
    double value;
  };
  std::vector<expectation> expected;
  int address = 0;
  const word_order orders[] = {word_order::abcd, word_order::cdab, word_order::badc, word_order::dcba};
  const char* order_names[] = {"abcd", "cdab", "badc", "dcba"};
  for (int o = 0; o < 4; ++o) {
    const word_order order = orders[o];
    const std::string suffix = std::string("-") + order_names[o];
    auto add = [&](const std::string& type_name, modbus_type type, double value) {
      cfg.stocks.push_back(stock(type_name + suffix, holding(address, type, order)));
      expected.push_back({type_name + suffix, value});
      address += registers_of(type) + 1;  // a register apart: the plan merges across it
    };
    server.set_int16(address, -1234);
    add("int16", modbus_type::int16, -1234);
    server.set_holding(address, 65000);
    add("uint16", modbus_type::uint16, 65000);
    server.set_int32(address, -2000000000, order);
    add("int32", modbus_type::int32, -2000000000.0);
    server.set_uint32(address, 3000000000u, order);
    add("uint32", modbus_type::uint32, 3000000000.0);
    server.set_int64(address, -1234567890123ll, order);
    add("int64", modbus_type::int64, -1234567890123.0);
    server.set_uint64(address, 283686952306183ull, order);
    add("uint64", modbus_type::uint64, 283686952306183.0);
    server.set_float32(address, -2.5f, order);
    add("float32", modbus_type::float32, -2.5);
    server.set_float64(address, 12345.678, order);
    add("float64", modbus_type::float64, 12345.678);
  }
  // Other areas, bits, and an exact 64-bit counter through a line.
  server.set_coil(7, true);
  server.set_discrete(3, true);
  server.set_input(9, 0x0004);
  server.set_uint64(300, 0x0102030405060708ull, word_order::dcba);
  sources::modbus_line line;
  line.id = "line-x";
  line.state = reg(modbus_area::coil, 7, modbus_type::boolean);
  line.state->map = {{0, "idle"}, {1, "running"}};
  line.good_count = holding(300, modbus_type::uint64, word_order::dcba);
  line.reject_count = reg(modbus_area::input, 9);
  line.reject_count->bit = 2;
  cfg.lines.push_back(line);
  cfg.stocks.push_back(stock("discrete-3", reg(modbus_area::discrete, 3, modbus_type::boolean)));
  expected.push_back({"discrete-3", 1.0});

  modbus_source source(cfg);
  const epoch_ms now = wall_now();
  const poll_result result = source.poll(now);
  ASSERT_FALSE(result.error.has_value()) << *result.error;
  EXPECT_TRUE(result.rejects.empty());
  auto samples = by_name(result);
  ASSERT_EQ(samples.size(), expected.size() + 1);
  for (const auto& e : expected) {
    SCOPED_TRACE(e.name);
    const sample& s = samples.at(e.name);
    EXPECT_EQ(s.q, quality::good);
    EXPECT_EQ(s.kind, sample::kind_t::stock);
    if (e.name.rfind("float32", 0) == 0 || e.name.rfind("float64", 0) == 0) {
      EXPECT_NEAR(s.quantity, e.value, 1e-9);
    } else {
      EXPECT_EQ(s.quantity, e.value);
    }
    EXPECT_EQ(s.unit, "kg");
    EXPECT_EQ(s.location, "bay-1");
    EXPECT_EQ(s.source_time, now);
    EXPECT_EQ(s.receive_time, now);
  }
  const sample& l = samples.at("line-x");
  EXPECT_EQ(l.kind, sample::kind_t::line);
  EXPECT_EQ(l.q, quality::good);
  EXPECT_EQ(l.state, line_state::running);
  EXPECT_EQ(l.good_count, 0x0102030405060708ull) << "64-bit counts stay exact";
  EXPECT_EQ(l.reject_count, 1u);
}

TEST(modbus_source, a_typical_map_is_read_with_few_requests_counted_by_the_server) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  fill_typical(server);
  modbus_source source(typical_config(server.address()));
  std::vector<std::string> plan;
  for (const auto& r : source.plan()) plan.push_back(describe(r));
  EXPECT_EQ(plan, (std::vector<std::string>{"discrete 0..0 (1 bit, 1 point)", "input 0..0 (1 register, 1 point)",
                                            "holding 100..115 (16 registers, 6 points)",
                                            "holding 200..203 (4 registers, 2 points)"}));

  const poll_result result = source.poll(wall_now());
  ASSERT_FALSE(result.error.has_value()) << *result.error;
  // 10 points, 4 requests: the count the device sees, not the plan's promise.
  EXPECT_EQ(server.requests(), 4u);
  EXPECT_EQ(server.requests(MODBUS_FC_READ_HOLDING_REGISTERS), 2u);
  EXPECT_EQ(server.requests(MODBUS_FC_READ_INPUT_REGISTERS), 1u);
  EXPECT_EQ(server.requests(MODBUS_FC_READ_DISCRETE_INPUTS), 1u);
  EXPECT_EQ(server.requests(MODBUS_FC_READ_COILS), 0u);
  ASSERT_FALSE(source.poll(wall_now()).error.has_value());
  EXPECT_EQ(server.requests(), 8u);
  EXPECT_EQ(server.accepted(), 1u) << "one connection kept across polls";

  auto samples = by_name(result);
  ASSERT_EQ(samples.size(), 6u);
  EXPECT_EQ(samples.at("line-1").state, line_state::running);
  EXPECT_EQ(samples.at("line-1").good_count, 1000000u);
  EXPECT_EQ(samples.at("line-1").reject_count, 17u);
  EXPECT_EQ(samples.at("line-2").state, line_state::starved);
  EXPECT_EQ(samples.at("line-2").good_count, 70000u);
  EXPECT_EQ(samples.at("line-3").state, line_state::idle);
  EXPECT_EQ(samples.at("line-3").good_count, 0u);
  EXPECT_EQ(samples.at("silo-1").quantity, 1234.5);
  EXPECT_EQ(samples.at("silo-2").quantity, 80.25);
  EXPECT_NEAR(samples.at("tank-1").quantity, 432.1, 1e-9);
  for (const auto& entry : samples) EXPECT_EQ(entry.second.q, quality::good) << entry.first;
}

TEST(modbus_source, probe_details_show_raw_registers_and_decoded_values) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  fill_typical(server);
  modbus_source source(typical_config(server.address()));
  EXPECT_TRUE(source.probe_details().empty()) << "nothing before the first poll";
  ASSERT_FALSE(source.poll(wall_now()).error.has_value());
  EXPECT_EQ(source.probe_details(),
            (std::vector<std::string>{
                "source.modbus[0].line[0].state: holding 100 bit 0: raw 0x0001: true (running)",
                "source.modbus[0].line[0].good_count: holding 102 uint32 CDAB: raw 0x4240 0x000F: 1000000",
                "source.modbus[0].line[0].reject_count: holding 104 uint32 CDAB: raw 0x0011 0x0000: 17",
                "source.modbus[0].line[1].state: holding 110 uint16: raw 0x0002: 2 (starved)",
                "source.modbus[0].line[1].good_count: holding 112 uint32 CDAB: raw 0x1170 0x0001: 70000",
                "source.modbus[0].line[1].reject_count: holding 114 uint32 CDAB: raw 0x0003 0x0000: 3",
                "source.modbus[0].line[2].state: discrete 0: raw 0: false (idle)",
                "source.modbus[0].stock[0].quantity: holding 200 float32 ABCD: raw 0x449A 0x5000: 1234.5",
                "source.modbus[0].stock[1].quantity: holding 202 float32 ABCD: raw 0x42A0 0x8000: 80.25",
                "source.modbus[0].stock[2].quantity: input 0 uint16: raw 0x10E1: 432.1",
            }));
}

TEST(modbus_source, an_exception_answer_spoils_only_its_request) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  fill_typical(server);
  server.set_exception(modbus_area::holding, 200, 201, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
  modbus_source source(typical_config(server.address()));
  const poll_result result = source.poll(wall_now());
  ASSERT_TRUE(result.error.has_value());
  EXPECT_EQ(*result.error, server.address() + " unit 1: read holding 200..203: illegal data address (Modbus exception 2)");
  EXPECT_TRUE(result.rejects.empty()) << "the exception is the poll's error, not a reject per point";
  EXPECT_EQ(server.requests(), 4u) << "the requests after the refused one were still made";
  auto samples = by_name(result);
  ASSERT_EQ(samples.size(), 6u);
  EXPECT_EQ(samples.at("silo-1").q, quality::bad);
  EXPECT_EQ(samples.at("silo-2").q, quality::bad);
  EXPECT_EQ(samples.at("tank-1").q, quality::good);
  EXPECT_EQ(samples.at("line-1").q, quality::good);
  EXPECT_EQ(samples.at("line-1").good_count, 1000000u);
  EXPECT_EQ(source.probe_details()[7],
            "source.modbus[0].stock[0].quantity: holding 200 float32 ABCD: raw -: bad: illegal data address (Modbus "
            "exception 2)");
  EXPECT_EQ(server.accepted(), 1u) << "an exception does not cost the connection";

  server.clear_exceptions();
  server.set_exception(modbus_area::holding, 100, 100, MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY);
  const poll_result busy = source.poll(wall_now());
  ASSERT_TRUE(busy.error.has_value());
  EXPECT_EQ(*busy.error, server.address() + " unit 1: read holding 100..115: server device busy (Modbus exception 6)");
  EXPECT_EQ(by_name(busy).at("line-1").q, quality::bad);
  EXPECT_EQ(by_name(busy).at("line-2").q, quality::bad);
  EXPECT_EQ(by_name(busy).at("silo-1").q, quality::good);
}

TEST(modbus_source, exception_codes_have_their_names) {
  EXPECT_EQ(exception_name(1), "illegal function");
  EXPECT_EQ(exception_name(2), "illegal data address");
  EXPECT_EQ(exception_name(3), "illegal data value");
  EXPECT_EQ(exception_name(4), "server device failure");
  EXPECT_EQ(exception_name(5), "acknowledge");
  EXPECT_EQ(exception_name(6), "server device busy");
  EXPECT_EQ(exception_name(10), "gateway path unavailable");
  EXPECT_EQ(exception_name(11), "gateway target failed to respond");
  EXPECT_EQ(exception_name(12), "exception 12");
}

TEST(modbus_source, values_that_do_not_decode_are_bad_and_rejected_with_key_and_value) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  fill_typical(server);
  server.set_holding(110, 9);                                   // not in line-2's map
  server.set_float32(202, std::nanf(""), word_order::abcd);    // silo-2
  modbus_source source(typical_config(server.address()));
  const poll_result result = source.poll(wall_now());
  EXPECT_FALSE(result.error.has_value());
  EXPECT_EQ(result.rejects, (std::vector<std::string>{"source.modbus[0].line[1].state: value 9 is not in map",
                                                      "source.modbus[0].stock[1].quantity: value is NaN"}));
  auto samples = by_name(result);
  EXPECT_EQ(samples.at("line-2").q, quality::bad);
  EXPECT_EQ(samples.at("silo-2").q, quality::bad);
  EXPECT_EQ(samples.at("line-1").q, quality::good);
  EXPECT_EQ(samples.at("silo-1").q, quality::good);
}

TEST(modbus_source, counters_wrap_and_give_a_rate) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  auto cfg = base_config(server.address());
  sources::modbus_line line;
  line.id = "press";
  line.good_count = holding(0, modbus_type::uint16);
  cfg.lines = {line};
  modbus_source source(cfg);
  const epoch_ms t0 = wall_now();
  server.set_holding(0, 65530);
  ASSERT_FALSE(source.poll(t0).error.has_value());
  server.set_holding(0, 4);
  const poll_result result = source.poll(t0 + 30000);
  ASSERT_FALSE(result.error.has_value());
  const sample& s = result.samples.at(0);
  EXPECT_EQ(s.good_count, 65540u);
  EXPECT_DOUBLE_EQ(s.good_rate, 20.0) << "10 parts in half a minute";
  EXPECT_EQ(s.state, line_state::unknown) << "no state point";
}

TEST(modbus_source, a_hung_device_fails_within_the_timeout_and_is_reconnected_when_it_answers) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  fill_typical(server);
  auto cfg = typical_config(server.address());
  modbus_source source(cfg);
  epoch_ms now = wall_now();
  ASSERT_FALSE(source.poll(now).error.has_value());
  EXPECT_EQ(source.reconnects(), 0u);

  server.set_silent(true);
  const auto before = std::chrono::steady_clock::now();
  const poll_result hung = source.poll(now += 100);
  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_TRUE(hung.error.has_value());
  EXPECT_EQ(*hung.error, server.address() + " unit 1: read discrete 0..0: Connection timed out");
  EXPECT_TRUE(hung.samples.empty()) << "the core republishes the last values as stale";
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 400ms) << "one request's timeout (200 ms), not one per request";

  server.set_silent(false);
  const poll_result back = source.poll(now += 100);
  ASSERT_FALSE(back.error.has_value()) << *back.error;
  EXPECT_EQ(back.samples.size(), 6u);
  EXPECT_EQ(source.reconnects(), 1u);
  EXPECT_EQ(server.accepted(), 2u) << "the hung connection was closed and a new one made";
}

TEST(modbus_source, a_dropped_connection_is_reported_and_reopened) {
  modbus_test_server server;
  ASSERT_TRUE(server.start());
  fill_typical(server);
  modbus_source source(typical_config(server.address()));
  epoch_ms now = wall_now();
  ASSERT_FALSE(source.poll(now).error.has_value());
  server.close_connections();
  const poll_result dropped = source.poll(now += 100);
  ASSERT_TRUE(dropped.error.has_value());
  EXPECT_EQ(dropped.error->rfind(server.address() + " unit 1: read discrete 0..0: ", 0), 0u) << *dropped.error;
  const poll_result back = source.poll(now += 100);
  ASSERT_FALSE(back.error.has_value()) << *back.error;
  EXPECT_EQ(source.reconnects(), 1u);
}

// The source has no backoff of its own (the core's polled_source has the one
// every source shares): each poll tries once, and a refusal fails it at once.
TEST(modbus_source, a_refused_connect_fails_the_poll_at_once_and_the_next_poll_tries_again) {
  const std::uint16_t port = test::free_tcp_port();
  ASSERT_NE(port, 0);
  auto cfg = typical_config("tcp://127.0.0.1:" + std::to_string(port));
  modbus_source source(cfg);
  const epoch_ms t0 = wall_now();
  const auto before = std::chrono::steady_clock::now();
  const poll_result refused = source.poll(t0);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 100ms);
  ASSERT_TRUE(refused.error.has_value());
  const std::string expected = "tcp://127.0.0.1:" + std::to_string(port) + " unit 1: connect: Connection refused";
  EXPECT_EQ(*refused.error, expected);

  modbus_test_server server;
  ASSERT_TRUE(server.start(port));
  fill_typical(server);
  const poll_result connected = source.poll(t0 + 10);
  ASSERT_FALSE(connected.error.has_value()) << *connected.error;
  EXPECT_EQ(server.accepted(), 1u);
  EXPECT_EQ(source.reconnects(), 0u) << "a first connection is not a reconnect";
}

TEST(modbus_source, a_dead_device_never_delays_a_live_one) {
  modbus_test_server live_server;
  ASSERT_TRUE(live_server.start());
  fill_typical(live_server);
  modbus_test_server hung_server;
  ASSERT_TRUE(hung_server.start());
  hung_server.set_silent(true);
  const std::uint16_t closed_port = test::free_tcp_port();

  auto live_cfg = typical_config(live_server.address());
  live_cfg.common.name = "live";
  live_cfg.common.interval = 100ms;
  auto closed_cfg = typical_config("tcp://127.0.0.1:" + std::to_string(closed_port));
  closed_cfg.common.name = "closed";
  closed_cfg.timeout = 500ms;
  closed_cfg.common.interval = 1000ms;
  auto hung_cfg = typical_config(hung_server.address());
  hung_cfg.common.name = "hung";
  hung_cfg.timeout = 500ms;
  hung_cfg.common.interval = 1000ms;
  modbus_source live(live_cfg), closed(closed_cfg), hung(hung_cfg);

  // Each source on a thread of its own, as the core runs blocking sources.
  std::atomic<bool> done{false};
  std::atomic<int> hung_polls{0}, closed_polls{0};
  std::atomic<long long> longest_hung_ms{0};
  std::thread hung_thread([&] {
    while (!done) {
      const auto start = std::chrono::steady_clock::now();
      if (hung.poll(wall_now()).error) ++hung_polls;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      longest_hung_ms = std::max<long long>(longest_hung_ms, ms.count());
    }
  });
  std::thread closed_thread([&] {
    auto tick = std::chrono::steady_clock::now();
    while (!done) {
      if (closed.poll(wall_now()).error) ++closed_polls;
      tick += 20ms;
      std::this_thread::sleep_until(tick);
    }
  });

  // The live source, polled every 100 ms the way polled_source schedules it:
  // each poll must be done before its interval is up (+10%).
  const auto interval = live_cfg.common.interval;
  const auto first_tick = std::chrono::steady_clock::now();
  std::vector<long long> late_ms;
  for (int k = 0; k < 15; ++k) {
    const auto tick = first_tick + k * interval;
    std::this_thread::sleep_until(tick);
    const poll_result result = live.poll(wall_now());
    const auto done_after = std::chrono::steady_clock::now() - tick;
    EXPECT_FALSE(result.error.has_value()) << *result.error;
    EXPECT_EQ(result.samples.size(), 6u);
    if (done_after > interval * 11 / 10)
      late_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(done_after).count());
  }
  done = true;
  hung_thread.join();
  closed_thread.join();
  EXPECT_TRUE(late_ms.empty()) << late_ms.size() << " live polls overran 110 ms, the first by " << late_ms.front()
                               << " ms";
  // The dead devices really were failing, slowly (hung) and at once (closed), meanwhile.
  EXPECT_GE(hung_polls.load(), 2);
  EXPECT_GE(longest_hung_ms.load(), 450);
  EXPECT_GE(closed_polls.load(), 10);
  EXPECT_EQ(live.reconnects(), 0u);
}

// ---- RTU: several unit ids on one serial line --------------------------------

TEST(modbus_source, units_on_one_rtu_line_share_the_port_and_read_their_own_values) {
  test::temp_dir dir("modbus-rtu");
  test::socat_pty_pair line;
  ASSERT_TRUE(line.start(dir.path()));
  test::modbus_rtu_test_server server({1, 2});
  ASSERT_TRUE(server.start(line.b_path()));
  server.unit(1).set_holding(0, 11);
  server.unit(1).set_float32(1, 101.5f, word_order::cdab);
  server.unit(2).set_holding(0, 22);
  server.unit(2).set_float32(1, 202.5f, word_order::cdab);

  auto make_cfg = [&](int unit_id) {
    auto cfg = base_config("rtu://" + line.a_path());
    cfg.common.name = "unit-" + std::to_string(unit_id);
    cfg.unit_id = unit_id;
    cfg.stocks = {stock("level-" + std::to_string(unit_id), holding(1, modbus_type::float32, word_order::cdab)),
                  stock("raw-" + std::to_string(unit_id), holding(0))};
    return cfg;
  };
  const std::size_t buses_before = rtu_bus::live_buses();
  modbus_source unit1(make_cfg(1)), unit2(make_cfg(2)), unit3(make_cfg(3));
  EXPECT_EQ(rtu_bus::live_buses(), buses_before + 1) << "one port for the three sources";

  // Polled from two threads at once: the bus lets one unit at a time talk.
  std::vector<poll_result> results1, results2;
  std::thread t1([&] {
    for (int i = 0; i < 5; ++i) results1.push_back(unit1.poll(wall_now()));
  });
  std::thread t2([&] {
    for (int i = 0; i < 5; ++i) results2.push_back(unit2.poll(wall_now()));
  });
  t1.join();
  t2.join();
  for (const auto& r : results1) {
    ASSERT_FALSE(r.error.has_value()) << *r.error;
    auto s = by_name(r);
    EXPECT_EQ(s.at("level-1").quantity, 101.5);
    EXPECT_EQ(s.at("raw-1").quantity, 11.0);
  }
  for (const auto& r : results2) {
    ASSERT_FALSE(r.error.has_value()) << *r.error;
    auto s = by_name(r);
    EXPECT_EQ(s.at("level-2").quantity, 202.5);
    EXPECT_EQ(s.at("raw-2").quantity, 22.0);
  }
  EXPECT_EQ(server.requests(1), 5u) << "one request per poll (holding 0..2)";
  EXPECT_EQ(server.requests(2), 5u);

  // A unit nobody answers for times out without closing the others' port.
  const poll_result silent = unit3.poll(wall_now());
  ASSERT_TRUE(silent.error.has_value());
  EXPECT_EQ(*silent.error, "rtu://" + line.a_path() + " unit 3: read holding 0..2: Connection timed out");
  EXPECT_EQ(server.ignored(), 1u);
  const poll_result after = unit1.poll(wall_now());
  ASSERT_FALSE(after.error.has_value()) << *after.error;
  EXPECT_EQ(unit1.reconnects(), 0u);
  EXPECT_EQ(unit3.reconnects(), 0u);
}

TEST(modbus_source, units_on_one_port_must_agree_on_its_serial_settings) {
  auto a = base_config("rtu:///dev/plant-test-no-such-port");
  a.common.name = "scale-1";
  a.stocks = {stock("flour", holding(0))};
  auto b = a;
  b.common.name = "scale-2";
  b.unit_id = 2;
  b.baud = 19200;
  b.parity = 'E';
  modbus_source first(a);
  try {
    modbus_source second(b);
    FAIL() << "conflicting serial settings were accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "source 'scale-2': rtu:///dev/plant-test-no-such-port is 19200 8E1 but source 'scale-1' on the same "
                 "port is 9600 8N1; units on one serial port need the same baud, parity, data_bits and stop_bits");
  }
  const poll_result missing = first.poll(wall_now());
  ASSERT_TRUE(missing.error.has_value());
  EXPECT_EQ(*missing.error, "rtu:///dev/plant-test-no-such-port unit 1: connect: No such file or directory");
}

}  // namespace
}  // namespace plant::sources
#endif  // AGENT_WITH_MODBUS
