#pragma once
/// One decoded Sparkplug message as a JSON object (plant-watch --json):
/// {"kind":"sparkplug","topic","group_id","edge_node_id","device_id",
///  "message_type","seq","bdSeq","timestamp","received_at","metrics":[...]}
/// with every metric by name (alias resolved through the births).
#include <string_view>

#include "common/sparkplug/host_tracker.hpp"
#include "common/wire/json_writer.hpp"

namespace plant::sparkplug {

void write_sparkplug_json(wire::json_writer& w, std::string_view topic_text, bool retained,
                          const decoded_message& message, epoch_ms received_at);

}  // namespace plant::sparkplug
