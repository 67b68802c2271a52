#pragma once
/// plant-register's typed configuration: what config/register_schema.cpp reads
/// from the TOML file. Plain data; the schema holds defaults, ranges and help.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/core/log.hpp"
#include "common/core/units.hpp"
#include "common/spool/sync_mode.hpp"

namespace plant::central {

using config_millis = std::chrono::milliseconds;

/// [register]
struct register_section {
  std::string state_dir = "/var/lib/plant-register";  ///< the journal lives in state_dir/journal
  log::level level = log::level::info;
  std::uint64_t journal_max_bytes = 1ull << 30;        ///< past it the oldest uncommitted messages are dropped (reported)
  spool::sync_mode journal_sync = spool::sync_mode::always;  ///< always: fdatasync before the PUBACK
  config_millis shutdown_timeout{10000};               ///< on stop, how long the journal may take to reach the database
};

/// [mqtt]: the connection keys every program shares, plus the share group.
struct mqtt_section {
  std::string url = "tcp://localhost:1883";
  std::string client_id;  ///< "" = "plant-register-<host name>"
  std::string username;
  std::string password_file;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool tls_verify = true;
  config_millis keepalive{30000};
  config_millis connect_timeout{10000};
  config_millis reconnect_min_delay{1000};
  config_millis reconnect_max_delay{60000};
  std::string topic_prefix = "plant/v1";
  std::string share_group;  ///< "" = a plain subscription; else $share/<group>/...
};

/// [database]
struct database_section {
  std::string url = "postgresql://localhost/plant";  ///< libpq connection URI
  std::string password_file;                         ///< "" = libpq's own (PGPASSWORD, ~/.pgpass, or none)
  std::size_t max_batch = 500;                       ///< messages per transaction
  config_millis max_delay{200};                      ///< a message waits at most this for its batch
  config_millis connect_timeout{10000};
  config_millis retry_max_delay{30000};              ///< reconnect back-off cap while PostgreSQL is down
  config_millis statement_timeout{30000};            ///< API queries and ingest statements
};

/// [http]
struct http_section {
  std::string listen = "127.0.0.1:8480";
  std::size_t max_connections = 32;
  std::size_t max_rows = 100000;  ///< no answer holds more rows, whatever `limit` asks
  std::string tokens_file;        ///< "" = the board and API are read-only; else "operator:token" lines
};

/// [[transfer]]: how long moving stock from one site to another takes.
struct transfer_route {
  std::string from;     ///< the site that sends
  std::string to;       ///< the site that receives
  config_millis time{0};
};

struct register_config {
  register_section reg;
  mqtt_section mqtt;
  database_section database;
  http_section http;
  std::vector<transfer_route> transfers;  ///< in file order
  std::string source_path;  ///< the file it came from
  std::string hash;         ///< config_hash of the effective values
};

}  // namespace plant::central
