#pragma once
/// Loopback TCP ports for servers started by tests.
#include <cstdint>

namespace plant::test {

/// A port that was free on 127.0.0.1 a moment ago: binds port 0, reads the port the
/// kernel chose and closes the socket. Returns 0 if no socket could be bound.
/// Race: another process may take the port before the server binds it; servers
/// started by the fixtures (mosquitto_broker) retry with a new port when that happens.
std::uint16_t free_tcp_port();

/// True when a TCP connection to 127.0.0.1:port is accepted right now (it is closed at once).
bool tcp_port_accepts(std::uint16_t port);

}  // namespace plant::test
