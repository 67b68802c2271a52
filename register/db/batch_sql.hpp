#pragma once
/// The SQL of one batch (register/db/batch_writer.cpp): the session's staging
/// tables, and the statements that move staged rows into place. Kept apart
/// from the C++ that fills them so both read as what they are.
namespace plant::central::db::batch_sql {

/// CREATE TEMP TABLE ... ON COMMIT DELETE ROWS for every staging table.
extern const char* const staging_tables;
/// Staged rows into latest_*, alerts, material_status, agent_status, agents and
/// reported_ranges; the changed agents' delivered_ranges are cleared for rewriting.
extern const char* const apply_stages;

}  // namespace plant::central::db::batch_sql
