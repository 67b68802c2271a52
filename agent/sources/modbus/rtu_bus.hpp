#pragma once
/// One serial line (RS-485) shared by every [[source.modbus]] whose address
/// names the same rtu:// device: the port is opened once, and the sources take
/// turns on it (a serial bus carries one request at a time). Each source polls
/// on its own worker thread, locks the bus for its poll and addresses its own
/// unit id under the lock.
///
/// The registry is process-wide and keyed by device path; it holds weak
/// references, so a port closes when the last source using it is destroyed.
#include <memory>
#include <mutex>
#include <string>

#include "agent/sources/modbus/modbus_client.hpp"

namespace plant::sources {

class rtu_bus {
 public:
  /// The bus for `endpoint.device`, made on first use. Throws std::invalid_argument
  /// when the device is already in use by another source with different serial
  /// settings (a start-up error: one port has one baud rate and framing).
  static std::shared_ptr<rtu_bus> acquire(const modbus_endpoint& endpoint, const std::string& source_name);
  /// Buses currently open or in use in this process (for tests).
  static std::size_t live_buses();

  /// Construct through acquire().
  rtu_bus(const modbus_endpoint& endpoint, std::string first_source);

  /// Held for a whole poll of one unit.
  std::mutex& mutex() { return mutex_; }
  /// The port; use only while holding mutex().
  modbus_client& client() { return client_; }
  /// The device path.
  const std::string& device() const { return client_.endpoint().device; }

 private:
  std::mutex mutex_;
  modbus_client client_;
  std::string first_source_;
};

}  // namespace plant::sources
