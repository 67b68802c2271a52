#!/usr/bin/env python3
"""Gateway footprint, side by side in one run: plant-agent and collectd 5.12
(Debian collectd-core, modbus + mqtt plugins) reading the same Modbus TCP
server (bench/modbus_constant_server) every second and publishing to the same
private Mosquitto, for SECONDS each, at 2, 100 and 1,000 registers, and at 2
registers with the broker away for 20 s in the middle of the window.

Printed per collector: peak RSS (VmHWM), CPU seconds, context switches of all
its threads (/proc/PID/task/*/status), bytes it made the kernel write to disk
(/proc/PID/io write_bytes minus cancelled_write_bytes: dirty pages deleted
before writeback never reach it), fdatasync+fsync calls (the agent's
plant_agent_spool_syncs_total; collectd keeps no file), MQTT messages and
payload bytes the broker handed a subscriber, samples delivered (values read
in the window that reached the subscriber by the end of a 10 s drain), and
threads. Counting starts 3 s after start, once both are connected; peak RSS is
over the whole run. Context switches and CPU are also given per hour. Last,
the agent alone on 1,000 simulated tags (peak RSS, CPU, context switches).

Usage: footprint_bench.py AGENT_BIN WATCH_BIN MODBUS_SERVER_BIN [SECONDS]
"""
import datetime
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from loopback import free_port, proc_io, start_broker, stop, wait_port, write_broker_config






def context_switches(pid):
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended between glob and open
    return total


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def write_bytes(pid):
    """Bytes the process made reach the disk: dirtied minus deleted before writeback."""
    io = proc_io(pid)
    return io.get("write_bytes", 0) - io.get("cancelled_write_bytes", 0)


def agent_syncs(health_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("plant_agent_spool_syncs_total "):
                return int(float(line.split()[1]))
    return 0


def epoch_of(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agent_sections(work, broker_port, health_port):
    return (f'[agent]\nid = "gw"\nsite = "bench"\nstate_dir = "{work}/agent-state"\n'
            f'[mqtt]\nurl = "tcp://127.0.0.1:{broker_port}"\n'
            f'[health]\nlisten = "127.0.0.1:{health_port}"\n')


def agent_config(work, broker_port, modbus_port, registers, health_port):
    stocks = "".join(
        f'[[source.modbus.stock]]\nmaterial = "r{i}"\nquantity = {{ area = "holding", address = {i} }}\n'
        for i in range(registers))
    return (agent_sections(work, broker_port, health_port) +
            f'[[source.modbus]]\nname = "plc"\naddress = "tcp://127.0.0.1:{modbus_port}"\ninterval = "1s"\n{stocks}')


def collectd_config(work, broker_port, modbus_port, registers):
    data = "".join(
        f'  <Data "r{i}">\n    RegisterBase {i}\n    RegisterType Uint16\n    RegisterCmd ReadHolding\n'
        f'    Type gauge\n    Instance "r{i}"\n  </Data>\n' for i in range(registers))
    collect = "".join(f'      Collect "r{i}"\n' for i in range(registers))
    return (f'Hostname "gw"\nFQDNLookup false\nInterval 1\nBaseDir "{work}/collectd"\n'
            f'PIDFile "{work}/collectd/collectd.pid"\nTypesDB "/usr/share/collectd/types.db"\n'
            'LoadPlugin modbus\nLoadPlugin mqtt\n'
            f'<Plugin modbus>\n{data}  <Host "plc">\n    Address "127.0.0.1"\n    Port "{modbus_port}"\n'
            f'    Interval 1\n    <Slave 1>\n      Instance "plc"\n{collect}    </Slave>\n  </Host>\n</Plugin>\n'
            f'<Plugin mqtt>\n  <Publish "broker">\n    Host "127.0.0.1"\n    Port {broker_port}\n'
            '    ClientId "collectd-bench"\n    QoS 1\n    Prefix "collectd"\n    Retain false\n  </Publish>\n'
            '</Plugin>\n')






def samples_in_window(kind, work, start, end):
    """Values read in [start, end) that the subscriber received: collectd sends one per
    message ("time:value"); the agent's telemetry carries each stock sample's source time."""
    count = 0
    if kind == "collectd":
        with open(os.path.join(work, "payloads")) as f:
            for line in f:
                stamp = line.split(":", 1)[0]
                try:
                    if start <= float(stamp) < end:
                        count += 1
                except ValueError:
                    pass
        return count
    with open(os.path.join(work, "watch.jsonl")) as f:
        for line in f:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            stack = [message]
            while stack:
                item = stack.pop()
                if isinstance(item, dict):
                    if "stocks" in item and isinstance(item["stocks"], list):
                        for stock in item["stocks"]:
                            at = stock.get("source_time") or stock.get("receive_time")
                            if at and start <= epoch_of(at) < end:
                                count += 1
                    else:
                        stack.extend(item.values())
                elif isinstance(item, list):
                    stack.extend(item)
    return count


def run_one(kind, agent_bin, watch_bin, server_bin, registers, seconds, work, away=False):
    broker_port, modbus_port, health_port = free_port(), free_port(), free_port()
    conf = os.path.join(work, "mosquitto.conf")
    write_broker_config(conf, broker_port)
    procs = []
    try:
        broker = start_broker(conf, broker_port)
        procs.append(broker)
        server = subprocess.Popen([server_bin, str(modbus_port), str(max(registers, 2))], stdout=subprocess.DEVNULL)
        procs.append(server)
        wait_port(modbus_port)
        topic = "plant/v1/#" if kind == "plant-agent" else "collectd/#"
        # Subscribers reconnect by themselves when the broker comes back.
        sizes = open(os.path.join(work, "sizes"), "w")
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", topic, "-q", "1", "-F", "%U %t %l"],
                               stdout=sizes, stderr=subprocess.DEVNULL)
        procs.append(sub)
        if kind == "plant-agent":
            decoded = open(os.path.join(work, "watch.jsonl"), "w")
            reader = subprocess.Popen([watch_bin, "--url", f"tcp://127.0.0.1:{broker_port}", "--json"],
                                      stdout=decoded, stderr=subprocess.DEVNULL)
        else:
            decoded = open(os.path.join(work, "payloads"), "w")
            reader = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", topic, "-q", "1", "-F", "%p"],
                                      stdout=decoded, stderr=subprocess.DEVNULL)
        procs.append(reader)
        time.sleep(0.5)
        if kind == "plant-agent":
            path = os.path.join(work, "agent.toml")
            with open(path, "w") as f:
                f.write(agent_config(work, broker_port, modbus_port, registers, health_port))
            cmd = [agent_bin, "--config", path]
        else:
            os.makedirs(os.path.join(work, "collectd"), exist_ok=True)
            path = os.path.join(work, "collectd.conf")
            with open(path, "w") as f:
                f.write(collectd_config(work, broker_port, modbus_port, registers))
            cmd = ["collectd", "-f", "-C", path]
        collector = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, kind + ".log"), "w"))
        procs.append(collector)
        time.sleep(3)
        pid = collector.pid
        syncs = (lambda: agent_syncs(health_port)) if kind == "plant-agent" else (lambda: None)
        window_start = time.time()
        c0, w0, t0, f0 = context_switches(pid), write_bytes(pid), cpu_seconds(pid), syncs()
        if away:
            time.sleep((seconds - 20) / 2)
            stop(broker)
            time.sleep(20)
            broker = start_broker(conf, broker_port)
            procs.append(broker)
            time.sleep(window_start + seconds - time.time())
        else:
            time.sleep(seconds)
        c1, w1, t1, f1 = context_switches(pid), write_bytes(pid), cpu_seconds(pid), syncs()
        window_end = time.time()
        hwm, threads = status_kib(pid, "VmHWM"), len(glob.glob(f"/proc/{pid}/task/*"))
        time.sleep(10)  # what was read in the window and is still on its way (the agent's backlog)
        # mosquitto_sub writes to a file block-buffered: stop it before reading what it got.
        for p in (sub, reader):
            stop(p)
        sizes.close()
        decoded.close()
        # Only messages received in the measured window, and only data (not the agent's status).
        messages = payload = 0
        with open(os.path.join(work, "sizes")) as f:
            for line in f:
                stamp, _, rest = line.rstrip("\n").partition(" ")
                topic_name, _, length = rest.rpartition(" ")
                if not window_start <= float(stamp) < window_end:
                    continue
                if kind == "plant-agent" and "/telemetry" not in topic_name:
                    continue
                messages += 1
                payload += int(length or 0)
        return {"hwm": hwm, "cpu": t1 - t0, "ctx": c1 - c0, "disk": w1 - w0, "messages": messages,
                "payload": payload, "threads": threads, "syncs": None if f0 is None else f1 - f0,
                "samples": samples_in_window(kind, work, window_start, window_end),
                "expected": registers * int(window_end - window_start)}
    finally:
        for p in reversed(procs):
            stop(p)


def run_simulated(agent_bin, tags, seconds, work):
    """The agent alone on TAGS simulated tags (20 lines, the rest materials), one
    sample of each per second, against the 11.9 MiB goal at 1,000 tags: no
    per-point config table (collectd has no simulator to stand beside it)."""
    broker_port, health_port = free_port(), free_port()
    conf = os.path.join(work, "mosquitto.conf")
    write_broker_config(conf, broker_port)
    procs = []
    try:
        procs.append(start_broker(conf, broker_port))
        path = os.path.join(work, "agent.toml")
        with open(path, "w") as f:
            f.write(agent_sections(work, broker_port, health_port) +
                    f'[[source.simulator]]\nname = "sim"\nseed = 1\nlines = 20\nmaterials = {tags - 20}\n'
                    'interval = "1s"\n')
        agent = subprocess.Popen([agent_bin, "--config", path], stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(work, "agent.log"), "w"))
        procs.append(agent)
        time.sleep(3)
        c0, t0 = context_switches(agent.pid), cpu_seconds(agent.pid)
        time.sleep(seconds)
        c1, t1 = context_switches(agent.pid), cpu_seconds(agent.pid)
        return {"hwm": status_kib(agent.pid, "VmHWM"), "cpu": t1 - t0, "ctx": c1 - c0,
                "threads": len(glob.glob(f"/proc/{agent.pid}/task/*"))}
    finally:
        for p in reversed(procs):
            stop(p)


def main():
    agent_bin, watch_bin, server_bin = sys.argv[1], sys.argv[2], sys.argv[3]
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 60
    print(f"footprint: plant-agent and collectd 5.12 side by side, Modbus TCP polled every 1 s, "
          f"{seconds} s each, loopback")
    print(f"{'registers':>16} {'collector':<12} {'peak RSS':>10} {'CPU s':>6} {'CPU s/h':>8} {'ctx sw':>7} "
          f"{'ctx sw/h':>9} {'disk B':>8} {'syncs':>6} {'messages':>9} {'payload B':>10} {'samples':>14} "
          f"{'threads':>7}")
    per_hour = 3600.0 / seconds
    for registers, away in ((2, False), (100, False), (1000, False), (2, True)):
        label = f"{registers}, away 20 s" if away else str(registers)
        if away and seconds < 40:
            print(f"{label:>16} skipped: the broker-away run needs SECONDS >= 40")
            continue
        results = {}
        for kind in ("plant-agent", "collectd"):
            work = tempfile.mkdtemp(prefix="plant-footprint-", dir=os.environ.get("FOOTPRINT_DIR"))
            try:
                results[kind] = r = run_one(kind, agent_bin, watch_bin, server_bin, registers, seconds, work, away)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            syncs = "-" if r["syncs"] is None else str(r["syncs"])
            samples = f"{r['samples']}/{r['expected']}"
            print(f"{label:>16} {kind:<12} {r['hwm'] / 1024:>7.1f} MiB {r['cpu']:>6.2f} {r['cpu'] * per_hour:>8.1f} "
                  f"{r['ctx']:>7} {r['ctx'] * per_hour:>9.0f} {r['disk']:>8} {syncs:>6} {r['messages']:>9} "
                  f"{r['payload']:>10} {samples:>14} {r['threads']:>7}")
        a, c = results["plant-agent"], results["collectd"]
        ratio = lambda x, y: f"{x / y:.2f}x" if y else "n/a"
        print(f"{label:>16} {'ratio a/c':<12} {ratio(a['hwm'], c['hwm']):>10} {ratio(a['cpu'], c['cpu']):>6} "
              f"{'':>8} {ratio(a['ctx'], c['ctx']):>7} {'':>9} {'':>8} {'':>6} {'':>9} "
              f"{ratio(a['payload'], c['payload']):>10} {ratio(a['samples'], c['samples']):>14}")
    work = tempfile.mkdtemp(prefix="plant-footprint-", dir=os.environ.get("FOOTPRINT_DIR"))
    try:
        r = run_simulated(agent_bin, 1000, seconds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'1000 simulated':>16} {'plant-agent':<12} {r['hwm'] / 1024:>7.1f} MiB {r['cpu']:>6.2f} "
          f"{r['cpu'] * per_hour:>8.1f} {r['ctx']:>7} {r['ctx'] * per_hour:>9.0f}"
          f"{'':>56} {r['threads']:>7}   goal: peak RSS <= 11.9 MiB: {'met' if r['hwm'] / 1024 <= 11.9 else 'NOT met'}")
    print("collectd keeps nothing on disk (no file, no fdatasync): what it reads while the broker is away is lost.")


if __name__ == "__main__":
    main()
