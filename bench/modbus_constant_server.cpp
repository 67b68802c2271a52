// A Modbus TCP server for benchmarks: serves holding registers 0..N-1 (and
// input registers the same) holding constant values, one client at a time,
// until killed. Lets scripts compare the agent with other collectors on the
// same device without a Python Modbus stack.
//   modbus_constant_server PORT [REGISTERS]
#include <modbus/modbus.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: modbus_constant_server PORT [REGISTERS]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int registers = argc > 2 ? std::atoi(argv[2]) : 100;
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  modbus_mapping_t* mapping = modbus_mapping_new(0, 0, registers, registers);
  if (ctx == nullptr || mapping == nullptr) {
    std::fprintf(stderr, "modbus_constant_server: cannot allocate\n");
    return 1;
  }
  // Register i holds 1000 + i: constant, and different per point.
  for (int i = 0; i < registers; ++i) {
    mapping->tab_registers[i] = static_cast<std::uint16_t>(1000 + i);
    mapping->tab_input_registers[i] = static_cast<std::uint16_t>(1000 + i);
  }
  const int listener = modbus_tcp_listen(ctx, 4);
  if (listener < 0) {
    std::fprintf(stderr, "modbus_constant_server: listen on 127.0.0.1:%d: %s\n", port, modbus_strerror(errno));
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d with %d registers\n", port, registers);
  std::fflush(stdout);
  for (;;) {
    int accepting = listener;
    if (modbus_tcp_accept(ctx, &accepting) < 0) continue;
    std::uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
      const int length = modbus_receive(ctx, query);
      if (length > 0) {
        modbus_reply(ctx, query, length, mapping);
      } else if (length < 0) {
        break;  // the client went away: wait for the next one
      }
    }
    modbus_close(ctx);
  }
}
