#!/usr/bin/env python3
"""What the agent's spool costs the disk, config/demo.toml, side by side in one run.

Three runs of the real agent against a private Mosquitto, each SECONDS long
after a 5 s warm-up:
  connected, sync_interval = "1s" (the default): the broker acknowledges in
    milliseconds, so no record's fdatasync falls due, and segments rotate by
    age and are deleted before the kernel's writeback;
  connected, sync_interval = "50ms" (the default before): the broker's PUBACK
    for a large message often takes longer than the window, so records are
    synced;
  broker away for the window (default sync_interval): everything must survive,
    so records are synced once per window.

Bytes that reached the disk: /proc/PID/io write_bytes (pages the agent
dirtied) minus cancelled_write_bytes (dirty pages deleted before writeback),
corrected for the pages of segment files still live at each edge of the
window (those are deleted unwritten later, or were dirtied before it). The
fdatasync and fsync calls are the agent's own count
(plant_agent_spool_syncs_total on /metrics). Also printed: the telemetry
messages the broker handed a subscriber in the window.

Usage: disk_bench.py AGENT_BIN SECONDS
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from loopback import free_port, proc_io, start_broker, stop, wait_port, write_broker_config

PAGE = 4096
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))






def live_segment_pages(spool_dir):
    total = 0
    for path in glob.glob(os.path.join(spool_dir, "seg-*.spool")):
        try:
            total += (os.path.getsize(path) + PAGE - 1) // PAGE * PAGE
        except FileNotFoundError:
            pass
    return total


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise RuntimeError(f"{name} missing from /metrics")






def run_one(agent_bin, seconds, sync_interval, broker_away, work):
    broker_port, health_port = free_port(), free_port()
    state = os.path.join(work, "state")
    for d in ("wms", "orders"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    procs = []
    try:
        conf = os.path.join(work, "mosquitto.conf")
        write_broker_config(conf, broker_port)
        broker = start_broker(conf, broker_port)
        procs.append(broker)
        sizes_path = os.path.join(work, "sizes")
        sizes = open(sizes_path, "w")
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", "plant/v1/#", "-q", "1",
                                "-F", "%U %t %l"], stdout=sizes, stderr=subprocess.DEVNULL)
        procs.append(sub)
        time.sleep(0.3)
        cmd = [agent_bin, "--config", os.path.join(ROOT, "config/demo.toml"),
               "--set", f"mqtt.url=tcp://127.0.0.1:{broker_port}", "--set", f"agent.state_dir={state}",
               "--set", f"source.csv.0.directory={work}/wms", "--set", f"source.csv.1.directory={work}/orders",
               "--set", f"health.listen=127.0.0.1:{health_port}", "--set", f"spool.sync_interval={sync_interval}"]
        agent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "agent.log"), "w"))
        procs.append(agent)
        wait_port(health_port)
        time.sleep(5)
        if broker_away:
            stop(broker)
            time.sleep(0.5)
        spool_dir = os.path.join(state, "spool")
        io0, live0, syncs0 = proc_io(agent.pid), live_segment_pages(spool_dir), metric(health_port, "plant_agent_spool_syncs_total")
        start = time.time()
        time.sleep(seconds)
        io1, live1, syncs1 = proc_io(agent.pid), live_segment_pages(spool_dir), metric(health_port, "plant_agent_spool_syncs_total")
        end = time.time()
        stop(sub)
        sizes.close()
        messages = payload = 0
        with open(sizes_path) as f:
            for line in f:
                stamp, _, rest = line.rstrip("\n").partition(" ")
                topic, _, length = rest.rpartition(" ")
                if start <= float(stamp) < end and topic.endswith("/telemetry"):
                    messages += 1
                    payload += int(length or 0)
        written = io1["write_bytes"] - io0["write_bytes"]
        cancelled = io1["cancelled_write_bytes"] - io0["cancelled_write_bytes"]
        reached = written - cancelled + live0 - live1
        return {"written": written, "cancelled": cancelled, "reached": max(reached, 0),
                "syncs": int(syncs1 - syncs0), "messages": messages, "payload": payload}
    finally:
        for p in reversed(procs):
            stop(p)


def main():
    agent_bin = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    print(f"disk: plant-agent on config/demo.toml, {seconds} s per run after a 5 s warm-up, private Mosquitto, loopback")
    print(f"{'run':<34} {'dirtied B':>10} {'deleted unwritten B':>20} {'reached disk B':>15} {'syncs':>6} "
          f"{'telemetry msgs':>15} {'payload B':>10}")
    results = {}
    for name, interval, away in (("connected, sync_interval 1s", "1s", False),
                                 ("connected, sync_interval 50ms", "50ms", False),
                                 ("broker away, sync_interval 1s", "1s", True)):
        work = tempfile.mkdtemp(prefix="plant-disk-", dir=os.environ.get("DISK_BENCH_DIR"))
        try:
            results[name] = r = run_one(agent_bin, seconds, interval, away, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"{name:<34} {r['written']:>10} {r['cancelled']:>20} {r['reached']:>15} {r['syncs']:>6} "
              f"{r['messages']:>15} {r['payload']:>10}")
    now, before = results["connected, sync_interval 1s"], results["connected, sync_interval 50ms"]
    per_min = 60.0 / seconds
    print(f"goal: connected, default: {now['reached'] * per_min / 1024:.1f} KiB per minute reached disk "
          f"(goal <= 64 KiB), {now['syncs'] * per_min:.1f} syncs per minute (goal <= 1)")
    if now["reached"]:
        print(f"ratio: 50ms / 1s bytes reached disk {before['reached'] / now['reached']:.1f}x")


if __name__ == "__main__":
    main()
