#include "agent/transport/publish_refusal.hpp"

#include "common/mqtt/broker_errors.hpp"

namespace plant::transport {

publish_refusal refusal_for(int reason_code) {
  publish_refusal refusal;
  refusal.reason_code = reason_code;
  refusal.reason = mqtt_link::describe_reason_code(reason_code, mqtt_link::reason_context::publish);
  switch (reason_code) {
    case 0x90:  // topic name invalid
    case 0x95:  // packet too large
    case 0x99:  // payload format invalid
      refusal.permanent = true;
      break;
    default:
      // Not authorized, quota exceeded, packet id in use, unspecified: the broker
      // or its configuration may change, and the data is worth keeping until then.
      refusal.permanent = false;
      break;
  }
  return refusal;
}

}  // namespace plant::transport
