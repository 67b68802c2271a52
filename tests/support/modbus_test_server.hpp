#pragma once
/// Real libmodbus servers for tests: Modbus TCP on 127.0.0.1:<free port>, and
/// Modbus RTU serving several unit ids on one serial line (a socat pty pair).
/// Each runs its own thread; the register tables are set by the test through
/// thread-safe setters, and the servers count the requests they receive and
/// can misbehave on demand (stop answering, answer with an exception, drop
/// connections).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/sources/modbus/modbus_settings.hpp"

typedef struct _modbus modbus_t;
typedef struct _modbus_mapping_t modbus_mapping_t;

namespace plant::test {

/// The four tables of one unit: coils, discrete inputs, input and holding
/// registers, each covering addresses 0..65535. Setters are thread-safe.
class modbus_test_tables {
 public:
  /// All tables zeroed.
  modbus_test_tables();
  ~modbus_test_tables();
  modbus_test_tables(const modbus_test_tables&) = delete;
  modbus_test_tables& operator=(const modbus_test_tables&) = delete;

  /// One coil.
  void set_coil(int address, bool value);
  /// One discrete input.
  void set_discrete(int address, bool value);
  /// One input register.
  void set_input(int address, std::uint16_t value);
  /// One holding register.
  void set_holding(int address, std::uint16_t value);
  /// Writes `words` registers (1, 2 or 4) holding `bits` laid out in `order`
  /// (the layouts of agent/sources/modbus/modbus_decoding.hpp).
  void set_words(sources::modbus_area area, int address, std::uint64_t bits, int words, sources::word_order order);
  /// Typed values in `order`, in the holding registers unless `area` says input.
  void set_int16(int address, std::int16_t value, sources::modbus_area area = sources::modbus_area::holding);
  void set_int32(int address, std::int32_t value, sources::word_order order,
                 sources::modbus_area area = sources::modbus_area::holding);
  void set_uint32(int address, std::uint32_t value, sources::word_order order,
                  sources::modbus_area area = sources::modbus_area::holding);
  void set_int64(int address, std::int64_t value, sources::word_order order,
                 sources::modbus_area area = sources::modbus_area::holding);
  void set_uint64(int address, std::uint64_t value, sources::word_order order,
                  sources::modbus_area area = sources::modbus_area::holding);
  void set_float32(int address, float value, sources::word_order order,
                   sources::modbus_area area = sources::modbus_area::holding);
  void set_float64(int address, double value, sources::word_order order,
                   sources::modbus_area area = sources::modbus_area::holding);
  /// The holding register at `address`.
  std::uint16_t holding(int address) const;

  /// Answers the request `req` of `length` bytes on `ctx` from these tables (modbus_reply).
  int reply(modbus_t* ctx, const std::uint8_t* req, int length);

 private:
  mutable std::mutex mutex_;
  modbus_mapping_t* mapping_;
};

/// A Modbus TCP server on 127.0.0.1 for one unit (it answers any unit id).
class modbus_test_server : public modbus_test_tables {
 public:
  /// Nothing runs until start().
  modbus_test_server();
  /// Stops the thread and closes every socket.
  ~modbus_test_server();

  /// Listens on `port` (0: a free one) and starts serving; fails with the reason.
  testing::AssertionResult start(std::uint16_t port = 0);
  /// Stops serving and closes the listener and all connections.
  void stop();
  /// The listening port.
  std::uint16_t port() const { return port_; }
  /// "tcp://127.0.0.1:PORT", for a [[source.modbus]] address.
  std::string address() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  /// Requests received (answered or not) since start or reset_counts().
  std::uint64_t requests() const;
  /// Requests received with `function_code` (1 coils, 2 discretes, 3 holding, 4 input).
  std::uint64_t requests(int function_code) const;
  /// Zeroes the request counters.
  void reset_counts();
  /// Connections accepted since start.
  std::uint64_t accepted() const { return accepted_.load(); }
  /// Connections open now.
  std::size_t open_connections() const { return open_connections_.load(); }

  /// True: keep the connections open, read every request and answer none (a hung device).
  void set_silent(bool silent) { silent_ = silent; }
  /// Answer reads of `area` touching addresses first..last with exception `code` (e.g. 2).
  void set_exception(sources::modbus_area area, int first, int last, int code);
  /// Answer normally again.
  void clear_exceptions();
  /// Closes every client connection (the listener stays); returns once done.
  void close_connections();

 private:
  struct exception_range {
    int function_code;
    int first;
    int last;
    int code;
  };
  void serve();
  void wake();
  int exception_for(const std::uint8_t* pdu) const;

  modbus_t* ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> silent_{false};
  std::atomic<std::uint64_t> close_requested_{0};
  std::atomic<std::uint64_t> close_done_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::size_t> open_connections_{0};
  mutable std::mutex counts_mutex_;
  std::map<int, std::uint64_t> counts_;
  std::vector<exception_range> exceptions_;
};

/// A Modbus RTU server on one end of a serial line answering for several unit
/// ids, each with its own tables. libmodbus 3.1.6 filters requests by the one
/// slave id of a context (modbus_receive ignores other ids), so this server
/// frames the requests itself (8-byte read requests, CRC checked), picks the
/// unit's tables by the request's first byte, sets that slave id and lets
/// modbus_reply answer. Requests for other ids are ignored, like on a real bus.
class modbus_rtu_test_server {
 public:
  /// Serves `unit_ids`.
  explicit modbus_rtu_test_server(std::vector<int> unit_ids);
  /// Stops serving.
  ~modbus_rtu_test_server();

  /// Opens `device` (9600 8N1) and starts serving; fails with the reason.
  testing::AssertionResult start(const std::string& device);
  /// Stops serving and closes the port.
  void stop();
  /// The tables of `unit_id` (which must be served).
  modbus_test_tables& unit(int unit_id);
  /// Requests received for `unit_id`.
  std::uint64_t requests(int unit_id) const;
  /// Well-formed requests for ids this server does not serve.
  std::uint64_t ignored() const { return ignored_.load(); }

 private:
  void serve();

  std::map<int, std::unique_ptr<modbus_test_tables>> units_;
  modbus_t* ctx_ = nullptr;
  int wake_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> ignored_{0};
  mutable std::mutex counts_mutex_;
  std::map<int, std::uint64_t> counts_;
};

}  // namespace plant::test
