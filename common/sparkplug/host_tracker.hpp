#pragma once
/// The reading side of Sparkplug B: what a host application keeps per edge node
/// to make sense of its messages. It resolves aliases from the births, tracks
/// the session (bdSeq from the NBIRTH, seq 0..255 from message to message) and
/// counts what an audit needs: gaps, repeats, deaths, data before any birth,
/// aliases without a birth (a host should then ask for a rebirth). Pure: bytes
/// and topics in, decoded messages out; plant-watch does the I/O.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/clock.hpp"
#include "common/sparkplug/sparkplug_topic.hpp"

namespace plant::sparkplug {

/// "Int32", "UInt64", "Double", "String", "DateTime", ...; "Unknown" outside the table.
std::string_view datatype_name(std::uint32_t datatype);

/// One metric of a message, its name resolved through the births.
struct decoded_metric {
  std::string name;                ///< "" when its alias has no birth
  std::optional<std::uint64_t> alias;
  std::uint32_t datatype = 0;      ///< from the message, else from the birth
  epoch_ms timestamp = 0;
  bool historical = false;
  bool is_null = false;
  enum class value_kind { none, number, integer, boolean, text } kind = value_kind::none;
  double number = 0.0;
  std::uint64_t integer = 0;
  bool flag = false;
  std::string text;
  std::optional<std::int32_t> quality;  ///< the Quality property, when present
  std::string unit;                     ///< engUnit, from this message or the birth
};

struct decoded_message {
  topic where;
  std::optional<std::uint64_t> seq;
  std::optional<std::uint64_t> bdseq;  ///< the session's: from the NBIRTH (or this NDEATH)
  epoch_ms timestamp = 0;
  std::vector<decoded_metric> metrics;
  std::string state_text;              ///< STATE payloads, as text
  // What the session rules say about this message.
  std::uint64_t missing_before = 0;    ///< seqs skipped just before it
  bool repeated = false;               ///< the same seq as the message before
  bool before_birth = false;           ///< data from a node whose NBIRTH was not seen
  bool stale_death = false;            ///< an NDEATH of an older session (its bdSeq is not the birth's)
  std::size_t unknown_aliases = 0;     ///< metrics whose alias no birth announced
};

/// The audit of one edge node.
struct node_audit {
  std::string group_id;
  std::string edge_node_id;
  std::optional<std::uint64_t> bdseq;  ///< of the current session
  bool online = false;                 ///< NBIRTH seen, no NDEATH since
  std::uint64_t births = 0;
  std::uint64_t deaths = 0;            ///< NDEATH of the current session
  std::uint64_t stale_deaths = 0;
  std::uint64_t received = 0;          ///< messages with a seq
  std::uint64_t gaps = 0;              ///< seqs skipped
  std::uint64_t repeats = 0;
  std::uint64_t historical = 0;        ///< metrics flagged is_historical
  std::uint64_t before_birth = 0;      ///< messages from before any NBIRTH was seen
  std::uint64_t unknown_aliases = 0;
  std::uint64_t device_births = 0;
  std::uint64_t device_deaths = 0;
  std::uint64_t rebirths_requested = 0;  ///< NCMD rebirth requests the reader sent this node
  std::uint64_t aliases_untracked = 0;   ///< births past the alias budget, not remembered
};

class host_tracker {
 public:
  /// Bounds: nodes tracked and aliases per node (what passes them is not tracked, and counted).
  /// Bounds: nodes tracked, aliases per node and aliases over all nodes (what passes them is
  /// not tracked, and counted).
  explicit host_tracker(std::size_t max_nodes = 10000, std::size_t max_aliases_per_node = 200000,
                        std::size_t max_aliases_total = 2000000)
      : max_nodes_(max_nodes), max_aliases_(max_aliases_per_node), max_aliases_total_(max_aliases_total) {}

  /// Decodes one message on topic `where`; false with `error` when the payload is not a
  /// Sparkplug B payload (the session is left as it was).
  bool decode(const topic& where, std::string_view payload, decoded_message& out, std::string& error);

  /// Every node seen, by (group_id, edge_node_id).
  const std::map<std::pair<std::string, std::string>, node_audit>& nodes() const { return audits_; }
  /// Messages of nodes not tracked because max_nodes was reached.
  std::uint64_t nodes_dropped() const { return nodes_dropped_; }
  /// Counts a rebirth request sent to a node (plant-watch publishes it).
  void note_rebirth_requested(const std::string& group_id, const std::string& edge_node_id);

 private:
  struct alias_entry {
    std::string name;
    std::uint32_t datatype = 0;
    std::string unit;
  };
  struct node_state {
    std::map<std::pair<std::string, std::uint64_t>, alias_entry> aliases;  ///< (device, alias)
    std::map<std::pair<std::string, std::string>, alias_entry> by_name;    ///< (device, name): datatypes and units
    std::optional<std::uint64_t> last_seq;
  };

  std::size_t max_nodes_;
  std::size_t max_aliases_;
  std::size_t max_aliases_total_;
  std::size_t aliases_total_ = 0;  ///< entries in every node's aliases and by_name
  std::map<std::pair<std::string, std::string>, node_audit> audits_;
  std::map<std::pair<std::string, std::string>, node_state> states_;
  std::uint64_t nodes_dropped_ = 0;
};

}  // namespace plant::sparkplug
