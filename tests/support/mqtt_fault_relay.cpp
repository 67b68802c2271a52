#include "tests/support/mqtt_fault_relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace plant::test {

std::string packet_name(mqtt_packet type) {
  static const char* const names[] = {"RESERVED", "CONNECT",  "CONNACK",     "PUBLISH", "PUBACK",
                                      "PUBREC",   "PUBREL",   "PUBCOMP",     "SUBSCRIBE", "SUBACK",
                                      "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"};
  return names[static_cast<unsigned>(type) & 0x0F];
}

std::string direction_name(relay_direction direction) {
  return direction == relay_direction::client_to_broker ? "client->broker" : "broker->client";
}

std::string describe(const cut_rule& rule) {
  const char* where = rule.where == cut_point::mid_packet ? "halfway through "
                      : rule.where == cut_point::stall ? "stall at "
                                                       : "before ";
  std::string text = std::string(where) + "the " + std::to_string(rule.nth) + "th " + packet_name(rule.type);
  if (!rule.topic_contains.empty()) text += " on '" + rule.topic_contains + "'";
  return text + " " + direction_name(rule.direction);
}

/// One relayed connection: both sockets, closed together when either side ends or a rule cuts.
struct mqtt_fault_relay::link {
  int client_fd = -1;
  int broker_fd = -1;
  std::atomic<bool> cut{false};
  std::atomic<bool> stalled{false};

  /// Shuts both sockets down so both pump threads return from their blocking calls.
  void sever() {
    if (cut.exchange(true)) return;
    ::shutdown(client_fd, SHUT_RDWR);
    ::shutdown(broker_fd, SHUT_RDWR);
  }
  ~link() {
    if (client_fd >= 0) ::close(client_fd);
    if (broker_fd >= 0) ::close(broker_fd);
  }
};

namespace {

bool write_all(int fd, const unsigned char* data, std::size_t size) {
  while (size > 0) {
    ssize_t written = ::send(fd, data, size, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

/// The whole length of the packet at the start of `buffer` (fixed header included),
/// or 0 while its header is incomplete; -1 for a malformed remaining length.
/// The topic of a complete PUBLISH packet (after its fixed header of `header_bytes`).
std::string publish_topic(const std::vector<unsigned char>& packet, std::size_t header_bytes, std::size_t size) {
  if (size < header_bytes + 2) return {};
  std::size_t length = (std::size_t{packet[header_bytes]} << 8) | packet[header_bytes + 1];
  if (header_bytes + 2 + length > size) return {};
  return std::string(packet.begin() + static_cast<long>(header_bytes + 2),
                     packet.begin() + static_cast<long>(header_bytes + 2 + length));
}

mqtt_packet type_of(const std::vector<unsigned char>& packet) { return static_cast<mqtt_packet>(packet[0] >> 4); }

/// The protocol level of a complete CONNECT: after the fixed header, the name "MQTT" (2 + 4 bytes).
int protocol_level(const std::vector<unsigned char>& packet) {
  std::size_t header_bytes = 2;
  while (header_bytes < 5 && (packet[header_bytes - 1] & 0x80) != 0) ++header_bytes;
  return packet.size() > header_bytes + 6 ? packet[header_bytes + 6] : -1;
}

long long complete_packet_size(const std::vector<unsigned char>& buffer) {
  if (buffer.size() < 2) return 0;
  std::uint64_t remaining = 0;
  unsigned shift = 0;
  for (std::size_t at = 1; at < 5; ++at) {
    if (at >= buffer.size()) return 0;
    remaining |= static_cast<std::uint64_t>(buffer[at] & 0x7F) << shift;
    if ((buffer[at] & 0x80) == 0) return static_cast<long long>(1 + at + remaining);
    shift += 7;
  }
  return -1;
}

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

mqtt_fault_relay::mqtt_fault_relay(std::uint16_t broker_port) : broker_port_(broker_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("relay: socket: " + std::string(std::strerror(errno)));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("relay: cannot listen on loopback: " + std::string(std::strerror(errno)));
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

mqtt_fault_relay::~mqtt_fault_relay() {
  stopping_ = true;
  cut_all();
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.join();
}

std::string mqtt_fault_relay::url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

void mqtt_fault_relay::arm(const cut_rule& rule) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = rule;
  armed_count_ = 0;
}

unsigned long mqtt_fault_relay::packets(relay_direction direction, mqtt_packet type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = seen_.find({static_cast<int>(direction), static_cast<int>(type)});
  return found == seen_.end() ? 0 : found->second;
}

void mqtt_fault_relay::cut_all() {
  std::vector<std::shared_ptr<link>> live;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& weak : links_) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
  }
  for (auto& connection : live) connection->sever();
}

void mqtt_fault_relay::close() {
  closed_ = true;
  cut_all();
}

void mqtt_fault_relay::open() { closed_ = false; }

void mqtt_fault_relay::accept_loop() {
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    // A short poll, so the destructor's stop flag is seen without closing the socket under accept().
    if (::poll(&waiting, 1, 100) <= 0) continue;
    int client_fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client_fd < 0) continue;
    if (closed_) {
      ::close(client_fd);
      continue;
    }
    int broker_fd = connect_loopback(broker_port_);
    if (broker_fd < 0) {
      // The broker is down: the client sees a connection that closes at once, as with a real outage behind a proxy.
      ::close(client_fd);
      continue;
    }
    int one = 1;
    ::setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto connection = std::make_shared<link>();
    connection->client_fd = client_fd;
    connection->broker_fd = broker_fd;
    ++connections_;
    std::lock_guard<std::mutex> lock(mutex_);
    links_.push_back(connection);
    threads_.emplace_back([this, connection] { pump(connection, relay_direction::client_to_broker); });
    threads_.emplace_back([this, connection] { pump(connection, relay_direction::broker_to_client); });
  }
}

mqtt_fault_relay::verdict mqtt_fault_relay::cut_here(relay_direction direction,
                                                    const std::vector<unsigned char>& packet,
                                                    std::size_t packet_bytes) {
  const auto type = static_cast<mqtt_packet>(packet[0] >> 4);
  std::lock_guard<std::mutex> lock(mutex_);
  ++seen_[{static_cast<int>(direction), static_cast<int>(type)}];
  if (!armed_ || armed_->direction != direction || armed_->type != type) return {};
  if (type == mqtt_packet::publish && !armed_->topic_contains.empty()) {
    std::size_t header_bytes = 2;
    while (header_bytes < 5 && (packet[header_bytes - 1] & 0x80) != 0) ++header_bytes;
    if (publish_topic(packet, header_bytes, packet_bytes).find(armed_->topic_contains) == std::string::npos) return {};
  }
  if (++armed_count_ < armed_->nth) return {};
  verdict cut{true, armed_->where};
  armed_.reset();
  ++cuts_;
  return cut;
}

void mqtt_fault_relay::pump(const std::shared_ptr<link>& connection, relay_direction direction) {
  const int from = direction == relay_direction::client_to_broker ? connection->client_fd : connection->broker_fd;
  const int to = direction == relay_direction::client_to_broker ? connection->broker_fd : connection->client_fd;
  std::vector<unsigned char> pending;
  unsigned char chunk[16384];
  auto paced_until = std::chrono::steady_clock::now();
  while (!connection->cut) {
    ssize_t got = ::recv(from, chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (connection->stalled) continue;  // a hung link: what arrives goes nowhere
    pending.insert(pending.end(), chunk, chunk + got);
    // Forward whole packets only, so a rule can stop exactly at a packet boundary or inside one.
    for (;;) {
      long long size = complete_packet_size(pending);
      if (size < 0) {  // not MQTT: nothing sensible to relay
        connection->sever();
        return;
      }
      if (size == 0 || pending.size() < static_cast<std::size_t>(size)) break;
      if (direction == relay_direction::client_to_broker && type_of(pending) == mqtt_packet::connect &&
          refused_level_ != 0 && protocol_level(pending) == refused_level_) {
        static const unsigned char unacceptable_version[] = {0x20, 0x02, 0x00, 0x01};
        write_all(connection->client_fd, unacceptable_version, sizeof unacceptable_version);
        ++refused_connects_;
        connection->sever();
        return;
      }
      const verdict cut = cut_here(direction, pending, static_cast<std::size_t>(size));
      if (cut.cut && cut.where == cut_point::stall) {
        connection->stalled = true;
        pending.clear();
        break;
      }
      if (cut.cut) {
        if (cut.where == cut_point::mid_packet) write_all(to, pending.data(), static_cast<std::size_t>(std::max<long long>(1, size / 2)));
        connection->sever();
        return;
      }
      if (const std::size_t rate = uplink_rate_; rate > 0 && direction == relay_direction::client_to_broker) {
        // Each packet leaves when the bytes before it would have, at `rate`.
        paced_until = std::max(paced_until, std::chrono::steady_clock::now()) +
                      std::chrono::microseconds(static_cast<long long>(size) * 1000000 / static_cast<long long>(rate));
        std::this_thread::sleep_until(paced_until);
      }
      if (!write_all(to, pending.data(), static_cast<std::size_t>(size))) {
        connection->sever();
        return;
      }
      pending.erase(pending.begin(), pending.begin() + size);
    }
  }
  // One side closed: close the other, as a TCP proxy would.
  connection->sever();
}

}  // namespace plant::test
