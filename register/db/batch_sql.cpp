#include "register/db/batch_sql.hpp"

namespace plant::central::db::batch_sql {

const char* const staging_tables = R"sql(
CREATE TEMP TABLE IF NOT EXISTS stock_stage (site text, agent text, seq bigint, idx integer, material text,
  quantity double precision, unit text, location text, source text, quality text, source_ms bigint, receive_ms bigint,
  replayed boolean) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS line_stage (site text, agent text, seq bigint, idx integer, line text, state text,
  good_count bigint, reject_count bigint, good_rate double precision, source text, quality text, source_ms bigint,
  receive_ms bigint, replayed boolean) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS alert_stage (site text, agent text, seq bigint, material text, status text,
  previous_status text, cleared boolean, quantity double precision, unit text, rate double precision,
  stockout_ms bigint, decided_ms bigint, lines text[], starved_lines text[], reorder_point double precision,
  safety_stock double precision, lead_time_ms bigint, created_ms bigint, incoming double precision,
  next_receipt_ms bigint, late_receipts bigint, late_quantity double precision, covered_until_ms bigint, reason text)
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS material_stage (site text, agent text, material text, status text,
  quantity double precision, unit text, rate double precision, stockout_ms bigint, decided_ms bigint, lines text[],
  starved_lines text[], reorder_point double precision, safety_stock double precision, lead_time_ms bigint,
  incoming double precision, next_receipt_ms bigint, late_receipts bigint, late_quantity double precision,
  covered_until_ms bigint, reason text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS status_stage (site text, agent text, time_ms bigint, order_ms bigint, state text,
  reason text, version text, config_hash text, started_ms bigint, last_seq bigint, backlog_messages bigint,
  backlog_bytes bigint, dropped bigint, corrupted bigint, last_error text, backlog_oldest_age_ms bigint)
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS reported_stage (site text, agent text, kind text, first_seq bigint, last_seq bigint)
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS agent_stage (site text, agent text, stored bigint, duplicates bigint,
  replayed bigint, samples bigint, max_seq bigint, last_seen_ms bigint, ranges_changed boolean) ON COMMIT DELETE ROWS;
)sql";

const char* const apply_stages = R"sql(
INSERT INTO latest_stock SELECT DISTINCT ON (site, agent, material) site, agent, material, quantity, unit, location,
  quality, to_timestamp(source_ms / 1000.0), to_timestamp(receive_ms / 1000.0) FROM stock_stage
  ORDER BY site, agent, material, source_ms DESC, seq DESC, idx DESC
  ON CONFLICT (site, agent, material) DO UPDATE SET quantity = EXCLUDED.quantity, unit = EXCLUDED.unit,
  location = EXCLUDED.location, quality = EXCLUDED.quality, source_time = EXCLUDED.source_time,
  receive_time = EXCLUDED.receive_time WHERE latest_stock.source_time <= EXCLUDED.source_time;
INSERT INTO latest_lines SELECT DISTINCT ON (site, agent, line) site, agent, line, state, good_count, reject_count,
  good_rate, quality, to_timestamp(source_ms / 1000.0), to_timestamp(receive_ms / 1000.0) FROM line_stage
  ORDER BY site, agent, line, source_ms DESC, seq DESC, idx DESC
  ON CONFLICT (site, agent, line) DO UPDATE SET state = EXCLUDED.state, good_count = EXCLUDED.good_count,
  reject_count = EXCLUDED.reject_count, good_rate = EXCLUDED.good_rate, quality = EXCLUDED.quality,
  source_time = EXCLUDED.source_time, receive_time = EXCLUDED.receive_time
  WHERE latest_lines.source_time <= EXCLUDED.source_time;
WITH stored AS (INSERT INTO alerts SELECT site, agent, seq, material, status, previous_status, cleared, quantity,
  unit, rate, to_timestamp(stockout_ms / 1000.0), to_timestamp(decided_ms / 1000.0), lines, starved_lines,
  reorder_point, safety_stock, lead_time_ms, to_timestamp(created_ms / 1000.0), incoming,
  to_timestamp(next_receipt_ms / 1000.0), late_receipts, late_quantity, to_timestamp(covered_until_ms / 1000.0), reason
  FROM alert_stage ON CONFLICT DO NOTHING
  RETURNING site, agent, seq, material, status, previous_status, quantity, unit, rate, projected_stockout, decided_at)
SELECT count(pg_notify('plant_register_alert', json_build_object('site', site, 'agent', agent, 'seq', seq,
  'material', material, 'status', status, 'previous_status', previous_status, 'quantity', quantity, 'unit', unit,
  'rate', rate, 'projected_stockout',
  to_char(projected_stockout AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'time', to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text)) FROM stored;
INSERT INTO material_status SELECT DISTINCT ON (site, agent, material) site, agent, material, status, quantity, unit,
  rate, to_timestamp(stockout_ms / 1000.0), to_timestamp(decided_ms / 1000.0), lines, starved_lines, reorder_point,
  safety_stock, lead_time_ms, incoming, to_timestamp(next_receipt_ms / 1000.0), late_receipts, late_quantity,
  to_timestamp(covered_until_ms / 1000.0), reason FROM material_stage ORDER BY site, agent, material, decided_ms DESC
  ON CONFLICT (site, agent, material) DO UPDATE SET status = EXCLUDED.status, quantity = EXCLUDED.quantity,
  unit = EXCLUDED.unit, rate = EXCLUDED.rate, projected_stockout = EXCLUDED.projected_stockout,
  decided_at = EXCLUDED.decided_at, lines = EXCLUDED.lines, starved_lines = EXCLUDED.starved_lines,
  reorder_point = EXCLUDED.reorder_point, safety_stock = EXCLUDED.safety_stock, lead_time_ms = EXCLUDED.lead_time_ms,
  incoming = EXCLUDED.incoming, next_receipt = EXCLUDED.next_receipt, late_receipts = EXCLUDED.late_receipts,
  late_quantity = EXCLUDED.late_quantity, covered_until = EXCLUDED.covered_until, reason = EXCLUDED.reason
  WHERE material_status.decided_at <= EXCLUDED.decided_at;
INSERT INTO agent_status SELECT site, agent, to_timestamp(time_ms / 1000.0), state, reason, version, config_hash,
  last_seq, backlog_messages, dropped, corrupted FROM status_stage ON CONFLICT DO NOTHING;
UPDATE agents a SET state = s.state, reason = s.reason, version = s.version, config_hash = s.config_hash,
  started_at = CASE WHEN s.started_ms = 0 THEN a.started_at ELSE to_timestamp(s.started_ms / 1000.0) END,
  status_time = to_timestamp(s.order_ms / 1000.0),
  last_seq = CASE WHEN s.last_seq = 0 THEN a.last_seq ELSE s.last_seq END,
  backlog_messages = s.backlog_messages, backlog_bytes = s.backlog_bytes,
  backlog_oldest_age_ms = s.backlog_oldest_age_ms,
  dropped = GREATEST(a.dropped, s.dropped), corrupted = GREATEST(a.corrupted, s.corrupted), last_error = s.last_error
  FROM (SELECT DISTINCT ON (site, agent) * FROM status_stage ORDER BY site, agent, order_ms DESC) s
  WHERE a.site = s.site AND a.agent = s.agent
    AND (a.status_time IS NULL OR a.status_time <= to_timestamp(s.order_ms / 1000.0));
INSERT INTO reported_ranges SELECT site, agent, kind, first_seq, max(last_seq) FROM reported_stage
  GROUP BY site, agent, kind, first_seq
  ON CONFLICT (site, agent, kind, first_seq) DO UPDATE SET last_seq = GREATEST(reported_ranges.last_seq, EXCLUDED.last_seq);
UPDATE agents a SET stored = a.stored + s.stored, duplicates = a.duplicates + s.duplicates,
  replayed = a.replayed + s.replayed, samples = a.samples + s.samples, max_seq = GREATEST(a.max_seq, s.max_seq),
  last_seen = GREATEST(a.last_seen, to_timestamp(s.last_seen_ms / 1000.0))
  FROM agent_stage s WHERE a.site = s.site AND a.agent = s.agent;
DELETE FROM delivered_ranges d USING agent_stage s
  WHERE d.site = s.site AND d.agent = s.agent AND s.ranges_changed;
-- Delivered at commit, once per transaction: the boards' event streams refresh on it.
NOTIFY plant_register_changes;
)sql";

}  // namespace plant::central::db::batch_sql
