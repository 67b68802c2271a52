#pragma once
/// A TCP relay between an MQTT client and a real broker that understands MQTT
/// framing well enough to cut the connection at an exact packet: "the 3rd
/// PUBLISH from the client", "the 1st PUBACK from the broker", either before
/// the packet is forwarded or halfway through it (a connection that dies
/// mid-send). After a cut, new connections are relayed normally until the
/// next rule is armed, so the client under test can reconnect through it.
///
/// It runs its own threads (one acceptor, two per relayed connection) and
/// blocking sockets: loopback, a handful of connections, simplicity first.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace plant::test {

/// MQTT control packet types (the high nibble of the fixed header's first byte).
enum class mqtt_packet : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

/// "PUBLISH", "PUBACK", ... for test names and messages.
std::string packet_name(mqtt_packet type);

enum class relay_direction { client_to_broker, broker_to_client };

/// "client->broker" or "broker->client".
std::string direction_name(relay_direction direction);

/// Where in the chosen packet the connection dies.
enum class cut_point {
  /// The packet is not forwarded at all.
  before_packet,
  /// Its first half (at least one byte) is forwarded, then the connection dies.
  mid_packet,
  /// Nothing more is forwarded either way, but both sockets stay open: a hung
  /// link that only a keepalive (or a deadline) can detect. Ends when a peer closes.
  stall,
};

/// One cut: the `nth` packet of `type` flowing in `direction`, counted from arm().
struct cut_rule {
  relay_direction direction = relay_direction::client_to_broker;
  mqtt_packet type = mqtt_packet::publish;
  unsigned nth = 1;
  cut_point where = cut_point::before_packet;
  /// For PUBLISH: only packets whose topic contains this count; empty = all.
  std::string topic_contains;
};

std::string describe(const cut_rule& rule);

class mqtt_fault_relay {
 public:
  /// Listens on a free loopback port and forwards to 127.0.0.1:broker_port.
  explicit mqtt_fault_relay(std::uint16_t broker_port);
  /// Cuts every connection and joins every thread.
  ~mqtt_fault_relay();
  mqtt_fault_relay(const mqtt_fault_relay&) = delete;
  mqtt_fault_relay& operator=(const mqtt_fault_relay&) = delete;

  /// "tcp://127.0.0.1:PORT" for the client's config.
  std::string url() const;
  std::uint16_t port() const { return port_; }

  /// Arms `rule` (replacing one not yet fired) and restarts its count at zero.
  void arm(const cut_rule& rule);
  /// How many armed rules have fired so far.
  unsigned cuts() const { return cuts_.load(); }
  /// Connections accepted so far.
  unsigned connections() const { return connections_.load(); }
  /// Packets of `type` seen flowing in `direction` since the relay started.
  unsigned long packets(relay_direction direction, mqtt_packet type) const;
  /// Closes every relayed connection now (a network drop without a packet rule).
  void cut_all();
  /// While closed, every connection is cut and new ones are closed at once, as
  /// with a broker that is down; open() relays again.
  void close();
  void open();
  /// Answers a CONNECT of this protocol level (5 = MQTT 5) the way a broker that does not
  /// speak it must (MQTT-3.1.2-2): CONNACK with return code 1, then close. 0 = off.
  void refuse_protocol_level(int level) { refused_level_ = level; }
  /// Paces what flows client->broker to about this many bytes a second, as a slow
  /// uplink (a cellular modem) would; 0 = as fast as loopback goes.
  void limit_uplink(std::size_t bytes_per_second) { uplink_rate_ = bytes_per_second; }
  /// CONNECTs answered that way so far.
  unsigned refused_connects() const { return refused_connects_.load(); }

 private:
  struct link;
  void accept_loop();
  void pump(const std::shared_ptr<link>& connection, relay_direction direction);
  /// The bytes of the packet to forward before cutting, or nullopt to forward it whole.
  struct verdict {
    bool cut = false;
    cut_point where = cut_point::before_packet;
  };
  verdict cut_here(relay_direction direction, const std::vector<unsigned char>& packet, std::size_t packet_bytes);

  std::uint16_t broker_port_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> closed_{false};
  std::atomic<int> refused_level_{0};
  std::atomic<std::size_t> uplink_rate_{0};
  std::atomic<unsigned> refused_connects_{0};
  std::atomic<unsigned> cuts_{0};
  std::atomic<unsigned> connections_{0};

  mutable std::mutex mutex_;
  std::optional<cut_rule> armed_;
  unsigned armed_count_ = 0;
  std::map<std::pair<int, int>, unsigned long> seen_;
  std::vector<std::weak_ptr<link>> links_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace plant::test
