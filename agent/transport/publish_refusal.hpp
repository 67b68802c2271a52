#pragma once
/// What an MQTT 5 broker's refusal of one publish means for that message. Under
/// 3.1.1 a broker that drops a message (ACL, message_size_limit, quota) still
/// acknowledges it; under 5 it says so with a reason code on the PUBACK or
/// PUBREC, and the agent keeps or drops the message by what that code means.
#include <string>

namespace plant::transport {

struct publish_refusal {
  int reason_code = 0;
  /// "not authorized (check ...)", for the log and /healthz.
  std::string reason;
  /// The same bytes will never be accepted (too large, bad topic, bad payload):
  /// the message is dropped and reported. Otherwise it is held and sent again later.
  bool permanent = false;
};

/// The refusal for a PUBACK/PUBREC reason code of 0x80 or more.
publish_refusal refusal_for(int reason_code);

}  // namespace plant::transport
