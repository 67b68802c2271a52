#pragma once
/// --audit: accounts for every sequence number per agent. Retained deliveries
/// are state replays by the broker, not the stream, so they never count as
/// received; what the agents report as dropped or corrupted is unioned across
/// their status messages so a restart does not double-count.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "plant/v1/plant.pb.h"
#include "common/core/latency_histogram.hpp"
#include "common/core/seq_ranges.hpp"

namespace plant::watch {

/// What the audit knows about one agent (site + agent id).
struct agent_audit {
  std::string site;                  ///< the agent's site
  std::string agent;                 ///< the agent's id
  std::uint64_t received = 0;        ///< sequenced, non-retained deliveries
  std::uint64_t duplicates = 0;      ///< deliveries of a seq already seen
  std::uint64_t replayed = 0;        ///< deliveries flagged replayed by the agent
  std::uint64_t samples = 0;         ///< lines + stocks in telemetry messages seen for the first time
  std::uint64_t bytes = 0;           ///< payload bytes of the messages seen for the first time
  /// Every seq seen; past 200000 ranges new ones are counted as untracked, not stored.
  seq_ranges seqs{200000, seq_ranges::overflow::refuse};
  /// Union of status.dropped_ranges; past the bound the oldest merge (over-report, never under-report).
  seq_ranges reported_dropped{200000, seq_ranges::overflow::merge_oldest};
  /// Union of status.corrupted_ranges, bounded the same way.
  seq_ranges reported_corrupted{200000, seq_ranges::overflow::merge_oldest};
  latency_histogram live_latency;    ///< receipt - created_at, non-replayed deliveries only
  std::uint64_t implausible = 0;     ///< seqs and reported ranges outside 1..max_plausible_seq (or past the budget), ignored
  std::uint64_t untracked = 0;       ///< seqs not stored because the audit's range budget was spent
};

/// The seqs an audit finds missing: holes between the lowest and highest seen,
/// widened over the ranges the agent reported dropped or corrupted next to them.
struct audit_gaps {
  std::uint64_t gaps = 0;              ///< missing seqs
  std::vector<seq_range> missing;      ///< as ranges, at most max_missing_ranges
  bool truncated = false;              ///< more ranges exist than listed
};
/// The gaps of one agent's record (plant-watch --audit and the register's /api/audit).
audit_gaps find_gaps(const agent_audit& a, std::size_t max_missing_ranges = 1000);

class sequence_audit {
 public:
  /// `max_agents` and `max_ranges` (over all agents' sets, ~50 bytes each) bound memory;
  /// what would pass them is counted, not tracked.
  explicit sequence_audit(std::size_t max_agents = 10000, std::size_t max_ranges = 1000000)
      : max_agents_(max_agents), max_ranges_(max_ranges) {}

  /// Accounts for one decoded delivery from `site`/`agent`.
  void record(const std::string& site, const std::string& agent, const plant::v1::Envelope& envelope, bool retained,
              std::int64_t received_at_us, std::size_t payload_bytes = 0);

  /// One `{"audit":{...}}` line (no line end) per agent, sorted by site, then agent.
  std::vector<std::string> report_lines(std::size_t max_missing_ranges = 1000) const;

  /// The record of one agent, or nullptr.
  const agent_audit* find(const std::string& site, const std::string& agent) const;
  /// Deliveries not tracked because max_agents was reached.
  std::uint64_t agents_dropped() const { return agents_dropped_; }
  /// Ranges held over all agents.
  std::size_t ranges_held() const { return ranges_; }

 private:
  std::map<std::pair<std::string, std::string>, agent_audit> agents_;  // (site, agent)
  /// Adds [first, last] to `set` unless that needs a new range past the global budget.
  bool add_within_budget(seq_ranges& set, std::uint64_t first, std::uint64_t last);

  std::size_t max_agents_;
  std::size_t max_ranges_;
  std::size_t ranges_ = 0;
  std::uint64_t agents_dropped_ = 0;
};

}  // namespace plant::watch
