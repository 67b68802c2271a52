#pragma once
/// When a journal's appends are forced to disk (spool.sync in the agent's config).
namespace plant::spool {

enum class sync_mode {
  always,  ///< fdatasync before each message may be published (grouped across messages)
  batch,   ///< at most every sync_interval
  never,   ///< leave it to the OS
};

}  // namespace plant::spool
