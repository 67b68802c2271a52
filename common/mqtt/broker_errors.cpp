#include "common/mqtt/broker_errors.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace plant::mqtt_link {

namespace {

bool split_host_port(const std::string& url, std::string& host, std::string& port) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const bool tls = url.compare(0, scheme_end, "ssl") == 0;
  std::string rest = url.substr(scheme_end + 3);
  port = tls ? "8883" : "1883";  // Paho's defaults when the URL has no port
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
    return !host.empty();
  }
  const std::size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    port = rest.substr(colon + 1);
    rest.resize(colon);
  }
  host = rest;
  return !host.empty();
}

}  // namespace

std::string describe_return_code(int code, const setting_names& names) {
  switch (code) {
    // CONNACK return codes (MQTT 3.1.1): the network is fine, the broker said no.
    case 1: return "broker refused the connection: unacceptable protocol version (it wants other than MQTT 3.1.1)";
    case 2: return "broker refused the connection: client id rejected";
    case 3: return "broker refused the connection: server unavailable";
    case 4: return "broker refused the connection: bad username or password (check " + names.credentials + ")";
    case 5: return "broker refused the connection: not authorized (check " + names.credentials + ")";
    // Paho client codes
    case -1: return "connection failed (refused, unreachable, or TLS handshake failed)";
    case -2: return "persistence error";
    case -3: return "disconnected";
    case -4: return "too many messages in flight";
    case -5: return "bad UTF-8 string";
    case -6: return "NULL parameter";
    case -8: return "bad structure";
    case -9: return "bad QoS";
    case -10: return "SSL not supported by the client library";
    case -11: return "bad MQTT version";
    case -12: return "no more messages can be buffered";
    case -13: return "bad protocol in URL";
    case -14: return "connection timed out";
    case -15: return "operation incomplete";
    default: return "error " + std::to_string(code);
  }
}

std::string describe_reason_code(int reason_code, reason_context context, const setting_names& names) {
  // Refusing a CONNECT as "not authorized" is about who connects; refusing a PUBLISH, about where it goes.
  if (reason_code == 0x87) {
    return context == reason_context::connect
               ? "not authorized (check " + names.credentials + ")"
               : "not authorized (check the broker's ACL for this client's user and topics)";
  }
  switch (reason_code) {
    case 0x80: return "unspecified error";
    case 0x81: return "malformed packet";
    case 0x82: return "protocol error";
    case 0x83: return "implementation specific error";
    case 0x84: return "unsupported protocol version";
    case 0x85: return "client identifier not valid";
    case 0x86: return "bad user name or password (check " + names.credentials + ")";
    case 0x88: return "server unavailable";
    case 0x89: return "server busy";
    case 0x8A: return "banned";
    case 0x8C: return "bad authentication method";
    case 0x8E: return "session taken over (another client connected with the same client id)";
    case 0x90: return "topic name invalid";
    case 0x91: return "packet identifier in use";
    case 0x93: return "receive maximum exceeded";
    case 0x95: return "packet too large (the broker's message_size_limit or maximum packet size)";
    case 0x97: return "quota exceeded";
    case 0x99: return "payload format invalid";
    case 0x9A: return "retain not supported";
    case 0x9B: return "QoS not supported";
    case 0x9C: return "use another server";
    case 0x9D: return "server moved";
    case 0x9F: return "connection rate exceeded";
    default: return "reason code " + std::to_string(reason_code);
  }
}

std::string probe_tcp(const std::string& url, std::chrono::milliseconds timeout) {
  std::string host;
  std::string port;
  if (!split_host_port(url, host, port)) return "cannot parse the URL";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) return gai == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(gai);
  std::string reason = "no address for the host";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int error = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready == 0) {
          error = ETIMEDOUT;
        } else if (ready < 0) {
          error = errno;
        } else {
          socklen_t length = sizeof error;
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        }
      }
    }
    ::close(fd);
    if (error == 0) {
      ::freeaddrinfo(found);
      return {};
    }
    reason = std::strerror(error);
  }
  ::freeaddrinfo(found);
  return reason;
}

std::string tls_failure_hint(bool has_ca_file, bool has_client_certificate, const setting_names& names) {
  std::string hint = "TLS handshake failed: check that the broker listens with TLS there, that ";
  hint += has_ca_file ? names.trust_store + " signed its certificate"
                      : "the system's CAs sign its certificate (or set " + names.trust_store + ")";
  hint += " for this host name";
  if (has_client_certificate) hint += ", and that it accepts " + names.client_certificate;
  return hint;
}

std::string explain_connect_failure(int code, const std::string& paho_message, const std::string& url,
                                    bool has_ca_file, bool has_client_certificate, const setting_names& names) {
  if (code >= 1 && code <= 5) return describe_return_code(code, names);
  // Paho's generic failure (-1) hides the cause; anything more specific is its own message.
  if (code != -1 && code != 0) {
    return paho_message.empty() ? describe_return_code(code, names) : paho_message;
  }
  const std::string network = probe_tcp(url, std::chrono::milliseconds(2000));
  if (!network.empty()) return network;
  // Paho C++ 1.2 cannot safely report OpenSSL's reason (see connection_settings.cpp), so say what to check.
  if (url.rfind("ssl://", 0) == 0) return tls_failure_hint(has_ca_file, has_client_certificate, names);
  // Paho's wording here ("TCP connect completion failure") names no cause;
  // the usual one is a TLS-only port reached with tcp://.
  return "the server accepted TCP but not the MQTT handshake (for a TLS port use ssl://)";
}

}  // namespace plant::mqtt_link
