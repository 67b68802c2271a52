#pragma once
/// A private PostgreSQL 15 cluster for one test, as mosquitto_broker is a
/// private broker: initdb into a temp dir, a loopback listener on a free port,
/// a database "plant" owned by the user "plant" (trust auth on loopback).
/// initdb and pg_ctl refuse to run as root, so as root they run as the
/// 'postgres' user in a folder it owns.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace plant::test {

class postgres_server {
 public:
  postgres_server();
  /// Stops the server (fast) if it runs.
  ~postgres_server();
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  /// initdb on the first call, then starts and waits until it accepts connections;
  /// creates the database "plant" the first time.
  testing::AssertionResult start();
  /// pg_ctl stop -m fast: open connections are cut, committed data stays.
  testing::AssertionResult stop();
  /// SIGKILL of the postmaster (a crash); start() recovers from the WAL.
  void kill9();

  std::uint16_t port() const { return port_; }
  /// "postgresql://plant@127.0.0.1:PORT/plant".
  std::string url() const;
  /// Runs `sql` with psql and returns its unaligned, tuples-only output (rows as "a|b\n").
  /// A failure is reported as "ERROR: ..." text, so assertions show it.
  std::string query(const std::string& sql) const;
  /// The server's log so far.
  std::string log_text() const;

 private:
  std::string run_as_owner(const std::vector<std::string>& argv, int& exit_code) const;
  temp_dir dir_;
  std::uint16_t port_ = 0;
  bool initialized_ = false;
  bool running_ = false;
};

/// The directory with initdb and pg_ctl ("" when PostgreSQL is not installed).
std::string postgres_bin_dir();

}  // namespace plant::test
