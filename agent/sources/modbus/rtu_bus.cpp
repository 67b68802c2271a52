// Built only with the Modbus source: CMake leaves out modbus_(source|client|probe).cpp
// without AGENT_WITH_MODBUS, and this file needs modbus_client.
#ifdef AGENT_WITH_MODBUS
#include "agent/sources/modbus/rtu_bus.hpp"

#include <map>
#include <stdexcept>

namespace plant::sources {

namespace {

struct bus_registry {
  std::mutex mutex;
  std::map<std::string, std::weak_ptr<rtu_bus>> buses;  // bounded by the configured devices
};

// A function-local static: created on first use, no static-initialiser order issues.
bus_registry& registry() {
  static bus_registry instance;
  return instance;
}

bool same_serial(const modbus_endpoint& a, const modbus_endpoint& b) {
  return a.baud == b.baud && a.parity == b.parity && a.data_bits == b.data_bits && a.stop_bits == b.stop_bits;
}

}  // namespace

rtu_bus::rtu_bus(const modbus_endpoint& endpoint, std::string first_source)
    : client_(endpoint), first_source_(std::move(first_source)) {}

std::shared_ptr<rtu_bus> rtu_bus::acquire(const modbus_endpoint& endpoint, const std::string& source_name) {
  bus_registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto it = r.buses.begin(); it != r.buses.end();) {
    it = it->second.expired() ? r.buses.erase(it) : std::next(it);
  }
  auto found = r.buses.find(endpoint.device);
  if (found != r.buses.end()) {
    std::shared_ptr<rtu_bus> bus = found->second.lock();
    if (!same_serial(bus->client_.endpoint(), endpoint)) {
      throw std::invalid_argument("source '" + source_name + "': " + endpoint.address + " is " +
                                  endpoint.serial_text() + " but source '" + bus->first_source_ +
                                  "' on the same port is " + bus->client_.endpoint().serial_text() +
                                  "; units on one serial port need the same baud, parity, data_bits and stop_bits");
    }
    return bus;
  }
  auto bus = std::make_shared<rtu_bus>(endpoint, source_name);
  r.buses.emplace(endpoint.device, bus);
  return bus;
}

std::size_t rtu_bus::live_buses() {
  bus_registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::size_t live = 0;
  for (const auto& entry : r.buses) live += entry.second.expired() ? 0 : 1;
  return live;
}

}  // namespace plant::sources
#endif  // AGENT_WITH_MODBUS
