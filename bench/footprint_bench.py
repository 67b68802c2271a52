#!/usr/bin/env python3
"""Gateway footprint, side by side in one run: plant-agent and collectd 5.12
(Debian collectd-core, modbus + mqtt plugins) reading the same Modbus TCP
server (bench/modbus_constant_server) every second and publishing to the same
private Mosquitto, for SECONDS each, at 2 and at 100 registers.

Printed per collector: peak RSS (VmHWM), CPU seconds, context switches of all
its threads (/proc/PID/task/*/status), bytes it made the kernel write to disk
(/proc/PID/io write_bytes), MQTT messages and payload bytes the broker handed a
subscriber, and threads. Counting starts 3 s after start, once both are
connected; peak RSS is over the whole run.

Usage: footprint_bench.py AGENT_BIN MODBUS_SERVER_BIN [SECONDS]
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


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
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agent_config(work, broker_port, modbus_port, registers):
    stocks = "".join(
        f'[[source.modbus.stock]]\nmaterial = "r{i}"\nquantity = {{ area = "holding", address = {i} }}\n'
        for i in range(registers))
    return (f'[agent]\nid = "gw"\nsite = "bench"\nstate_dir = "{work}/agent-state"\n'
            f'[mqtt]\nurl = "tcp://127.0.0.1:{broker_port}"\n'
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


def run_one(kind, agent_bin, server_bin, registers, seconds, work):
    broker_port, modbus_port = free_port(), free_port()
    conf = os.path.join(work, "mosquitto.conf")
    user = "user root\n" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(f"{user}listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    procs = []
    try:
        broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(broker)
        wait_port(broker_port)
        server = subprocess.Popen([server_bin, str(modbus_port), str(max(registers, 2))], stdout=subprocess.DEVNULL)
        procs.append(server)
        wait_port(modbus_port)
        topic = "plant/v1/#" if kind == "plant-agent" else "collectd/#"
        sizes = open(os.path.join(work, "sizes"), "w")
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker_port), "-t", topic, "-q", "1", "-F", "%U %t %l"],
                               stdout=sizes, stderr=subprocess.DEVNULL)
        procs.append(sub)
        time.sleep(0.5)
        if kind == "plant-agent":
            path = os.path.join(work, "agent.toml")
            with open(path, "w") as f:
                f.write(agent_config(work, broker_port, modbus_port, registers))
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
        window_start = time.time()
        c0, w0, t0 = context_switches(pid), write_bytes(pid), cpu_seconds(pid)
        time.sleep(seconds)
        c1, w1, t1 = context_switches(pid), write_bytes(pid), cpu_seconds(pid)
        window_end = time.time()
        hwm, threads = status_kib(pid, "VmHWM"), len(glob.glob(f"/proc/{pid}/task/*"))
        # mosquitto_sub writes to a file block-buffered: stop it before reading what it got.
        sub.send_signal(signal.SIGTERM)
        sub.wait(10)
        sizes.close()
        # Only messages of the measured window, and only data (not the agent's status).
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
                "payload": payload, "threads": threads}
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    agent_bin, server_bin = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    print(f"footprint: plant-agent and collectd 5.12 side by side, Modbus TCP polled every 1 s, "
          f"{seconds} s each, loopback")
    print(f"{'registers':>9} {'collector':<12} {'peak RSS':>10} {'CPU s':>6} {'ctx sw':>7} {'disk B':>9} "
          f"{'messages':>9} {'payload B':>10} {'threads':>7}")
    for registers in (2, 100):
        results = {}
        for kind in ("plant-agent", "collectd"):
            work = tempfile.mkdtemp(prefix="plant-footprint-")
            try:
                results[kind] = r = run_one(kind, agent_bin, server_bin, registers, seconds, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            print(f"{registers:>9} {kind:<12} {r['hwm'] / 1024:>7.1f} MiB {r['cpu']:>6.2f} {r['ctx']:>7} "
                  f"{r['disk']:>9} {r['messages']:>9} {r['payload']:>10} {r['threads']:>7}")
        a, c = results["plant-agent"], results["collectd"]
        ratio = lambda x, y: f"{x / y:.2f}x" if y else "n/a"
        print(f"{registers:>9} {'ratio a/c':<12} {ratio(a['hwm'], c['hwm']):>10} {ratio(a['cpu'], c['cpu']):>6} "
              f"{ratio(a['ctx'], c['ctx']):>7} {'':>9} {'':>9} {ratio(a['payload'], c['payload']):>10}")


if __name__ == "__main__":
    main()
