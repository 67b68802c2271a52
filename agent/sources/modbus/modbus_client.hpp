#pragma once
/// One libmodbus context: a TCP connection to a device, or an open serial port
/// (RTU) shared by the units on it. Every call blocks for at most the deadline
/// set by prepare() (response and byte timeout), so the callers run on worker
/// threads. Not thread-safe: one user at a time (rtu_bus serialises a port).
#include <chrono>
#include <cstdint>
#include <string>

#include "agent/sources/modbus/modbus_settings.hpp"

// libmodbus's context type, declared as modbus.h declares it, so that only
// modbus_client.cpp needs libmodbus's headers.
typedef struct _modbus modbus_t;

namespace plant::sources {

/// Where a device is, from the source's `address` and serial keys.
struct modbus_endpoint {
  bool rtu = false;
  std::string address;  ///< as configured: "tcp://10.0.0.5:502" or "rtu:///dev/ttyUSB0"
  std::string host;     ///< tcp: "10.0.0.5" (IPv6 without brackets)
  std::string port;     ///< tcp: "502"
  std::string device;   ///< rtu: "/dev/ttyUSB0"
  int baud = 9600;
  char parity = 'N';
  int data_bits = 8;
  int stop_bits = 1;

  /// Serial settings as "9600 8N1".
  std::string serial_text() const;
};

/// Parses cfg.address (already validated by the config schema). Returns an
/// error text ("address 'x' must start with tcp:// or rtu://"), empty when fine.
std::string parse_endpoint(const sources::modbus_settings& cfg, modbus_endpoint& out);

/// Name of a Modbus exception code: 2 -> "illegal data address"; "exception 12" when unknown.
std::string exception_name(int code);

/// How one read ended.
struct read_status {
  /// ok; exception: the device answered with an exception; link_error: no usable answer.
  enum class kind_t { ok, exception, link_error };
  /// How the read ended.
  kind_t kind = kind_t::ok;
  /// The device's exception code (1..11) when kind == exception.
  int exception_code = 0;
  /// Why it failed: "illegal data address (Modbus exception 2)", "Connection timed out".
  std::string reason;
  /// True when the failure leaves the link unusable, so it must be closed and reopened.
  bool must_close = false;

  /// True when the registers (bits) were read.
  bool ok() const { return kind == kind_t::ok; }
};

class modbus_client {
 public:
  /// Opens nothing yet; connect() does.
  explicit modbus_client(modbus_endpoint endpoint);
  /// Closes the connection.
  ~modbus_client();
  modbus_client(const modbus_client&) = delete;
  modbus_client& operator=(const modbus_client&) = delete;

  /// True while a connection (an open port) exists.
  bool connected() const { return ctx_ != nullptr; }
  /// Opens the connection; `timeout` also bounds the TCP connect. On failure
  /// returns false with `reason` set ("Connection refused").
  bool connect(std::chrono::milliseconds timeout, std::string& reason);
  /// Closes the connection; the next connect() opens a new one.
  void close();
  /// Discards bytes not read yet (a late answer after a timeout on a serial line).
  void flush();
  /// Sets the unit the next reads address and the deadline of each read. False
  /// with `reason` when libmodbus refuses the unit id.
  bool prepare(int unit_id, std::chrono::milliseconds timeout, std::string& reason);
  /// Reads `count` input or holding registers starting at `start` into `out`.
  read_status read_registers(sources::modbus_area area, int start, int count, std::uint16_t* out);
  /// Reads `count` coils or discrete inputs starting at `start` into `out` (one byte per bit, 0 or 1).
  read_status read_bits(sources::modbus_area area, int start, int count, std::uint8_t* out);
  /// The endpoint this client talks to.
  const modbus_endpoint& endpoint() const { return endpoint_; }

 private:
  read_status failure() const;

  modbus_endpoint endpoint_;
  modbus_t* ctx_ = nullptr;
};

}  // namespace plant::sources
