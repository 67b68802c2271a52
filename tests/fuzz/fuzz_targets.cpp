#include "tests/fuzz/fuzz_targets.hpp"

#include <boost/asio/io_context.hpp>
// GCC's -Wmaybe-uninitialized misfires inside Beast's parser under -fsanitize=address
// (a boost::optional it reads only when set); third-party code, so silenced here only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/beast/http.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent/config/config_loader.hpp"
#include "agent/sources/csv/csv_reader.hpp"
#include "agent/sources/csv/stock_csv_parser.hpp"
#include "agent/sources/csv/supply_csv_parser.hpp"
#include "agent/sources/modbus/modbus_decoding.hpp"
#include "agent/sparkplug/edge_node.hpp"
#include "common/core/log.hpp"
#include "common/http/query_string.hpp"
#include "common/spool/spool.hpp"
#include "common/spool/spool_format.hpp"
#include "common/wire/json_reader.hpp"
#include "register/config/register_schema.hpp"
#include "tests/support/capture_publisher.hpp"
#include "watch/app/message_processor.hpp"

namespace plant::fuzz {
namespace {

std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first byte picks a variant (a topic, a CSV kind, a type); the rest is the input.
std::uint8_t take_byte(const std::uint8_t*& data, std::size_t& size) {
  if (size == 0) return 0;
  const std::uint8_t b = *data;
  ++data;
  --size;
  return b;
}

}  // namespace

void fuzz_config(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t mode = take_byte(data, size);
  const std::string_view text = as_text(data, size);
  if (mode & 1) {
    // The bytes as one --set override on a valid file: a shell passes anything.
    const std::string base = "[agent]\nid = \"a\"\nsite = \"s\"\n";
    const auto loaded = config::load_config_text(base, "fuzz.toml", {"agent.id=" + std::string(text)}, "/etc/plant");
    for (const auto& d : loaded.errors) (void)d.to_string();
    return;
  }
  const auto agent = config::load_config_text(text, "fuzz.toml", {}, "/etc/plant");
  for (const auto& d : agent.errors) (void)d.to_string();
  if (mode & 2) {
    const auto central = central::load_register_config_text(text, "fuzz.toml", {}, "/etc/plant");
    for (const auto& d : central.errors) (void)d.to_string();
  }
}

void fuzz_csv(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t mode = take_byte(data, size);
  const std::string_view text = as_text(data, size);
  const char delimiter = (mode & 4) ? ';' : ',';
  if ((mode & 3) == 0) {
    sources::stock_csv_columns columns;
    columns.timestamp = "time";
    columns.unit = "unit";
    columns.location = "location";
    const auto result = sources::parse_stock_csv(text, "fuzz.csv", columns, delimiter, 1000, 2000);
    (void)result;
    return;
  }
  // Read in pieces as the CSV source does with big files: the tail of a piece moves on.
  const auto kind = (mode & 3) == 1 ? sources::supply_snapshot::kind_t::receipts : sources::supply_snapshot::kind_t::demand;
  sources::supply_csv_columns columns;
  columns.order = "po";
  columns.supplier = "supplier";
  sources::supply_row_parser parser("fuzz.csv", kind, columns);
  const std::size_t piece = 1 + (mode >> 3) * 7;
  std::size_t start = 0;
  std::size_t line = 1;
  std::string carried;
  bool first = true;
  while (true) {
    const std::size_t end = std::min(text.size(), start + piece);
    const bool final = end == text.size();
    const std::string window = carried + std::string(text.substr(start, end - start));
    sources::csv_reader reader(window, delimiter, final, line, first);
    sources::csv_record record;
    std::string problem;
    while (reader.next(record)) {
      if (!parser.has_header()) {
        (void)parser.take_header(record, problem);
      } else {
        (void)parser.take_row(record, problem);
      }
    }
    if (final) break;
    carried = window.substr(reader.consumed());
    line = reader.line();
    first = first && reader.consumed() == 0;
    start = end;
  }
}

// Input: a sequence of files, each [kind: 1 byte][first_seq: 2 bytes LE, segments only]
// [length: 2 bytes LE][bytes]. Kind even: a segment file named for first_seq; odd: the ack
// file. Recovery must report whatever it finds, start, read back what it kept and take
// a new record, without crashing or hanging.
void fuzz_spool_recovery(const std::uint8_t* data, std::size_t size) {
  static std::atomic<std::uint64_t> counter{0};
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("plant-fuzz-spool-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  std::size_t at = 0;
  int files = 0;
  while (at < size && files < 16) {
    const bool ack = (data[at] & 1) != 0;
    const std::size_t head = ack ? 3 : 5;
    if (at + head > size) break;
    const std::uint64_t first_seq = ack ? 0 : static_cast<std::uint64_t>(data[at + 1] | (data[at + 2] << 8));
    const std::size_t length = std::min<std::size_t>(data[at + head - 2] | (data[at + head - 1] << 8), size - at - head);
    const std::string name = ack ? "ack" : spool::segment_file_name(first_seq);
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(data + at + head),
                                                      static_cast<std::streamsize>(length));
    at += head + length;
    ++files;
  }
  {
    spool::options options;
    options.dir = dir;
    options.sync = spool::sync_mode::never;
    spool::spool s(options);
    try {
      const spool::recovery_report report = s.recover(1000);
      std::uint64_t cursor = report.acked_through + 1;
      int read = 0;
      while (read++ < 100000 && s.read_next(cursor, report.next_seq)) {
      }
      (void)s.take_read_losses();
      spool::record r;
      r.seq = report.next_seq;
      r.created = 2000;
      r.payload = "after recovery";
      (void)s.append(r);
    } catch (const spool::spool_access_error&) {
      // An unreadable directory is reported this way; not a finding.
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void fuzz_envelope(const std::uint8_t* data, std::size_t size) {
  static watch::message_processor processor([] {
    watch::processor_settings s;
    s.json = true;
    s.audit = true;
    s.board = true;
    s.max_error_reports = 0;
    return s;
  }());
  const std::uint8_t mode = take_byte(data, size);
  static const std::array<const char*, 4> topics{"plant/v1/site/agent/telemetry", "plant/v1/site/agent/status",
                                                 "plant/v1/site/agent/alerts", "plant/v1/x/y/z/extra"};
  watch::received_message message;
  message.topic = topics[mode % topics.size()];
  message.payload.assign(reinterpret_cast<const char*>(data), size);
  message.retained = (mode & 4) != 0;
  message.received_at_us = 1'790'000'000'000'000;
  std::string out, err;
  processor.handle(message, out, err);
  if (processor.received() % 4096 == 0) (void)processor.audit().report_lines();
}

void fuzz_modbus_decode(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return;
  sources::modbus_point point;
  point.type = static_cast<sources::modbus_type>(data[0] % 9);
  point.order = static_cast<sources::word_order>((data[0] >> 4) % 4);
  if (data[1] & 0x80) point.bit = data[1] & 0x0f;
  point.area = (data[1] & 0x40) ? sources::modbus_area::input : sources::modbus_area::holding;
  point.scale = (data[2] & 1) ? -0.001 : (data[2] & 2) ? 1e300 : 10.0;
  point.offset = (data[2] & 4) ? -1e308 : 0.5;
  point.key_path = "source.modbus[0].line[0].state";
  if (data[3] & 1) point.map = {{0, "idle"}, {1, "running"}, {-1, "fault"}};
  std::array<std::uint16_t, 4> registers{};
  for (std::size_t i = 0; i < registers.size() && 4 + 2 * i + 1 < size; ++i)
    registers[i] = static_cast<std::uint16_t>(data[4 + 2 * i] << 8 | data[5 + 2 * i]);
  const sources::point_value value = sources::decode_registers(point, registers.data());
  std::string error;
  (void)sources::state_of(point, value, error);
  const sources::point_value bit = sources::decode_bit(point, (data[3] & 2) != 0);
  (void)sources::state_of(point, bit, error);
  (void)sources::join_registers(registers.data(), sources::registers_of(point.type), point.order);
}

void fuzz_sparkplug(const std::uint8_t* data, std::size_t size) {
  static watch::message_processor processor([] {
    watch::processor_settings s;
    s.json = true;
    s.board = true;
    s.max_error_reports = 0;
    return s;
  }());
  // The agent's side: commands and the host's STATE reach its edge node.
  static boost::asio::io_context io;
  static test::capture_publisher wire;
  static transport::publisher_events events;
  static std::unique_ptr<sparkplug::edge_node> node = [] {
    sparkplug::edge_node_settings s;
    s.group_id = "g";
    s.edge_node_id = "n";
    s.primary_host_id = "h";
    s.materials = {"resin"};
    s.bdseq_file = std::filesystem::temp_directory_path() / ("plant-fuzz-bdseq-" + std::to_string(::getpid()));
    auto made = std::make_unique<sparkplug::edge_node>(io, s, transport::publisher_events{}, nullptr);
    events = made->wire_events();
    made->attach(wire, [](const std::string&, bool) {});
    (void)made->will_for_next_connect();
    wire.connected_ = true;
    events.connected();
    return made;
  }();
  const std::uint8_t mode = take_byte(data, size);
  static const std::array<const char*, 9> topics{
      "spBv1.0/g/NBIRTH/n", "spBv1.0/g/NDATA/n",     "spBv1.0/g/DBIRTH/n/d", "spBv1.0/g/DDATA/n/d", "spBv1.0/g/NDEATH/n",
      "spBv1.0/g/DDEATH/n/d", "spBv1.0/g/NCMD/n", "spBv1.0/g/DCMD/n/d", "spBv1.0/STATE/h"};
  const char* topic = topics[mode % topics.size()];
  const std::string payload(reinterpret_cast<const char*>(data), size);
  watch::received_message message;
  message.topic = topic;
  message.payload = payload;
  message.received_at_us = 1'790'000'000'000'000 + static_cast<std::int64_t>(processor.received()) * 1000;
  std::string out, err;
  processor.handle(message, out, err);
  (void)processor.take_rebirth_requests();
  if (mode >= 6 * 16) events.message(topic, payload);
  if (wire.log.size() > 10000) wire.log.clear();
  (void)wire.take_unacked();
}

void fuzz_http_request(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(data, size), ec);
  (void)used;
  if (ec && ec != http::error::need_more) return;
  const auto& request = parser.get();
  const std::string target(request.target());
  static const std::vector<std::string> known{"site", "agent", "material", "line", "from", "to", "step", "limit"};
  const plant::http::parsed_target parsed = plant::http::parse_target(target, known);
  (void)parsed;
  (void)plant::http::target_path(target);
  if (parser.is_done()) (void)wire::parse_json(request.body(), 16);
}

const std::vector<target>& all_targets() {
  static const std::vector<target> targets{
      {"fuzz_config", fuzz_config},       {"fuzz_csv", fuzz_csv},
      {"fuzz_spool_recovery", fuzz_spool_recovery}, {"fuzz_envelope", fuzz_envelope},
      {"fuzz_modbus_decode", fuzz_modbus_decode},   {"fuzz_sparkplug", fuzz_sparkplug},
      {"fuzz_http_request", fuzz_http_request},
  };
  return targets;
}

}  // namespace plant::fuzz
