#pragma once
/// libprotobuf writes its warnings (a string field that is not UTF-8, a message
/// that does not parse) straight to stderr, around our log and its rate limit.
/// Every program routes them through plant::log instead, as one component.
namespace plant::wire {

/// Installs the handler; call once at start.
void route_protobuf_logs();

}  // namespace plant::wire
