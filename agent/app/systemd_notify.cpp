#include "agent/app/systemd_notify.hpp"

#ifdef AGENT_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <cstdint>

namespace plant::app::systemd {

#ifdef AGENT_WITH_SYSTEMD
void ready(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + status).c_str()); }
void reloading() { sd_notify(0, "RELOADING=1"); }
void stopping() { sd_notify(0, "STOPPING=1"); }
void watchdog() { sd_notify(0, "WATCHDOG=1"); }
void status(const std::string& text) { sd_notify(0, ("STATUS=" + text).c_str()); }
std::chrono::microseconds watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
  return std::chrono::microseconds(0);
}
#else
void ready(const std::string&) {}
void reloading() {}
void stopping() {}
void watchdog() {}
void status(const std::string&) {}
std::chrono::microseconds watchdog_interval() { return std::chrono::microseconds(0); }
#endif

}  // namespace plant::app::systemd
