#pragma once
/// The fuzz targets' bodies: one function per parser that takes bytes from
/// outside (files, the broker, a PLC, HTTP). libFuzzer calls them through
/// fuzz_entry.cpp (scripts/fuzz); the unit tests call them on every input kept
/// under tests/fuzz/regressions/<target>/, so a crash once found stays fixed.
/// Each returns normally for any input; a crash, a sanitizer report or a hang
/// is the finding.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace plant::fuzz {

using target_fn = void (*)(const std::uint8_t* data, std::size_t size);

struct target {
  std::string_view name;  ///< fuzz_<what>, the binary's and the corpus folder's name
  target_fn run;
};

/// TOML text -> the agent's and the register's config loaders, and --set overrides.
void fuzz_config(const std::uint8_t* data, std::size_t size);
/// CSV text -> the reader, then the stock, receipts and demand row parsers.
void fuzz_csv(const std::uint8_t* data, std::size_t size);
/// Segment and ack files (packed, see fuzz_targets.cpp) -> spool recovery and reads.
void fuzz_spool_recovery(const std::uint8_t* data, std::size_t size);
/// Bytes from the broker on a plant.v1 topic -> plant-watch decode, JSON, audit and board.
void fuzz_envelope(const std::uint8_t* data, std::size_t size);
/// Register words -> every Modbus type, word order, bit, scale and state map.
void fuzz_modbus_decode(const std::uint8_t* data, std::size_t size);
/// Bytes on a Sparkplug topic -> plant-watch's host tracker and the agent's NCMD/STATE handling.
void fuzz_sparkplug(const std::uint8_t* data, std::size_t size);
/// An HTTP request -> Beast's parser, the target and query parser, the JSON body reader.
void fuzz_http_request(const std::uint8_t* data, std::size_t size);

/// Every target, in scripts/fuzz's order.
const std::vector<target>& all_targets();

}  // namespace plant::fuzz
