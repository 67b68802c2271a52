#pragma once
/// The register's tables, created and upgraded by the register itself:
/// versioned migrations, each applied once, all in one transaction under an
/// advisory lock so instances starting together do not race. The README's
/// "Database" section documents every table and column.
#include <string>
#include <vector>

#include "register/db/pg_connection.hpp"

namespace plant::central::db {

struct migration {
  int version;
  std::string name;
  std::string sql;
};

/// Every migration, oldest first.
const std::vector<migration>& migrations();

/// What apply_migrations did.
struct migration_report {
  int from_version = 0;  ///< before
  int to_version = 0;    ///< after
};

/// Applies what is missing; throws pg_error, or std::runtime_error when the database
/// is newer than this program (an older register must not write into a newer schema).
migration_report apply_migrations(connection& conn);

}  // namespace plant::central::db
