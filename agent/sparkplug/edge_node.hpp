#pragma once
/// plant-agent as a Sparkplug B 3.0 edge node (mqtt.format = "sparkplug").
///
/// It sits between the outbox and the MQTT connection and keeps the outbox's
/// contract: the outbox still seals plant.v1 envelopes, spools them and hands
/// them over by seq; the edge node turns each into Sparkplug messages at send
/// time (DDATA per source for telemetry, NDATA for alerts and status) and
/// reports the seq delivered once the broker has acknowledged every one of
/// them. So the spool, live-first replay and the kill -9 and power-cut
/// guarantees hold unchanged, and held data goes out flagged is_historical.
///
/// Session rules (specification chapter 5): clean session; NDEATH as the Will
/// with the session's bdSeq (bdseq_counter); NBIRTH seq 0 then seq + 1 per
/// message, 255 -> 0; aliases unique per node and used alone in data; DBIRTH
/// per source after the NBIRTH; DDEATH when a source stops answering (its
/// values turn stale) and DBIRTH when it is back; Node Control/Rebirth; and,
/// with a primary host, births and data only while its STATE says online.
/// The outbox sees "connected" only while the node is born and may publish.
///
/// Runs on the event-loop thread only.
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/sparkplug/bdseq_counter.hpp"
#include "agent/sparkplug/metric_table.hpp"
#include "agent/transport/message_publisher.hpp"
#include "common/core/clock.hpp"
#include "common/core/log.hpp"
#include "common/mqtt/connection_settings.hpp"
#include "common/sparkplug/sparkplug_topic.hpp"

namespace plant::v1 {
class AgentStatus;
class MaterialStatus;
class TelemetryBatch;
}  // namespace plant::v1

namespace plant::sparkplug {

struct edge_node_settings {
  std::string group_id;
  std::string edge_node_id;
  std::string primary_host_id;          ///< "" = no host gating
  std::string version;                  ///< Properties/Version
  int qos = 1;                          ///< every Sparkplug publish but the NDEATH (always 1)
  std::vector<std::string> materials;   ///< the [[material]] ids: shortage/<id>/* node metrics
  std::filesystem::path bdseq_file;     ///< where bdSeq survives restarts
  std::size_t max_payload_bytes = 256u << 10;  ///< data messages are split below it
  std::size_t max_metrics = 50000;      ///< metrics announced at most (memory and births grow with them)
  std::size_t max_in_flight = 64;       ///< Paho's in-flight limit on this connection
};

struct edge_node_counters {
  std::uint64_t births = 0;             ///< NBIRTH messages (first birth and rebirths)
  std::uint64_t rebirth_requests = 0;   ///< NCMD Node Control/Rebirth received
  std::uint64_t commands_ignored = 0;   ///< other NCMD/DCMD metrics, logged and ignored
  std::uint64_t device_deaths = 0;      ///< DDEATH messages
  std::uint64_t host_offline = 0;       ///< times the primary host went offline
  std::uint64_t metrics_dropped = 0;    ///< readings of metrics past max_metrics, not sent
  std::uint64_t commands_too_large = 0; ///< NCMD/DCMD/STATE payloads over the size bound, not read
};

class edge_node final : public transport::message_publisher {
 public:
  /// `outer` are the outbox's events (connected means born and publishing). `status_now`
  /// gives the agent's current status envelope, read for the node metrics of a birth.
  edge_node(boost::asio::io_context& io, edge_node_settings settings, transport::publisher_events outer,
            std::function<std::string()> status_now);

  /// The events the MQTT connection reports to (wire them into the mqtt_publisher).
  transport::publisher_events wire_events();
  /// The Will for the next CONNECT: the NDEATH with that session's bdSeq.
  std::optional<mqtt_link::will_message> will_for_next_connect();
  /// The filters the connection subscribes to: NCMD, DCMD and the primary host's STATE.
  std::vector<std::string> subscriptions() const;
  /// The connection to publish on, and how to end its session and start another
  /// (`at_once` false: after the connection's backoff); set once, before it connects.
  void attach(transport::message_publisher& wire,
              std::function<void(const std::string& reason, bool at_once)> restart_session);
  /// This connection's broker limits (MQTT 5 CONNACK): QoS 1 publishes in flight at most
  /// (Receive Maximum) and the largest payload (0 = none stated).
  void set_broker_limits(std::size_t receive_maximum, std::size_t max_payload_bytes);
  /// After a reload: new [[material]] ids get their shortage metrics (a rebirth announces
  /// them), and sources no longer configured get a DDEATH.
  void reconfigure(const std::vector<std::string>& materials, const std::vector<std::string>& sources);
  /// An intentional end of the session (a reload's reconnect): the node says its NDEATH.
  void end_session(const std::string& reason);

  // message_publisher: what the outbox calls.
  bool connected() const override { return online_; }
  /// Turns one plant.v1 envelope into Sparkplug messages; tag 0 is the unsequenced status.
  transport::publish_outcome publish(const std::string& topic, std::string payload, int qos, bool retain,
                                     std::uint64_t tag) override;

  const edge_node_counters& counters() const { return counters_; }
  /// The bdSeq of the current session.
  std::uint64_t bdseq() const { return bdseq_.current(); }
  /// True while the primary host says online (always true without host gating).
  bool host_online() const { return host_online_; }
  /// Metrics announced (node and devices).
  std::size_t metric_count() const { return table_.size(); }

 private:
  /// One Sparkplug message waiting to be sent. Its seq is given when it is handed to the
  /// connection, so a message that cannot be sent leaves no gap in the numbering.
  struct outgoing {
    enum class numbering { next, restart, none };  ///< seq + 1, seq 0 (NBIRTH), no seq (NDEATH)
    std::string topic;
    std::string payload;                           ///< without its seq
    numbering seq = numbering::next;
    bool birth = false;
    int qos = -1;                                  ///< -1 = settings.qos
  };

  void on_wire_connected();
  void on_session_started();
  void on_wire_lost(const std::string& reason);
  void on_wire_delivered(std::uint64_t wire_tag);
  void on_wire_refused(std::uint64_t wire_tag, const transport::publish_refusal& refusal);
  void on_message(const std::string& topic, const std::string& payload);
  void on_state(const std::string& payload);
  void on_command(const topic& t, const std::string& payload);

  void go_online();
  void go_offline(const std::string& reason);
  /// Publishes NBIRTH and every DBIRTH now; on failure the session is started over.
  bool publish_births(epoch_ms now);
  /// NBIRTH (seq 0) and a DBIRTH for every source that answers, appended to `out`.
  void append_births(epoch_ms now, std::vector<outgoing>& out);
  void append_device_birth(const std::string& device, epoch_ms now, std::vector<outgoing>& out);
  void append_device_death(const std::string& device, epoch_ms now, std::vector<outgoing>& out);
  std::string topic_for(message_type type, const std::string& device = "") const;

  void declare_node_metrics();
  void declare_material(const std::string& material);
  /// The node metrics a status envelope carries, as readings.
  std::vector<metric_reading> readings_of_status(const v1::AgentStatus& status, epoch_ms at);
  std::vector<metric_reading> readings_of_material(const v1::MaterialStatus& material, epoch_ms at);
  std::size_t node_metric(const std::string& name) const;

  void encode_telemetry(const v1::TelemetryBatch& batch, bool historical, epoch_ms now, std::vector<outgoing>& out);
  /// DDATA/NDATA for `readings` (report by exception unless historical), split below the size limit.
  void encode_data(message_type type, const std::string& device, const std::vector<metric_reading>& readings,
                   bool historical, epoch_ms now, std::vector<outgoing>& out);
  /// Sends `out` for outbox message `outer_tag` (0 = none); stops at the first that fails.
  transport::publish_outcome send_all(std::vector<outgoing>& out, std::uint64_t outer_tag);
  /// Room in the connection's window for one more outbox message.
  bool window_has_room() const;

  boost::asio::io_context& io_;
  edge_node_settings settings_;
  transport::publisher_events outer_;
  std::function<std::string()> status_now_;
  transport::message_publisher* wire_ = nullptr;
  std::function<void(const std::string&, bool)> restart_session_;
  log::logger log_{"sparkplug"};
  bdseq_counter bdseq_;
  metric_table table_;
  edge_node_counters counters_;

  bool wire_connected_ = false;
  bool host_online_ = true;       ///< the primary host's last STATE (true without one)
  std::int64_t host_state_time_ = -1;  ///< timestamp of the last STATE taken; older ones are ignored
  bool online_ = false;           ///< born: the outbox may publish
  std::uint64_t seq_ = 0;         ///< the next message's seq
  bool rebirth_due_ = false;      ///< births go out before the next message (a coalesced NCMD, new metrics)
  bool retry_pending_ = false;    ///< the outbox was told to retry: tell it when the window opens
  std::size_t receive_maximum_ = 65535;
  std::size_t broker_payload_limit_ = 0;
  std::set<std::string> dead_devices_;    ///< sources whose values went stale: DDEATH sent
  std::set<std::string> born_devices_;    ///< DBIRTH sent in this session
  std::set<std::string> retired_devices_; ///< removed by a reload: never born again

  // Each outbox message may become several Sparkplug publishes: it is delivered once all are.
  std::uint64_t next_wire_tag_ = 1;
  std::map<std::uint64_t, std::uint64_t> wire_to_outer_;
  std::map<std::uint64_t, std::size_t> outer_pending_;
  std::set<std::uint64_t> birth_tags_;    ///< births in flight: a refusal of one ends the session
};

}  // namespace plant::sparkplug
