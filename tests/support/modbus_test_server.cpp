// Built only with the Modbus source (AGENT_WITH_MODBUS): it needs libmodbus.
#ifdef AGENT_WITH_MODBUS
#include "tests/support/modbus_test_server.hpp"

#include <fcntl.h>
#include <modbus/modbus.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tests/support/tcp_port.hpp"
#include "tests/support/wait_until.hpp"

namespace plant::test {

namespace {

constexpr int table_size = 65536;
constexpr int tcp_header = 7;  // MBAP header; the PDU follows

int function_code_of(sources::modbus_area area) {
  switch (area) {
    case sources::modbus_area::coil: return MODBUS_FC_READ_COILS;
    case sources::modbus_area::discrete: return MODBUS_FC_READ_DISCRETE_INPUTS;
    case sources::modbus_area::holding: return MODBUS_FC_READ_HOLDING_REGISTERS;
    case sources::modbus_area::input: return MODBUS_FC_READ_INPUT_REGISTERS;
  }
  return MODBUS_FC_READ_HOLDING_REGISTERS;
}

// Written apart from the agent's decoder (and the other way round: it builds the
// register list and then reorders it) so the two cannot share a mistake.
std::vector<std::uint16_t> layout(std::uint64_t bits, int words, sources::word_order order) {
  std::vector<std::uint16_t> out;
  for (int i = words - 1; i >= 0; --i) out.push_back(static_cast<std::uint16_t>(bits >> (16 * i)));
  if (words > 1 && (order == sources::word_order::cdab || order == sources::word_order::dcba)) {
    std::reverse(out.begin(), out.end());
  }
  if (words > 1 && (order == sources::word_order::badc || order == sources::word_order::dcba)) {
    for (auto& w : out) w = static_cast<std::uint16_t>(((w & 0xFF) << 8) | (w >> 8));
  }
  return out;
}

std::uint16_t crc16(const std::uint8_t* data, std::size_t length) {
  std::uint16_t crc = 0xFFFF;
  for (std::size_t i = 0; i < length; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}

bool make_pipe(int fds[2]) { return ::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0; }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void drain(int fd) {
  char buffer[64];
  while (::read(fd, buffer, sizeof buffer) > 0) {
  }
}

}  // namespace

// ---- tables -------------------------------------------------------------------

modbus_test_tables::modbus_test_tables()
    : mapping_(modbus_mapping_new(table_size, table_size, table_size, table_size)) {}

modbus_test_tables::~modbus_test_tables() { modbus_mapping_free(mapping_); }

void modbus_test_tables::set_coil(int address, bool value) {
  std::lock_guard<std::mutex> lock(mutex_);
  mapping_->tab_bits[address] = value ? 1 : 0;
}

void modbus_test_tables::set_discrete(int address, bool value) {
  std::lock_guard<std::mutex> lock(mutex_);
  mapping_->tab_input_bits[address] = value ? 1 : 0;
}

void modbus_test_tables::set_input(int address, std::uint16_t value) {
  std::lock_guard<std::mutex> lock(mutex_);
  mapping_->tab_input_registers[address] = value;
}

void modbus_test_tables::set_holding(int address, std::uint16_t value) {
  std::lock_guard<std::mutex> lock(mutex_);
  mapping_->tab_registers[address] = value;
}

std::uint16_t modbus_test_tables::holding(int address) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return mapping_->tab_registers[address];
}

void modbus_test_tables::set_words(sources::modbus_area area, int address, std::uint64_t bits, int words,
                                   sources::word_order order) {
  const auto registers = layout(bits, words, order);
  std::lock_guard<std::mutex> lock(mutex_);
  std::uint16_t* table =
      area == sources::modbus_area::input ? mapping_->tab_input_registers : mapping_->tab_registers;
  for (std::size_t i = 0; i < registers.size(); ++i) table[address + static_cast<int>(i)] = registers[i];
}

void modbus_test_tables::set_int16(int address, std::int16_t value, sources::modbus_area area) {
  set_words(area, address, static_cast<std::uint16_t>(value), 1, sources::word_order::abcd);
}

void modbus_test_tables::set_int32(int address, std::int32_t value, sources::word_order order,
                                   sources::modbus_area area) {
  set_words(area, address, static_cast<std::uint32_t>(value), 2, order);
}

void modbus_test_tables::set_uint32(int address, std::uint32_t value, sources::word_order order,
                                    sources::modbus_area area) {
  set_words(area, address, value, 2, order);
}

void modbus_test_tables::set_int64(int address, std::int64_t value, sources::word_order order,
                                   sources::modbus_area area) {
  set_words(area, address, static_cast<std::uint64_t>(value), 4, order);
}

void modbus_test_tables::set_uint64(int address, std::uint64_t value, sources::word_order order,
                                    sources::modbus_area area) {
  set_words(area, address, value, 4, order);
}

void modbus_test_tables::set_float32(int address, float value, sources::word_order order,
                                     sources::modbus_area area) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  set_words(area, address, bits, 2, order);
}

void modbus_test_tables::set_float64(int address, double value, sources::word_order order,
                                     sources::modbus_area area) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  set_words(area, address, bits, 4, order);
}

int modbus_test_tables::reply(modbus_t* ctx, const std::uint8_t* req, int length) {
  std::lock_guard<std::mutex> lock(mutex_);
  return modbus_reply(ctx, req, length, mapping_);
}

// ---- TCP ----------------------------------------------------------------------

modbus_test_server::modbus_test_server() = default;

modbus_test_server::~modbus_test_server() { stop(); }

testing::AssertionResult modbus_test_server::start(std::uint16_t port) {
  if (!make_pipe(wake_pipe_)) return testing::AssertionFailure() << "modbus_test_server: pipe: " << std::strerror(errno);
  std::string last_error;
  // A free port can be taken between the probe and the bind: try a few.
  for (int attempt = 0; attempt < (port != 0 ? 1 : 5) && listen_fd_ < 0; ++attempt) {
    port_ = port != 0 ? port : free_tcp_port();
    ctx_ = modbus_new_tcp("127.0.0.1", port_);
    if (ctx_ == nullptr) return testing::AssertionFailure() << "modbus_new_tcp: " << modbus_strerror(errno);
    listen_fd_ = modbus_tcp_listen(ctx_, 16);
    if (listen_fd_ < 0) {
      last_error = modbus_strerror(errno);
      modbus_free(ctx_);
      ctx_ = nullptr;
    }
  }
  if (listen_fd_ < 0) {
    return testing::AssertionFailure() << "modbus_test_server: cannot listen on 127.0.0.1:" << port_ << ": "
                                       << last_error;
  }
  stopping_ = false;
  thread_ = std::thread([this] { serve(); });
  return testing::AssertionSuccess();
}

void modbus_test_server::wake() {
  if (wake_pipe_[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] auto ignored = ::write(wake_pipe_[1], &byte, 1);
  }
}

void modbus_test_server::stop() {
  if (thread_.joinable()) {
    stopping_ = true;
    wake();
    thread_.join();
  }
  close_fd(listen_fd_);
  if (ctx_ != nullptr) {
    modbus_free(ctx_);
    ctx_ = nullptr;
  }
  close_fd(wake_pipe_[0]);
  close_fd(wake_pipe_[1]);
}

std::uint64_t modbus_test_server::requests() const {
  std::lock_guard<std::mutex> lock(counts_mutex_);
  std::uint64_t total = 0;
  for (const auto& entry : counts_) total += entry.second;
  return total;
}

std::uint64_t modbus_test_server::requests(int function_code) const {
  std::lock_guard<std::mutex> lock(counts_mutex_);
  auto found = counts_.find(function_code);
  return found == counts_.end() ? 0 : found->second;
}

void modbus_test_server::reset_counts() {
  std::lock_guard<std::mutex> lock(counts_mutex_);
  counts_.clear();
}

void modbus_test_server::set_exception(sources::modbus_area area, int first, int last, int code) {
  std::lock_guard<std::mutex> lock(counts_mutex_);
  exceptions_.push_back({function_code_of(area), first, last, code});
}

void modbus_test_server::clear_exceptions() {
  std::lock_guard<std::mutex> lock(counts_mutex_);
  exceptions_.clear();
}

void modbus_test_server::close_connections() {
  const std::uint64_t target = ++close_requested_;
  wake();
  wait_until([&] { return close_done_.load() >= target || !thread_.joinable(); }, std::chrono::seconds(5),
             std::chrono::milliseconds(1));
}

int modbus_test_server::exception_for(const std::uint8_t* pdu) const {
  const int function = pdu[0];
  const int start = (pdu[1] << 8) | pdu[2];
  const int count = (pdu[3] << 8) | pdu[4];
  std::lock_guard<std::mutex> lock(counts_mutex_);
  for (const auto& range : exceptions_) {
    if (range.function_code == function && start <= range.last && start + count - 1 >= range.first) return range.code;
  }
  return 0;
}

void modbus_test_server::serve() {
  std::vector<int> clients;
  std::uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
  auto close_all = [&] {
    for (int fd : clients) ::close(fd);
    clients.clear();
    open_connections_ = 0;
  };
  while (!stopping_) {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(listen_fd_, &readable);
    FD_SET(wake_pipe_[0], &readable);
    int highest = std::max(listen_fd_, wake_pipe_[0]);
    for (int fd : clients) {
      FD_SET(fd, &readable);
      highest = std::max(highest, fd);
    }
    if (::select(highest + 1, &readable, nullptr, nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (FD_ISSET(wake_pipe_[0], &readable)) drain(wake_pipe_[0]);
    if (close_done_.load() != close_requested_.load()) {
      close_all();
      close_done_ = close_requested_.load();
      continue;
    }
    if (stopping_) break;
    if (FD_ISSET(listen_fd_, &readable)) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        clients.push_back(fd);
        ++accepted_;
        open_connections_ = clients.size();
      }
    }
    for (auto it = clients.begin(); it != clients.end();) {
      const int fd = *it;
      if (!FD_ISSET(fd, &readable)) {
        ++it;
        continue;
      }
      modbus_set_socket(ctx_, fd);
      const int length = modbus_receive(ctx_, query);
      if (length < 0) {
        // The client went away (or sent garbage): drop the connection.
        ::close(fd);
        it = clients.erase(it);
        open_connections_ = clients.size();
        continue;
      }
      ++it;
      if (length == 0) continue;
      {
        std::lock_guard<std::mutex> lock(counts_mutex_);
        ++counts_[query[tcp_header]];
      }
      if (silent_) continue;
      if (const int code = exception_for(query + tcp_header)) {
        modbus_reply_exception(ctx_, query, static_cast<unsigned>(code));
      } else {
        reply(ctx_, query, length);
      }
    }
  }
  close_all();
  modbus_set_socket(ctx_, -1);
}

// ---- RTU ----------------------------------------------------------------------

modbus_rtu_test_server::modbus_rtu_test_server(std::vector<int> unit_ids) {
  for (int id : unit_ids) units_.emplace(id, std::make_unique<modbus_test_tables>());
}

modbus_rtu_test_server::~modbus_rtu_test_server() { stop(); }

testing::AssertionResult modbus_rtu_test_server::start(const std::string& device) {
  if (!make_pipe(wake_pipe_)) return testing::AssertionFailure() << "pipe: " << std::strerror(errno);
  ctx_ = modbus_new_rtu(device.c_str(), 9600, 'N', 8, 1);
  if (ctx_ == nullptr) return testing::AssertionFailure() << "modbus_new_rtu: " << modbus_strerror(errno);
  if (modbus_connect(ctx_) == -1) {
    const std::string why = modbus_strerror(errno);
    modbus_free(ctx_);
    ctx_ = nullptr;
    return testing::AssertionFailure() << "modbus_rtu_test_server: cannot open " << device << ": " << why;
  }
  stopping_ = false;
  thread_ = std::thread([this] { serve(); });
  return testing::AssertionSuccess();
}

void modbus_rtu_test_server::stop() {
  if (thread_.joinable()) {
    stopping_ = true;
    const char byte = 1;
    [[maybe_unused]] auto ignored = ::write(wake_pipe_[1], &byte, 1);
    thread_.join();
  }
  if (ctx_ != nullptr) {
    modbus_close(ctx_);
    modbus_free(ctx_);
    ctx_ = nullptr;
  }
  close_fd(wake_pipe_[0]);
  close_fd(wake_pipe_[1]);
}

modbus_test_tables& modbus_rtu_test_server::unit(int unit_id) { return *units_.at(unit_id); }

std::uint64_t modbus_rtu_test_server::requests(int unit_id) const {
  std::lock_guard<std::mutex> lock(counts_mutex_);
  auto found = counts_.find(unit_id);
  return found == counts_.end() ? 0 : found->second;
}

void modbus_rtu_test_server::serve() {
  const int fd = modbus_get_socket(ctx_);
  std::vector<std::uint8_t> pending;
  constexpr std::size_t read_request_length = 8;  // id, function, address(2), count(2), crc(2)
  while (!stopping_) {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    FD_SET(wake_pipe_[0], &readable);
    if (::select(std::max(fd, wake_pipe_[0]) + 1, &readable, nullptr, nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (stopping_) break;
    if (!FD_ISSET(fd, &readable)) continue;
    std::uint8_t buffer[256];
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got <= 0) continue;
    pending.insert(pending.end(), buffer, buffer + got);
    while (pending.size() >= read_request_length) {
      const std::uint8_t* frame = pending.data();
      const int function = frame[1];
      const std::uint16_t crc = crc16(frame, read_request_length - 2);
      const bool framed = function >= MODBUS_FC_READ_COILS && function <= MODBUS_FC_READ_INPUT_REGISTERS &&
                          frame[6] == (crc & 0xFF) && frame[7] == (crc >> 8);
      if (!framed) {
        // Not a read request we understand: resynchronise on the next burst.
        pending.clear();
        break;
      }
      const int unit_id = frame[0];
      auto served = units_.find(unit_id);
      if (served == units_.end()) {
        ++ignored_;
      } else {
        {
          std::lock_guard<std::mutex> lock(counts_mutex_);
          ++counts_[unit_id];
        }
        modbus_set_slave(ctx_, unit_id);
        served->second->reply(ctx_, frame, static_cast<int>(read_request_length));
      }
      pending.erase(pending.begin(), pending.begin() + read_request_length);
    }
  }
}

}  // namespace plant::test
#endif  // AGENT_WITH_MODBUS
