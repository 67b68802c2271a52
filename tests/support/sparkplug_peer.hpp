#pragma once
/// The independent Sparkplug B peer of the integration tests
/// (tests/sparkplug/sparkplug_peer.mjs: MQTT.js and Eclipse Tahu's codec from
/// npm): a listener that prints every spBv1.0 message Tahu decoded, and the
/// host's side of the session (STATE, rebirth requests).
#include <chrono>
#include <string>
#include <vector>

#include "common/wire/json_reader.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace plant::test {

/// One message as Tahu decoded it (see sparkplug_peer.mjs for the fields).
struct peer_message {
  std::string topic;
  std::string type;    ///< NBIRTH, DDATA, STATE, ...
  std::string device;  ///< "" for node messages
  wire::json_value json = wire::json_value::make_null();

  /// The payload's seq; -1 when it has none.
  long long seq() const;
  /// The metrics array (empty for STATE).
  const std::vector<wire::json_value>& metrics() const;
  /// The first metric named `name`, or nullptr.
  const wire::json_value* metric(const std::string& name) const;
};

class sparkplug_listener {
 public:
  explicit sparkplug_listener(const temp_dir& dir) : dir_(dir) {}
  /// Starts listening on `url` (tcp://...) and waits until it has subscribed; with a
  /// `client_id`, in a persistent session that keeps what arrives while it reconnects.
  testing::AssertionResult start(const std::string& url, const std::string& client_id = "");
  /// Every message so far, in arrival order; a line that is not JSON fails the test.
  std::vector<peer_message> messages() const;
  /// The messages of `type` so far.
  std::vector<peer_message> of_type(const std::string& type) const;
  child_process& process() { return process_; }

 private:
  const temp_dir& dir_;
  child_process process_;
};

/// Publishes the primary host's retained STATE ({"online":..,"timestamp":now}).
testing::AssertionResult publish_host_state(const std::string& url, const std::string& host, bool online);
/// Sends an NCMD with Node Control/Rebirth = true.
testing::AssertionResult request_rebirth(const std::string& url, const std::string& group, const std::string& node);

/// The metric's "value" as a number (NaN when it is not one).
double number_of(const wire::json_value& metric, const std::string& field = "value");
/// The metric's string field, "" when absent.
std::string text_of(const wire::json_value& metric, const std::string& field);

}  // namespace plant::test
