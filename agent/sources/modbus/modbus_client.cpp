#include "agent/sources/modbus/modbus_client.hpp"

#include <modbus/modbus.h>

#include <algorithm>
#include <cerrno>

namespace plant::sources {

std::string modbus_endpoint::serial_text() const {
  return std::to_string(baud) + " " + std::to_string(data_bits) + parity + std::to_string(stop_bits);
}

std::string parse_endpoint(const sources::modbus_settings& cfg, modbus_endpoint& out) {
  const std::string& address = cfg.address;
  out = modbus_endpoint{};
  out.address = address;
  if (address.rfind("rtu://", 0) == 0) {
    out.rtu = true;
    out.device = address.substr(6);
    out.baud = cfg.baud;
    out.parity = cfg.parity;
    out.data_bits = cfg.data_bits;
    out.stop_bits = cfg.stop_bits;
    if (out.device.empty() || out.device.front() != '/')
      return "address '" + address + "' needs a device path after rtu://, e.g. rtu:///dev/ttyUSB0";
    return "";
  }
  if (address.rfind("tcp://", 0) != 0) return "address '" + address + "' must start with tcp:// or rtu://";
  std::string rest = address.substr(6);
  std::string port = "502";
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return "address '" + address + "' has an unclosed '['";
    out.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    out.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (out.host.empty()) return "address '" + address + "' has no host";
  if (port.empty()) return "address '" + address + "' has an empty port";
  out.port = port;
  return "";
}

std::string exception_name(int code) {
  switch (code) {
    case MODBUS_EXCEPTION_ILLEGAL_FUNCTION: return "illegal function";
    case MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS: return "illegal data address";
    case MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE: return "illegal data value";
    case MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE: return "server device failure";
    case MODBUS_EXCEPTION_ACKNOWLEDGE: return "acknowledge";
    case MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY: return "server device busy";
    case MODBUS_EXCEPTION_NEGATIVE_ACKNOWLEDGE: return "negative acknowledge";
    case MODBUS_EXCEPTION_MEMORY_PARITY: return "memory parity error";
    case MODBUS_EXCEPTION_GATEWAY_PATH: return "gateway path unavailable";
    case MODBUS_EXCEPTION_GATEWAY_TARGET: return "gateway target failed to respond";
    default: return "exception " + std::to_string(code);
  }
}

modbus_client::modbus_client(modbus_endpoint endpoint) : endpoint_(std::move(endpoint)) {}

modbus_client::~modbus_client() { close(); }

namespace {

void set_deadlines(modbus_t* ctx, std::chrono::milliseconds timeout) {
  const auto ms = std::max<std::int64_t>(1, timeout.count());
  const auto sec = static_cast<std::uint32_t>(ms / 1000);
  const auto usec = static_cast<std::uint32_t>((ms % 1000) * 1000);
  modbus_set_response_timeout(ctx, sec, usec);
  // The byte timeout bounds each wait for the rest of an answer too, so a device
  // that trickles bytes cannot hold a read past the deadline indefinitely.
  modbus_set_byte_timeout(ctx, sec, usec);
}

}  // namespace

bool modbus_client::connect(std::chrono::milliseconds timeout, std::string& reason) {
  close();
  if (endpoint_.rtu) {
    ctx_ = modbus_new_rtu(endpoint_.device.c_str(), endpoint_.baud, endpoint_.parity, endpoint_.data_bits,
                          endpoint_.stop_bits);
  } else {
    ctx_ = modbus_new_tcp_pi(endpoint_.host.c_str(), endpoint_.port.c_str());
  }
  if (ctx_ == nullptr) {
    reason = modbus_strerror(errno);
    return false;
  }
  // libmodbus bounds the TCP connect by the response timeout, so set it first.
  set_deadlines(ctx_, timeout);
  if (modbus_connect(ctx_) == -1) {
    reason = modbus_strerror(errno);
    modbus_free(ctx_);
    ctx_ = nullptr;
    return false;
  }
  return true;
}

void modbus_client::close() {
  if (ctx_ == nullptr) return;
  modbus_close(ctx_);
  modbus_free(ctx_);
  ctx_ = nullptr;
}

void modbus_client::flush() {
  if (ctx_ != nullptr) modbus_flush(ctx_);
}

bool modbus_client::prepare(int unit_id, std::chrono::milliseconds timeout, std::string& reason) {
  if (ctx_ == nullptr) {
    reason = "not connected";
    return false;
  }
  set_deadlines(ctx_, timeout);
  if (modbus_set_slave(ctx_, unit_id) == -1) {
    reason = "unit id " + std::to_string(unit_id) + " is refused by libmodbus: " + modbus_strerror(errno);
    return false;
  }
  return true;
}

read_status modbus_client::failure() const {
  const int error = errno;
  read_status status;
  if (error > MODBUS_ENOBASE && error <= EMBXGTAR) {
    status.kind = read_status::kind_t::exception;
    status.exception_code = error - MODBUS_ENOBASE;
    status.reason = exception_name(status.exception_code) + " (Modbus exception " +
                    std::to_string(status.exception_code) + ")";
    return status;
  }
  status.kind = read_status::kind_t::link_error;
  status.reason = modbus_strerror(error);
  // On TCP any other failure may leave a late answer in the stream, which would
  // be taken for the next request's; a fresh connection is the safe state. A
  // serial port stays open for a timeout or a garbled frame (the other units on
  // the bus are fine) and is only flushed; OS errors on the port close it.
  if (!endpoint_.rtu) {
    status.must_close = true;
  } else {
    switch (error) {
      case ETIMEDOUT:
      case EMBBADCRC:
      case EMBBADDATA:
      case EMBBADEXC:
      case EMBUNKEXC:
      case EMBMDATA:
      case EMBBADSLAVE:
        status.must_close = false;
        break;
      default:
        status.must_close = true;
    }
  }
  return status;
}

read_status modbus_client::read_registers(sources::modbus_area area, int start, int count, std::uint16_t* out) {
  if (ctx_ == nullptr) return {read_status::kind_t::link_error, 0, "not connected", true};
  const int rc = area == sources::modbus_area::input ? modbus_read_input_registers(ctx_, start, count, out)
                                                     : modbus_read_registers(ctx_, start, count, out);
  if (rc == -1) return failure();
  if (rc != count) return {read_status::kind_t::link_error, 0, "short answer: " + std::to_string(rc) + " of " +
                               std::to_string(count) + " registers", true};
  return {};
}

read_status modbus_client::read_bits(sources::modbus_area area, int start, int count, std::uint8_t* out) {
  if (ctx_ == nullptr) return {read_status::kind_t::link_error, 0, "not connected", true};
  const int rc = area == sources::modbus_area::discrete ? modbus_read_input_bits(ctx_, start, count, out)
                                                        : modbus_read_bits(ctx_, start, count, out);
  if (rc == -1) return failure();
  if (rc != count) return {read_status::kind_t::link_error, 0, "short answer: " + std::to_string(rc) + " of " +
                               std::to_string(count) + " bits", true};
  return {};
}

}  // namespace plant::sources
