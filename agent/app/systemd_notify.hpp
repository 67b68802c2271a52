#pragma once
/// sd_notify(3) for Type=notify units; every call is a no-op outside systemd
/// or when built without AGENT_WITH_SYSTEMD.
#include <chrono>
#include <string>

namespace plant::app::systemd {

/// READY=1: config loaded, spool recovered, sources started.
void ready(const std::string& status);
/// RELOADING=1 while a SIGHUP reload runs; ready() ends it.
void reloading();
/// STOPPING=1 at the start of shutdown.
void stopping();
/// WATCHDOG=1, sent from the event loop itself so a stuck loop gets restarted.
void watchdog();
/// STATUS=... shown by systemctl status.
void status(const std::string& text);
/// The watchdog period systemd expects (WatchdogSec), or zero when off.
std::chrono::microseconds watchdog_interval();

}  // namespace plant::app::systemd
