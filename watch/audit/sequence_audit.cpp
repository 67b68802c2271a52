#include "watch/audit/sequence_audit.hpp"

#include "common/wire/json_writer.hpp"

namespace plant::watch {

namespace {
// Unix ms of the year 2286: any later created_at is not a clock reading.
constexpr std::int64_t max_plausible_time_ms = 10'000'000'000'000;
}  // namespace

using namespace plant::wire;

bool sequence_audit::add_within_budget(seq_ranges& set, std::uint64_t first, std::uint64_t last) {
  const std::size_t before = set.size();
  set.add(first, last);
  if (set.size() > before && ranges_ + (set.size() - before) > max_ranges_) {
    // A range of its own past the budget: take it back out (it merged with nothing).
    set.erase(first, last);
    return false;
  }
  // A range that fills a hole merges two: the count can also shrink.
  if (set.size() > before) {
    ranges_ += set.size() - before;
  } else {
    ranges_ -= before - set.size();
  }
  return true;
}

void sequence_audit::record(const std::string& site, const std::string& agent, const plant::v1::Envelope& envelope,
                            bool retained, std::int64_t received_at_us, std::size_t payload_bytes) {
  auto key = std::make_pair(site, agent);
  auto it = agents_.find(key);
  if (it == agents_.end()) {
    if (agents_.size() >= max_agents_) {
      ++agents_dropped_;
      return;
    }
    it = agents_.try_emplace(std::move(key)).first;
    it->second.site = site;
    it->second.agent = agent;
  }
  agent_audit& a = it->second;

  // Status messages carry what the agent itself gave up on; retained or not,
  // the ranges are facts, and a union makes repeats harmless.
  if (envelope.has_status()) {
    // Forged or broken ranges (seq 0, reversed, past any real seq) would make the
    // sums below overflow; they are counted and left out.
    auto take = [&](const auto& ranges, seq_ranges& into) {
      for (const auto& r : ranges) {
        if (!plausible_seq(r.first()) || !plausible_seq(r.last()) || r.first() > r.last()) {
          ++a.implausible;
          continue;
        }
        if (!add_within_budget(into, r.first(), r.last())) ++a.implausible;
      }
    };
    take(envelope.status().dropped_ranges(), a.reported_dropped);
    take(envelope.status().corrupted_ranges(), a.reported_corrupted);
  }

  if (retained || envelope.seq() == 0) return;
  if (!plausible_seq(envelope.seq())) {
    ++a.implausible;
    return;
  }

  ++a.received;
  if (envelope.replayed()) {
    ++a.replayed;
  } else if (envelope.created_at() > 0 && envelope.created_at() < max_plausible_time_ms) {
    // A stamp from a hostile or broken sender would overflow the microseconds (found by fuzz_envelope).
    a.live_latency.record_us(received_at_us - envelope.created_at() * 1000);
  }
  const std::uint64_t seq = envelope.seq();
  const bool duplicate = a.seqs.contains(seq);
  const bool added = !duplicate && add_within_budget(a.seqs, seq, seq);
  switch (duplicate ? seq_ranges::insert_result::duplicate
                    : added ? seq_ranges::insert_result::added : seq_ranges::insert_result::untracked) {
    case seq_ranges::insert_result::added:
      a.bytes += payload_bytes;
      if (envelope.has_telemetry()) {
        a.samples += static_cast<std::uint64_t>(envelope.telemetry().lines_size()) +
                     static_cast<std::uint64_t>(envelope.telemetry().stocks_size());
      }
      break;
    case seq_ranges::insert_result::duplicate: ++a.duplicates; break;
    case seq_ranges::insert_result::untracked: ++a.untracked; break;
  }
}

const agent_audit* sequence_audit::find(const std::string& site, const std::string& agent) const {
  auto it = agents_.find(std::make_pair(site, agent));
  return it == agents_.end() ? nullptr : &it->second;
}

namespace {

// The window the audit accounts for: from the first to the last seq received,
// widened over reported dropped/corrupted ranges that touch it. When an agent
// drops its oldest data, the first seq a consumer ever sees comes right after
// the dropped range; widening makes those seqs gaps, so gaps equal what the
// agent reported. Ranges that do not touch the window (older history a late
// subscriber never expected) leave it alone.
std::pair<std::uint64_t, std::uint64_t> audit_window(const agent_audit& a) {
  std::uint64_t low = *a.seqs.lowest(), high = *a.seqs.highest();
  bool widened = true;
  while (widened) {
    widened = false;
    for (const seq_ranges* reported : {&a.reported_dropped, &a.reported_corrupted}) {
      for (const auto& [first, last] : reported->ranges()) {
        if (first < low && last + 1 >= low) {
          low = first;
          widened = true;
        }
        if (last > high && first <= high + 1) {
          high = last;
          widened = true;
        }
      }
    }
  }
  return {low, high};
}

}  // namespace

audit_gaps find_gaps(const agent_audit& a, std::size_t max_missing_ranges) {
  audit_gaps out;
  out.missing = a.seqs.holes(max_missing_ranges, out.truncated);
  out.gaps = a.seqs.hole_count();
  const std::uint64_t first_seq = a.seqs.lowest().value_or(0);
  const std::uint64_t last_seq = a.seqs.highest().value_or(0);
  if (!a.seqs.empty()) {
    auto [low, high] = audit_window(a);
    if (low < first_seq) {
      out.missing.insert(out.missing.begin(), {low, first_seq - 1});
      out.gaps += first_seq - low;
    }
    if (high > last_seq) {
      out.missing.push_back({last_seq + 1, high});
      out.gaps += high - last_seq;
    }
    if (out.missing.size() > max_missing_ranges) {
      out.missing.resize(max_missing_ranges);
      out.truncated = true;
    }
  }
  return out;
}

std::vector<std::string> sequence_audit::report_lines(std::size_t max_missing_ranges) const {
  std::vector<std::string> lines;
  json_writer w;
  for (const auto& [key, a] : agents_) {
    w.clear();
    audit_gaps found = find_gaps(a, max_missing_ranges);
    const bool truncated = found.truncated;
    const std::uint64_t gaps = found.gaps;
    const auto& missing = found.missing;
    const std::uint64_t first_seq = a.seqs.lowest().value_or(0);
    const std::uint64_t last_seq = a.seqs.highest().value_or(0);
    w.begin_object().key("audit").begin_object();
    w.field("agent", a.agent);
    w.field("site", a.site);
    w.field("received", a.received);
    w.field("unique", a.seqs.count());
    w.field("duplicates", a.duplicates);
    w.field("gaps", gaps);
    w.key("missing").begin_array();
    for (const auto& range : missing) w.begin_array().value(range.first).value(range.last).end_array();
    w.end_array();
    w.field("replayed", a.replayed);
    w.field("samples", a.samples);
    w.field("bytes", a.bytes);
    w.field("reported_dropped", a.reported_dropped.count());
    w.field("reported_corrupted", a.reported_corrupted.count());
    w.field("first_seq", first_seq);
    w.field("last_seq", last_seq);
    w.key("live_latency_ms").begin_object();
    w.field("count", a.live_latency.count());
    w.field("p50", a.live_latency.percentile_ms(50));
    w.field("p99", a.live_latency.percentile_ms(99));
    w.field("max", a.live_latency.max_ms());
    w.end_object();
    // Extras go after the fixed keys so consumers of the documented shape are unaffected.
    if (truncated) w.field("missing_truncated", true);
    if (a.seqs.overflowed() + a.untracked > 0) w.field("untracked", a.seqs.overflowed() + a.untracked);
    if (a.implausible > 0) w.field("implausible", a.implausible);
    w.end_object().end_object();
    lines.push_back(w.take());
  }
  return lines;
}

}  // namespace plant::watch
