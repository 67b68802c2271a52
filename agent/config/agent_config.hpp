#pragma once
/// The typed, validated configuration. Only the loader (config_loader.hpp)
/// creates one; everything else reads it. Every key named here is documented
/// with its default in config/plant-agent.toml and in the schema.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace plant::config {

using millis = std::chrono::milliseconds;

enum class log_level { debug, info, warn, error };
enum class sync_mode { always, batch, never };
enum class csv_after { keep, remove, move };  // "keep" | "delete" | "move"

struct agent_section {
  std::string id;                       ///< agent.id, required
  std::string site;                     ///< agent.site, required
  std::string state_dir = "/var/lib/plant-agent";
  log_level level = log_level::info;    ///< agent.log_level
  millis heartbeat_interval{30000};
};

struct mqtt_section {
  std::string url = "tcp://localhost:1883";   ///< tcp://host:port or ssl://host:port
  std::string client_id;                      ///< empty: "plant-agent-<site>-<id>"
  int qos = 1;
  std::string username;
  std::string password_file;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool tls_verify = true;                     ///< verify the server certificate
  millis keepalive{30000};
  std::string topic_prefix = "plant/v1";
  millis publish_interval{1000};
  std::size_t max_batch = 1000;               ///< samples per telemetry message
  std::size_t max_inflight = 64;              ///< the agent's own window (Paho's is 2x)
  millis connect_timeout{10000};
  millis reconnect_min_delay{1000};
  millis reconnect_max_delay{60000};
  std::size_t queue_max_messages = 1000;      ///< live messages held in memory
  millis shutdown_timeout{5000};              ///< bounded flush on SIGTERM
};

struct spool_section {
  bool enabled = true;
  sync_mode sync = sync_mode::batch;
  millis sync_interval{50};
  std::uint64_t max_bytes = 256ull << 20;
  millis max_age{7ll * 24 * 3600 * 1000};
  std::uint64_t segment_bytes = 16ull << 20;
  double backfill_share = 0.5;
};

struct health_section {
  std::string listen;                         ///< "" = off; "127.0.0.1:9464"
  millis max_backlog_age{300000};
};

struct shortage_section {
  bool enabled = true;
  millis margin{8ll * 3600 * 1000};           ///< low: stockout within lead_time + margin
  millis rate_half_life{2ll * 3600 * 1000};   ///< how fast the consumption rate adapts
  double surplus_margin = 0.2;                ///< surplus: quantity > reorder_point * (1 + margin)
};

struct simulator_source {
  std::string name;
  std::uint64_t seed = 1;
  int lines = 3;
  int materials = 8;
  millis sample_interval{1000};               ///< in plant time
  double speed = 1.0;                         ///< plant seconds per wall second; 0 = as fast as publishing drains
};

struct csv_source {
  std::string name;
  std::string directory;
  std::string pattern = "*.csv";
  std::string material_column = "material";
  std::string quantity_column = "quantity";
  std::string timestamp_column;               ///< optional: RFC 3339 or epoch seconds
  std::string location_column;
  std::string unit_column;
  char delimiter = ',';
  csv_after after = csv_after::keep;
  std::string move_to;                        ///< after = "move": target directory (default <directory>/done)
  millis poll_interval{2000};
  millis settle_time{1000};                   ///< a file must be unchanged this long to count as complete
  std::uint64_t max_file_bytes = 64ull << 20;
};

enum class modbus_area { coil, discrete, input, holding };
enum class modbus_type { boolean, int16, uint16, int32, uint32, int64, uint64, float32, float64 };
enum class word_order { abcd, cdab, badc, dcba };

struct modbus_point {
  modbus_area area = modbus_area::holding;
  std::uint16_t address = 0;
  modbus_type type = modbus_type::uint16;
  word_order order = word_order::abcd;
  std::optional<int> bit;                     ///< 0..15: one bit of a register
  double scale = 1.0;
  double offset = 0.0;
  std::map<std::int64_t, std::string> map;    ///< register value -> line state name
  std::string key_path;                       ///< "source.modbus[0].line[1].state", for messages
};

struct modbus_line {
  std::string id;
  std::optional<modbus_point> state;
  std::optional<modbus_point> good_count;
  std::optional<modbus_point> reject_count;
};

struct modbus_stock {
  std::string material;
  std::string unit;
  std::string location;
  modbus_point quantity;
};

struct modbus_source {
  std::string name;
  std::string address;                        ///< tcp://host:port or rtu:///dev/ttyUSB0
  int unit_id = 1;
  millis interval{1000};
  millis timeout{500};
  int baud = 9600;
  char parity = 'N';                          ///< 'N', 'E', 'O' from "none"/"even"/"odd"
  int data_bits = 8;
  int stop_bits = 1;
  int max_gap = 8;                            ///< registers (or bits x16) to read across to merge requests
  millis reconnect_min_delay{1000};
  millis reconnect_max_delay{30000};
  std::vector<modbus_line> lines;
  std::vector<modbus_stock> stocks;
};

struct material_config {
  std::string id;
  std::string unit;
  double safety_stock = 0.0;
  std::optional<double> reorder_point;
  millis lead_time{0};
  std::vector<std::string> lines;
  std::optional<millis> margin;               ///< overrides shortage.margin
  std::optional<millis> critical_horizon;     ///< default: lead_time
};

struct agent_config {
  agent_section agent;
  mqtt_section mqtt;
  spool_section spool;
  health_section health;
  shortage_section shortage;
  std::vector<simulator_source> simulators;
  std::vector<csv_source> csvs;
  std::vector<modbus_source> modbus;
  std::vector<material_config> materials;

  std::string source_path;                    ///< the file it was loaded from
  std::string hash;                           ///< 16 hex digits over the effective config
};

}  // namespace plant::config
