#pragma once
/// The delivery contract's storage side: where a sealed message waits until the
/// broker acknowledges it. Two stores keep one contract: the spool (on disk,
/// falling back to memory while the disk refuses writes) and memory alone
/// (spool.enabled = false). put() says which the message got: durable, memory
/// only, or dropped, so a source that consumes its input (a CSV file) gives it
/// up only when that is safe. The outbox sees nothing else of either.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/encoding/topics.hpp"
#include "common/core/clock.hpp"
#include "common/core/seq_ranges.hpp"

namespace plant::store {

/// Where put() left a message.
enum class durability : std::uint8_t {
  durable,  ///< on disk: survives a crash (and, once synced, a power cut)
  memory,   ///< in memory only: lost with the process
  dropped,  ///< not kept at all (memory bound reached)
};

/// "durable", "memory", "dropped".
std::string_view to_string(durability d);

/// One sealed message.
struct stored_message {
  std::uint64_t seq = 0;
  encoding::stream stream = encoding::stream::telemetry;
  epoch_ms created = 0;
  std::string payload;  ///< the envelope bytes as sealed
};

/// Counters and figures of a store, for the status message and /metrics.
struct store_stats {
  std::uint64_t unacked_messages = 0;              ///< stored and not yet acknowledged
  std::uint64_t unacked_bytes = 0;                 ///< their bytes
  std::uint64_t memory_messages = 0;               ///< of those, held in memory only
  std::optional<epoch_ms> oldest_unacked_created;  ///< created time of the oldest
  std::uint64_t disk_bytes = 0;                    ///< on disk, including what the next sync unlinks
  bool healthy = true;                             ///< false while the disk refuses writes, syncs or reads
  std::string last_error;                          ///< why it is unhealthy
  std::uint64_t write_errors = 0;                  ///< puts the disk refused
  std::uint64_t sync_calls = 0;                    ///< fdatasync and fsync calls made
};

class message_store {
 public:
  virtual ~message_store() = default;

  /// Seqs continue from here: every seq below it was handed out before (by an earlier run too).
  virtual std::uint64_t next_seq_floor() const = 0;
  /// True when `seq` may be published: no restart, not even after a power cut, can hand it
  /// out again (a consumer would take a different message under a seq it already has).
  virtual bool seq_is_reserved(std::uint64_t seq) const = 0;
  /// When the last sync left records unsynced because their batch window is still open:
  /// the (real steady clock) time the next one is due. Nothing when none waits.
  virtual std::optional<std::chrono::steady_clock::time_point> deferred_sync_due() const { return std::nullopt; }
  /// Takes a sealed message (seqs strictly increasing).
  virtual durability put(stored_message message) = 0;
  /// The unacknowledged message `seq`, if the store still has it.
  virtual std::optional<stored_message> get(std::uint64_t seq) = 0;
  /// The unacknowledged message with the lowest seq in [cursor, end), if any; moves cursor past it.
  virtual std::optional<stored_message> next_unacked(std::uint64_t& cursor, std::uint64_t end) = 0;
  /// Every message with seq <= this is acknowledged or given up.
  virtual std::uint64_t acked_through() const = 0;
  /// The broker acknowledged `seq`.
  virtual void acknowledge(std::uint64_t seq) = 0;
  /// Keeps a message in memory whose stored copy a bound removed while it was in flight
  /// (any seq order); it is then delivered from there.
  virtual void keep_in_memory(stored_message message) = 0;
  /// Gives up [first, last] for good (the outbox reported them dropped).
  virtual void give_up(std::uint64_t first, std::uint64_t last) = 0;
  /// Drops what is over the bounds (size, age, memory); returns the seqs dropped, by it or by
  /// put() since the last call. The store no longer has them.
  virtual std::vector<seq_range> enforce_bounds(epoch_ms now) = 0;
  /// Seqs found damaged when read back since the last call.
  virtual std::vector<seq_range> take_read_losses() = 0;
  /// Makes everything put so far durable (group commit); done(durable_through) runs on another
  /// thread for the spool and at once for memory.
  virtual void request_sync(std::function<void(std::uint64_t)> done) = 0;
  /// Highest seq up to which every durable put has been synced.
  virtual std::uint64_t synced_through() const = 0;
  /// Figures for status and metrics.
  virtual store_stats stats() const = 0;
};

}  // namespace plant::store
