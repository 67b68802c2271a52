#include "common/spool/spool_format.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace plant::spool {
namespace {

const std::uint8_t* bytes_of(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

std::string encode(std::uint64_t seq, const std::string& message, epoch_ms created = 1234) {
  std::string out;
  append_record(out, record_view{seq, created, 2, 7, message});
  return out;
}

// Scans an in-memory "file" and records what the visitor saw, as text.
struct memory_scan final : scan_visitor {
  std::vector<std::string> events;
  std::uint64_t last = 0;
  bool accept(const record_view& r) override { return r.seq > last; }
  void on_record(std::uint64_t offset, std::uint32_t size, const record_view& r) override {
    events.push_back("record " + std::to_string(r.seq) + " @" + std::to_string(offset) + "+" + std::to_string(size));
    last = r.seq;
  }
  void on_damage(std::uint64_t offset, std::uint64_t length) override {
    events.push_back("damage @" + std::to_string(offset) + "+" + std::to_string(length));
  }
};

scan_result scan_memory(const std::string& file, memory_scan& v, std::uint64_t begin = 0,
                        std::uint64_t* bytes_read = nullptr) {
  const read_fn read = [&](std::uint64_t off, std::uint8_t* out, std::size_t n, std::size_t& got) {
    got = off >= file.size() ? 0 : std::min<std::size_t>(n, file.size() - off);
    if (got > 0) std::memcpy(out, file.data() + off, got);
    if (bytes_read != nullptr) *bytes_read += got;
    return std::error_code{};
  };
  std::vector<std::uint8_t> buffer;
  return scan_records(read, begin, file.size(), buffer, v);
}

TEST(spool_format, segment_file_names_round_trip) {
  EXPECT_EQ(segment_file_name(42), "seg-00000000000000000042.spool");
  EXPECT_EQ(parse_segment_file_name("seg-00000000000000000042.spool"), 42u);
  EXPECT_EQ(parse_segment_file_name(segment_file_name(18446744073709551615ull)), 18446744073709551615ull);
  EXPECT_FALSE(parse_segment_file_name("seg-0000000000000000042.spool"));
  EXPECT_FALSE(parse_segment_file_name("seg-0000000000000000004x.spool"));
  EXPECT_FALSE(parse_segment_file_name("seg-99999999999999999999.spool"));
  EXPECT_FALSE(parse_segment_file_name("seg-00000000000000000042.spool.tmp"));
  EXPECT_FALSE(parse_segment_file_name("ack"));
}

TEST(spool_format, header_round_trip_and_every_flipped_byte_is_caught) {
  segment_header h;
  h.flags = 3;
  h.first_seq = 1'000'001;
  h.created = -5;
  h.prev_seq = 999'998;
  std::uint8_t raw[format::header_size];
  encode_header(h, raw);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(raw), 8), std::string("PLSPOOL\0", 8));
  EXPECT_EQ(raw[8], 1);  // version 1, little-endian
  EXPECT_EQ(raw[9], 0);
  segment_header back;
  ASSERT_EQ(decode_header(raw, sizeof raw, back), header_status::ok);
  EXPECT_EQ(back.first_seq, h.first_seq);
  EXPECT_EQ(back.created, h.created);
  EXPECT_EQ(back.prev_seq, h.prev_seq);
  EXPECT_EQ(back.flags, 3);
  EXPECT_EQ(decode_header(raw, sizeof raw - 1, back), header_status::truncated);
  for (std::size_t i = 0; i < sizeof raw; ++i) {
    std::uint8_t copy[format::header_size];
    std::memcpy(copy, raw, sizeof raw);
    copy[i] ^= 0x10;
    EXPECT_NE(decode_header(copy, sizeof copy, back), header_status::ok) << "byte " << i;
  }
  h.version = 2;
  encode_header(h, raw);
  EXPECT_EQ(decode_header(raw, sizeof raw, back), header_status::unsupported_version);
  EXPECT_EQ(back.version, 2);
}

TEST(spool_format, record_round_trip_with_explicit_layout) {
  const std::string enc = encode(0x0102030405060708ull, "hello", 0x1112131415161718ll);
  ASSERT_EQ(enc.size(), encoded_record_size(5));
  ASSERT_EQ(enc.size(), 12u + 18u + 5u);
  EXPECT_EQ(static_cast<std::uint8_t>(enc[0]), 0xA7);  // record magic, little-endian
  EXPECT_EQ(static_cast<std::uint8_t>(enc[4]), 23);    // payload length
  EXPECT_EQ(static_cast<std::uint8_t>(enc[12]), 0x08); // seq, little-endian
  EXPECT_EQ(static_cast<std::uint8_t>(enc[19]), 0x01);
  record_view v;
  const auto r = decode_record(bytes_of(enc), enc.size(), v);
  ASSERT_EQ(r.status, decode_status::ok);
  EXPECT_EQ(r.size, enc.size());
  EXPECT_EQ(v.seq, 0x0102030405060708ull);
  EXPECT_EQ(v.created, 0x1112131415161718ll);
  EXPECT_EQ(v.stream, 2);
  EXPECT_EQ(v.flags, 7);
  EXPECT_EQ(v.message, "hello");
  const std::string empty = encode(9, "");
  ASSERT_EQ(decode_record(bytes_of(empty), empty.size(), v).status, decode_status::ok);
  EXPECT_EQ(v.message, "");
}

TEST(spool_format, decode_asks_for_more_and_rejects_every_flipped_byte) {
  const std::string enc = encode(77, "payload bytes");
  record_view v;
  EXPECT_EQ(decode_record(bytes_of(enc), 5, v).status, decode_status::need_more);
  const auto partial = decode_record(bytes_of(enc), 20, v);
  EXPECT_EQ(partial.status, decode_status::need_more);
  EXPECT_EQ(partial.size, enc.size());
  for (std::size_t i = 0; i < enc.size(); ++i) {
    std::string copy = enc;
    copy[i] = static_cast<char>(copy[i] ^ 0x01);
    const auto r = decode_record(bytes_of(copy), copy.size(), v);
    EXPECT_NE(r.status, decode_status::ok) << "byte " << i;
  }
  std::string huge = enc;
  huge[4] = 0;
  huge[5] = 0;
  huge[6] = 0;
  huge[7] = 0x02;  // 32 MiB > the 16 MiB cap
  EXPECT_EQ(decode_record(bytes_of(huge), huge.size(), v).status, decode_status::bad);
  std::string shorty = enc;
  shorty[4] = 17;  // shorter than the fixed payload fields
  shorty[5] = shorty[6] = shorty[7] = 0;
  EXPECT_EQ(decode_record(bytes_of(shorty), shorty.size(), v).status, decode_status::bad);
}

TEST(spool_format, find_record_magic_needs_all_four_bytes) {
  std::string buf(10, 'x');
  buf += encode(1, "m").substr(0, 4);
  EXPECT_EQ(find_record_magic(bytes_of(buf), buf.size()), 10u);
  EXPECT_EQ(find_record_magic(bytes_of(buf), buf.size() - 1), buf.size() - 1);
  EXPECT_EQ(find_record_magic(bytes_of(buf), 3), 3u);
}

TEST(spool_format, scanner_reports_records_and_resyncs_after_damage) {
  const std::string r1 = encode(1, "one"), r2 = encode(2, "two"), r3 = encode(3, "three");
  std::string file = r1 + r2 + r3;
  {
    memory_scan v;
    const auto res = scan_memory(file, v);
    EXPECT_FALSE(res.error);
    EXPECT_EQ(res.end, file.size());
    EXPECT_EQ(v.events, (std::vector<std::string>{"record 1 @0+33", "record 2 @33+33", "record 3 @66+35"}));
  }
  {
    std::string damaged = file;
    damaged[33 + 20] ^= 0x40;  // inside record 2's payload
    memory_scan v;
    scan_memory(damaged, v);
    EXPECT_EQ(v.events, (std::vector<std::string>{"record 1 @0+33", "damage @33+33", "record 3 @66+35"}));
  }
  {
    memory_scan v;
    scan_memory(file.substr(0, 80), v);  // torn inside record 3
    EXPECT_EQ(v.events, (std::vector<std::string>{"record 1 @0+33", "record 2 @33+33", "damage @66+14"}));
  }
  {
    memory_scan v;
    v.last = 1;  // the visitor refuses seq 1: out of order counts as damage
    scan_memory(file, v);
    EXPECT_EQ(v.events, (std::vector<std::string>{"damage @0+33", "record 2 @33+33", "record 3 @66+35"}));
  }
}

TEST(spool_format, scanner_resyncs_across_its_window_and_reads_records_bigger_than_it) {
  // 1 MiB - 2 bytes of garbage put the next magic across the first window's end.
  const std::string garbage((1u << 20) - 2, '\x55');
  const std::string big(3u << 20, 'B');
  const std::string file = garbage + encode(5, "after") + encode(6, big) + encode(7, "end");
  memory_scan v;
  const auto res = scan_memory(file, v);
  EXPECT_FALSE(res.error);
  const std::uint64_t at5 = garbage.size();
  const std::uint64_t at6 = at5 + encoded_record_size(5);
  const std::uint64_t at7 = at6 + encoded_record_size(big.size());
  EXPECT_EQ(v.events, (std::vector<std::string>{
                          "damage @0+" + std::to_string(garbage.size()),
                          "record 5 @" + std::to_string(at5) + "+35",
                          "record 6 @" + std::to_string(at6) + "+" + std::to_string(encoded_record_size(big.size())),
                          "record 7 @" + std::to_string(at7) + "+33"}));
}

TEST(spool_format, scanner_stops_at_a_read_error) {
  const std::string file = encode(1, "one") + encode(2, "two");
  const read_fn failing = [](std::uint64_t, std::uint8_t*, std::size_t, std::size_t& got) {
    got = 0;
    return std::error_code(EIO, std::system_category());
  };
  memory_scan v;
  std::vector<std::uint8_t> buffer;
  const auto res = scan_records(failing, 0, file.size(), buffer, v);
  EXPECT_EQ(res.error, std::error_code(EIO, std::system_category()));
  EXPECT_EQ(res.end, 0u);
  EXPECT_TRUE(v.events.empty());
}

// D13: resync after damage used to read (and CRC) every candidate's claimed length,
// so 1,000 fake frames claiming 16 MiB cost 16 GB of reading. It must stay linear.
TEST(spool_format, resync_past_fake_frames_claiming_huge_lengths_reads_the_file_a_few_times_at_most) {
  std::string file = encode(1, "first");
  const std::uint64_t damage_at = file.size();
  for (std::uint64_t i = 0; i < 1000; ++i) {
    // Each fake frame has the magic, the largest length, a wrong CRC, and fixed
    // fields a visitor would take (a plausible, increasing seq), so only the CRC
    // can tell it from a record.
    std::string fake(format::frame_header_size + format::payload_fixed_size, '\0');
    auto* p = reinterpret_cast<std::uint8_t*>(fake.data());
    const std::uint32_t magic = format::record_magic, length = format::max_payload, crc = 0xDEADBEEF;
    const std::uint64_t seq = 2 + i;
    for (int b = 0; b < 4; ++b) {
      p[b] = static_cast<std::uint8_t>(magic >> (8 * b));
      p[4 + b] = static_cast<std::uint8_t>(length >> (8 * b));
      p[8 + b] = static_cast<std::uint8_t>(crc >> (8 * b));
    }
    for (int b = 0; b < 8; ++b) p[12 + b] = static_cast<std::uint8_t>(seq >> (8 * b));
    file += fake;
  }
  file += std::string(format::max_payload + 64, '\0');  // every claim fits in the file
  const std::uint64_t last_at = file.size();
  file += encode(5000, "after the damage");
  memory_scan v;
  std::uint64_t bytes_read = 0;
  const auto res = scan_memory(file, v, 0, &bytes_read);
  EXPECT_FALSE(res.error);
  ASSERT_EQ(v.events.size(), 3u);
  EXPECT_EQ(v.events[0], "record 1 @0+" + std::to_string(damage_at));
  EXPECT_EQ(v.events[1], "damage @" + std::to_string(damage_at) + "+" + std::to_string(last_at - damage_at));
  EXPECT_EQ(v.events[2].rfind("record 5000 @" + std::to_string(last_at), 0), 0u) << v.events[2];
  EXPECT_LT(bytes_read, 4 * file.size()) << "read " << bytes_read << " bytes of a " << file.size() << "-byte file";
  EXPECT_LT(res.work_bytes, 8 * file.size()) << "read, moved or checksummed " << res.work_bytes << " bytes of a "
                                              << file.size() << "-byte file";
}

}  // namespace
}  // namespace plant::spool
