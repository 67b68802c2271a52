#include "register/db/migrations.hpp"

#include <stdexcept>

namespace plant::central::db {

namespace {

// Any 64-bit number: the key of the advisory lock the migrating instance holds.
constexpr const char* migration_lock = "SELECT pg_advisory_xact_lock(7351002023110401)";

const char* const schema_v1 = R"sql(
-- One row per agent: its latest status, and the delivery audit kept by the writers.
CREATE TABLE agents (
  site text NOT NULL,
  agent text NOT NULL,
  state text NOT NULL DEFAULT 'unknown',
  reason text NOT NULL DEFAULT '',
  version text NOT NULL DEFAULT '',
  config_hash text NOT NULL DEFAULT '',
  started_at timestamptz,
  status_time timestamptz,
  last_seen timestamptz,
  last_seq bigint NOT NULL DEFAULT 0,
  backlog_messages bigint NOT NULL DEFAULT 0,
  backlog_bytes bigint NOT NULL DEFAULT 0,
  dropped bigint NOT NULL DEFAULT 0,
  corrupted bigint NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  stored bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  replayed bigint NOT NULL DEFAULT 0,
  samples bigint NOT NULL DEFAULT 0,
  max_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (site, agent)
);

-- The seqs stored per agent, as merged ranges: what makes every write exactly once.
CREATE TABLE delivered_ranges (
  site text NOT NULL,
  agent text NOT NULL,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  PRIMARY KEY (site, agent, first_seq)
);

-- The ranges agents report as dropped or corrupted (their status messages).
CREATE TABLE reported_ranges (
  site text NOT NULL,
  agent text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('dropped', 'corrupted')),
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  PRIMARY KEY (site, agent, kind, first_seq)
);

CREATE TABLE stock_samples (
  site text NOT NULL,
  agent text NOT NULL,
  seq bigint NOT NULL,
  idx integer NOT NULL,
  material text NOT NULL,
  quantity double precision NOT NULL,
  unit text NOT NULL,
  location text NOT NULL,
  source text NOT NULL,
  quality text NOT NULL,
  source_time timestamptz NOT NULL,
  receive_time timestamptz NOT NULL,
  replayed boolean NOT NULL
);
-- No unique index: rows are written only for seqs the agent's delivered_ranges do not
-- hold, under the agent's row lock, which keeps them exactly once at a third of the
-- cost of a composite primary key on every sample.
CREATE INDEX stock_samples_time ON stock_samples (source_time);
CREATE INDEX stock_samples_material_time ON stock_samples (material, source_time);

CREATE TABLE line_samples (
  site text NOT NULL,
  agent text NOT NULL,
  seq bigint NOT NULL,
  idx integer NOT NULL,
  line text NOT NULL,
  state text NOT NULL,
  good_count bigint NOT NULL,
  reject_count bigint NOT NULL,
  good_rate double precision NOT NULL,
  source text NOT NULL,
  quality text NOT NULL,
  source_time timestamptz NOT NULL,
  receive_time timestamptz NOT NULL,
  replayed boolean NOT NULL
);
CREATE INDEX line_samples_time ON line_samples (source_time);
CREATE INDEX line_samples_line_time ON line_samples (line, source_time);

CREATE TABLE alerts (
  site text NOT NULL,
  agent text NOT NULL,
  seq bigint NOT NULL,
  material text NOT NULL,
  status text NOT NULL,
  previous_status text NOT NULL,
  cleared boolean NOT NULL,
  quantity double precision NOT NULL,
  unit text NOT NULL,
  rate double precision NOT NULL,
  projected_stockout timestamptz,
  decided_at timestamptz NOT NULL,
  lines text[] NOT NULL,
  starved_lines text[] NOT NULL,
  reorder_point double precision NOT NULL,
  safety_stock double precision NOT NULL,
  lead_time_ms bigint NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (site, agent, seq)
);
CREATE INDEX alerts_created ON alerts (created_at);

-- Every status message (births, heartbeats, shutdowns, wills).
CREATE TABLE agent_status (
  site text NOT NULL,
  agent text NOT NULL,
  time timestamptz NOT NULL,
  state text NOT NULL,
  reason text NOT NULL,
  version text NOT NULL,
  config_hash text NOT NULL,
  last_seq bigint NOT NULL,
  backlog_messages bigint NOT NULL,
  dropped bigint NOT NULL,
  corrupted bigint NOT NULL,
  PRIMARY KEY (site, agent, time, reason)
);

-- Each agent's latest shortage decision per material (status messages and alerts).
CREATE TABLE material_status (
  site text NOT NULL,
  agent text NOT NULL,
  material text NOT NULL,
  status text NOT NULL,
  quantity double precision NOT NULL,
  unit text NOT NULL,
  rate double precision NOT NULL,
  projected_stockout timestamptz,
  decided_at timestamptz NOT NULL,
  lines text[] NOT NULL,
  starved_lines text[] NOT NULL,
  reorder_point double precision NOT NULL,
  safety_stock double precision NOT NULL,
  lead_time_ms bigint NOT NULL,
  PRIMARY KEY (site, agent, material)
);

-- The newest sample per key, kept by the writers so the current picture is one index read.
CREATE TABLE latest_stock (
  site text NOT NULL,
  agent text NOT NULL,
  material text NOT NULL,
  quantity double precision NOT NULL,
  unit text NOT NULL,
  location text NOT NULL,
  quality text NOT NULL,
  source_time timestamptz NOT NULL,
  receive_time timestamptz NOT NULL,
  PRIMARY KEY (site, agent, material)
);
CREATE TABLE latest_lines (
  site text NOT NULL,
  agent text NOT NULL,
  line text NOT NULL,
  state text NOT NULL,
  good_count bigint NOT NULL,
  reject_count bigint NOT NULL,
  good_rate double precision NOT NULL,
  quality text NOT NULL,
  source_time timestamptz NOT NULL,
  receive_time timestamptz NOT NULL,
  PRIMARY KEY (site, agent, line)
);

-- How far each register journal is committed, so a restart does not count its own replay as duplicates.
CREATE TABLE journal_positions (
  journal_id text PRIMARY KEY,
  instance text NOT NULL,
  committed_through bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW current_stock AS
  SELECT DISTINCT ON (site, material) site, agent, material, quantity, unit, location, quality,
         source_time AS time, receive_time
  FROM latest_stock ORDER BY site, material, source_time DESC, agent;

CREATE VIEW current_lines AS
  SELECT DISTINCT ON (site, line) site, agent, line, state, good_count, reject_count, good_rate, quality,
         source_time AS time, receive_time
  FROM latest_lines ORDER BY site, line, source_time DESC, agent;

CREATE VIEW open_shortages AS
  SELECT * FROM material_status WHERE status IN ('low', 'critical', 'out');
)sql";

// The ops board: what operators did about a shortage, kept as a history (newest counts).
const char* const schema_v2 = R"sql(
CREATE TABLE shortage_actions (
  id bigserial PRIMARY KEY,
  site text NOT NULL,
  material text NOT NULL,
  action text NOT NULL CHECK (action IN ('ack', 'snooze')),
  operator text NOT NULL,
  note text NOT NULL,
  status text NOT NULL,
  at timestamptz NOT NULL,
  until timestamptz,
  decided_at timestamptz
);
CREATE INDEX shortage_actions_key ON shortage_actions (site, material, id);
CREATE INDEX alerts_material_time ON alerts (site, material, decided_at);
ALTER TABLE agents ADD COLUMN backlog_oldest_age_ms bigint NOT NULL DEFAULT 0;
)sql";

// Supply-aware shortage detection: what is on order and why a material is short.
const char* const schema_v3 = R"sql(
ALTER TABLE alerts ADD COLUMN incoming double precision NOT NULL DEFAULT 0,
  ADD COLUMN next_receipt timestamptz, ADD COLUMN late_receipts bigint NOT NULL DEFAULT 0,
  ADD COLUMN late_quantity double precision NOT NULL DEFAULT 0, ADD COLUMN covered_until timestamptz,
  ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE material_status ADD COLUMN incoming double precision NOT NULL DEFAULT 0,
  ADD COLUMN next_receipt timestamptz, ADD COLUMN late_receipts bigint NOT NULL DEFAULT 0,
  ADD COLUMN late_quantity double precision NOT NULL DEFAULT 0, ADD COLUMN covered_until timestamptz,
  ADD COLUMN reason text NOT NULL DEFAULT '';
CREATE OR REPLACE VIEW open_shortages AS
  SELECT * FROM material_status WHERE status IN ('low', 'critical', 'out');
)sql";

}  // namespace

const std::vector<migration>& migrations() {
  static const std::vector<migration> all{{1, "tables, indexes and views of the first release", schema_v1},
                                          {2, "operator acknowledgements and snoozes of shortages", schema_v2},
                                          {3, "open receipts and shortage reasons of decisions", schema_v3}};
  return all;
}

migration_report apply_migrations(connection& conn) {
  migration_report report;
  conn.exec("BEGIN");
  try {
    conn.exec(migration_lock);
    conn.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now())");
    result current = conn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    report.from_version = static_cast<int>(current.integer(0, 0));
    const int newest = migrations().back().version;
    if (report.from_version > newest) {
      throw std::runtime_error("the database schema is at version " + std::to_string(report.from_version) +
                               ", newer than this plant-register knows (" + std::to_string(newest) +
                               "): upgrade plant-register");
    }
    report.to_version = report.from_version;
    for (const migration& m : migrations()) {
      if (m.version <= report.from_version) continue;
      conn.exec(m.sql);
      conn.exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", {std::to_string(m.version), m.name});
      report.to_version = m.version;
    }
    conn.exec("COMMIT");
  } catch (...) {
    try {
      if (conn.ok()) conn.exec("ROLLBACK");
    } catch (...) {
      // The original error says more than a failed rollback.
    }
    throw;
  }
  return report;
}

}  // namespace plant::central::db
