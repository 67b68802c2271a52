#pragma once
/// What the main thread does with each delivery: decode it, print it as JSON,
/// fold it into the board and the audit. No I/O: output goes into strings the
/// caller writes, so it is tested without a broker.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/arena.h>

#include "plant/v1/plant.pb.h"
#include "watch/views/board_state.hpp"
#include "common/wire/json_writer.hpp"
#include "common/wire/envelope_decode.hpp"
#include "common/mqtt/received_message.hpp"
#include "common/sparkplug/host_tracker.hpp"
#include "watch/audit/sequence_audit.hpp"

namespace plant::watch {

using mqtt_link::received_message;

/// Which views to keep up to date.
struct processor_settings {
  bool json = false;                   ///< one JSON line per delivery
  bool audit = false;                  ///< sequence audit
  bool board = false;                  ///< board_state for the table or the shortage board
  std::uint64_t max_error_reports = 100;  ///< undecodable deliveries reported one by one, then only counted
  wire::decode_limits limits;             ///< what decoding one delivery may cost
};

class message_processor {
 public:
  /// A processor keeping the views `settings` asks for.
  explicit message_processor(processor_settings settings);

  /// Handles one delivery: appends its JSON line (with '\n') to `out` in --json mode,
  /// and a report (with '\n') to `err` when it is not a plant.v1.Envelope.
  void handle(const received_message& message, std::string& out, std::string& err);

  /// The board (kept when settings.board).
  board_state& board() { return board_; }
  /// The board (kept when settings.board).
  const board_state& board() const { return board_; }
  /// The audit (kept when settings.audit).
  const sequence_audit& audit() const { return audit_; }
  /// Deliveries handled, undecodable and empty ones included.
  std::uint64_t received() const { return received_; }
  /// Deliveries that were not a plant.v1.Envelope.
  std::uint64_t undecodable() const { return undecodable_; }
  /// Envelopes that named another site or agent than their topic (wire::origin_conflict).
  std::uint64_t rejected() const { return rejected_; }
  /// Zero-length deliveries (a retained message being cleared), skipped.
  std::uint64_t empty_payloads() const { return empty_; }

  /// The Sparkplug edge nodes seen (spBv1.0 topics), with their session audit.
  const sparkplug::host_tracker& sparkplug_nodes() const { return sparkplug_; }
  /// One `{"audit":{"kind":"sparkplug",...}}` line per Sparkplug edge node, sorted.
  std::vector<std::string> sparkplug_audit_lines() const;
  /// A rebirth request for an edge node: publish `payload` on `topic`.
  struct rebirth_request {
    std::string group_id;
    std::string edge_node_id;
    std::string topic;
    std::string payload;
  };
  /// NCMD rebirth requests for nodes whose data had no birth; each node is asked at most
  /// once per `rebirth_interval_ms`. Taken by the caller to publish.
  std::vector<rebirth_request> take_rebirth_requests();
  /// Counts a rebirth request the caller published.
  void rebirth_sent(const rebirth_request& request) {
    sparkplug_.note_rebirth_requested(request.group_id, request.edge_node_id);
  }

 private:
  void handle_sparkplug(const received_message& message, std::string& out, std::string& err);
  void report_undecodable(const received_message& message, const std::string& reason, std::string& err);
  void report_rejected(const received_message& message, const std::string& reason, std::string& err);

  processor_settings settings_;
  sparkplug::host_tracker sparkplug_;
  sparkplug::decoded_message sparkplug_message_;
  std::map<std::pair<std::string, std::string>, epoch_ms> rebirth_asked_at_;
  std::vector<rebirth_request> rebirth_requests_;
  // Decoding into an arena that is reset per message: a oneof body is freed
  // by Clear(), so without it every sample of every batch is a malloc + free.
  std::vector<char> arena_block_;
  google::protobuf::Arena arena_;
  wire::json_writer json_;
  std::string site_;
  std::string agent_;
  std::string reason_;
  board_state board_;
  sequence_audit audit_;
  std::uint64_t received_ = 0;
  std::uint64_t undecodable_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t empty_ = 0;
};

}  // namespace plant::watch
