#pragma once
/// The Sparkplug birth/death sequence number (bdSeq, 0..255): one per MQTT
/// session, carried by the NDEATH in the CONNECT's Will and by that session's
/// NBIRTH, so a host can tell an NDEATH of an old session from the current one.
/// Kept in a file of the state_dir, written and fsynced before the CONNECT that
/// uses it, so a restart or a power cut never sends the same number for a new
/// session (some libraries restart at 0; hosts then drop the new birth).
#include <cstdint>
#include <filesystem>
#include <string>

namespace plant::sparkplug {

class bdseq_counter {
 public:
  /// Reads the last number used from `file` (absent: the first session gets 0). A damaged
  /// file is reported in last_error() and counting starts over.
  explicit bdseq_counter(std::filesystem::path file);

  /// The bdSeq for the next CONNECT: the one after the last that began a session (stored
  /// before it is returned), or the same again when the previous attempt never connected.
  std::uint64_t for_next_connect();
  /// The CONNECT that used current() was accepted: the next one gets a new number.
  void session_established() { used_ = true; }
  /// The number of the current (or last attempted) session.
  std::uint64_t current() const { return current_; }
  /// The last problem reading or writing the file; empty when none.
  const std::string& last_error() const { return last_error_; }

 private:
  void store();

  std::filesystem::path file_;
  std::uint64_t current_ = 255;  ///< so that the first session ever gets 0
  bool used_ = true;             ///< a number read back may have begun a session: never reuse it
  std::string last_error_;
};

}  // namespace plant::sparkplug
