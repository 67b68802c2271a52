#!/usr/bin/env python3
"""plant-agent benchmark, run by scripts/bench.

Every figure comes from real processes on loopback, measured side by side in
one run against one Mosquitto: the agent binary, plant-watch, mosquitto_pub,
socat as the agent's uplink. Ratios matter more than absolutes.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("BUILD_DIR", "build-release")
OUTAGE_SECONDS = int(os.environ.get("OUTAGE_SECONDS", "180"))
RUN_SECONDS = int(os.environ.get("RUN_SECONDS", "10"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise SystemExit(f"bench: timed out after {timeout}s waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    def __init__(self, work):
        self.port = free_port()
        self.dir = os.path.join(work, "broker")
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "mosquitto.log")
        conf = os.path.join(self.dir, "mosquitto.conf")
        user = "user root\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(f"{user}listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    f"max_queued_messages 1000000\nmax_inflight_messages 0\nlog_dest file {self.log}\n"
                    "log_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port), 10, "mosquitto to listen")
        self.url = f"tcp://127.0.0.1:{self.port}"

    def subscribed(self, client_id, topic="plant/v1"):
        """True once the log (log_type subscribe) shows `client_id` subscribing to `topic`..."""
        with open(self.log, errors="replace") as f:
            return any(f" {client_id} " in line and topic in line for line in f)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Relay:
    """The agent's uplink: a socat TCP relay the bench cuts and restores."""

    def __init__(self, broker_port):
        self.broker_port = broker_port
        self.port = free_port()
        self.proc = None

    def up(self):
        self.proc = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork", f"TCP:127.0.0.1:{self.broker_port}"],
            start_new_session=True)
        wait_for(lambda: port_open(self.port), 10, "socat relay")

    def down(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def write_config(work, name, url, extra_mqtt="", extra=""):
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write(f'[agent]\nid = "{name}"\nsite = "lab"\nstate_dir = "{os.path.join(work, name + "-state")}"\n'
                f'heartbeat_interval = "1s"\n\n[mqtt]\nurl = "{url}"\nreconnect_min_delay = "100ms"\n'
                f'reconnect_max_delay = "500ms"\n{extra_mqtt}\n{extra}\n')
    return path


def simulator(lines, materials, speed):
    return (f'[[source.simulator]]\nname = "sim"\nseed = 1\nlines = {lines}\nmaterials = {materials}\n'
            f'interval = "1s"\nspeed = {speed}\n')


def start_watch(work, name, url, args):
    out = open(os.path.join(work, name + ".out"), "w")
    err = open(os.path.join(work, name + ".err"), "w")
    proc = subprocess.Popen([f"{BIN}/plant-watch", "--url", url, "--client-id", name] + args, stdout=out, stderr=err)
    return proc, out.name


def start_agent(work, config):
    err = open(config + ".log", "w")
    return subprocess.Popen([f"{BIN}/plant-agent", "--config", config], stderr=err), err.name


def proc_usage(pid):
    """(peak RSS in MiB, CPU seconds) of a running process."""
    with open(f"/proc/{pid}/status") as f:
        peak_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return peak_kib / 1024.0, cpu


def stop(proc, sig=signal.SIGTERM, timeout=60):
    proc.send_signal(sig)
    return proc.wait(timeout=timeout)


def audit_of(path, agent):
    with open(path) as f:
        for line in f:
            if line.startswith('{"audit"'):
                audit = json.loads(line)["audit"]
                if audit["agent"] == agent:
                    return audit
    raise SystemExit(f"bench: no audit line for {agent} in {path}")


def json_lines(path):
    """The complete JSON lines of a file another process may still be writing."""
    with open(path) as f:
        for line in f:
            if line.startswith("{") and line.endswith("\n"):
                yield json.loads(line)


def epoch_ms(rfc3339):
    # "2026-11-22T08:00:00.123Z"
    seconds = time.mktime(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return int(seconds * 1000) + int(rfc3339[20:23])


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def bench_mosquitto_pub(broker, work):
    count = 50000  # larger inputs make mosquitto_pub 2.0.11 exit before all PUBACKs (messages lost)
    data = os.path.join(work, "pub.txt")
    with open(data, "w") as f:
        f.write(("x" * 100 + "\n") * count)
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-t", "bench/pub", "-C", str(count),
                            "-i", "bench-pub-sub"], stdout=subprocess.PIPE)
    wait_for(lambda: broker.subscribed("bench-pub-sub", "bench/pub"), 10, "mosquitto_sub to subscribe")
    started = time.monotonic()
    with open(data) as f:
        subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-l", "-t", "bench/pub"], stdin=f,
                       check=True)
    elapsed = time.monotonic() - started
    received = sub.communicate(timeout=60)[0].count(b"\n")
    if received != count:
        raise SystemExit(f"bench: mosquitto_sub received {received} of {count}")
    return count / elapsed


def bench_throughput(broker, work, name, spool_extra):
    """Unthrottled simulator (1,000 tags) -> agent -> broker -> plant-watch --audit."""
    watch, watch_out = start_watch(work, name + "-watch", broker.url, ["--audit"])
    wait_for(lambda: broker.subscribed(name + "-watch"), 10, "plant-watch to subscribe")
    config = write_config(work, name, broker.url, 'max_batch = 1000\npublish_interval = "1s"\n',
                          simulator(100, 900, 0) + spool_extra)
    started = time.monotonic()
    agent, agent_log = start_agent(work, config)
    time.sleep(RUN_SECONDS)
    peak_mib, cpu = proc_usage(agent.pid)
    code = stop(agent)
    elapsed = time.monotonic() - started
    if code != 0:
        raise SystemExit(f"bench: agent exited {code}; see {agent_log}")
    if "shutdown timeout" in open(agent_log).read():
        raise SystemExit(f"bench: agent did not flush everything; see {agent_log}")
    time.sleep(1.0)  # let the broker hand the last acknowledged messages to plant-watch
    stop(watch, signal.SIGINT)
    audit = audit_of(watch_out, name)
    if audit["gaps"] != 0:
        raise SystemExit(f"bench: {name}: {audit['gaps']} gaps")
    return {"samples": audit["samples"], "rate": audit["samples"] / elapsed, "bytes": audit["bytes"],
            "peak_mib": peak_mib, "cpu": cpu, "messages": audit["unique"]}


def bench_wire_size(broker, work):
    """The same samples as protobuf (audit bytes) and as plant-watch's compact JSON."""
    name = "wire"
    watch_json, json_out = start_watch(work, "wire-json", broker.url, ["--json", "--topic", "plant/v1/lab/wire/telemetry"])
    watch_audit, audit_out = start_watch(work, "wire-audit", broker.url, ["--audit"])
    wait_for(lambda: broker.subscribed("wire-json") and broker.subscribed("wire-audit"), 10, "plant-watch")
    config = write_config(work, name, broker.url, 'max_batch = 1000\npublish_interval = "1s"\n', simulator(100, 900, 5))
    agent, _ = start_agent(work, config)
    time.sleep(4)
    stop(agent)
    time.sleep(1.0)
    stop(watch_json, signal.SIGINT)
    stop(watch_audit, signal.SIGINT)
    audit = audit_of(audit_out, name)
    json_bytes = json_samples = 0
    with open(json_out) as f:
        for line in f:
            message = json.loads(line)
            if message.get("kind") != "telemetry":
                continue
            # The consumer-side JSON without our receipt stamp: what an agent publishing JSON would send.
            message.pop("received_at", None)
            json_bytes += len(json.dumps(message, separators=(",", ":")))
            json_samples += len(message.get("lines", [])) + len(message.get("stocks", []))
    return audit["bytes"] / audit["samples"], json_bytes / json_samples


def bench_steady_rss(broker, work):
    """1,000 simulated tags at plant speed: the gateway's everyday footprint."""
    config = write_config(work, "steady", broker.url, "", simulator(100, 900, 1))
    agent, _ = start_agent(work, config)
    time.sleep(20)
    peak_mib, cpu = proc_usage(agent.pid)
    stop(agent)
    return peak_mib, cpu / 20.0


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def bench_csv_memory(broker, work):
    """A CSV of max_file_bytes (64 MiB of short rows): peak RSS above idle, and how long it takes."""
    drop = os.path.join(work, "csv-drop")
    os.makedirs(drop)
    config = write_config(work, "csv", broker.url, 'publish_interval = "100ms"\n',
                          f'[[source.csv]]\nname = "erp"\ndirectory = "{drop}"\ninterval = "200ms"\n'
                          f'settle_time = "0s"\nafter = "delete"\nmax_file_bytes = "64MiB"\n')
    staged = os.path.join(work, "big.tmp")
    rows = 0
    with open(staged, "w") as f:
        size = f.write("material,quantity\n")
        while True:
            row = f"m{rows % 5000},{rows % 997}\n"
            if size + len(row) > 64 << 20:
                break
            size += f.write(row)
            rows += 1
    agent, _ = start_agent(work, config)
    time.sleep(2)
    idle_kib = status_kib(agent.pid, "VmRSS")
    started = time.time()
    os.rename(staged, os.path.join(drop, "big.csv"))
    wait_for(lambda: not os.path.exists(os.path.join(drop, "big.csv")), 300, "the CSV to be consumed")
    seconds = time.time() - started
    peak_kib = status_kib(agent.pid, "VmHWM")
    stop(agent)
    return {"rows": rows, "idle_mib": idle_kib / 1024, "peak_mib": peak_kib / 1024,
            "above_mib": (peak_kib - idle_kib) / 1024, "seconds": seconds}


def bench_drain(broker, work):
    """An uplink outage: backlog drain rate beside the ingest rate, and live latency during the drain."""
    relay = Relay(broker.port)
    relay.up()
    watch, watch_out = start_watch(work, "drain-watch", broker.url, ["--json", "--topic", "plant/v1/lab/drain/#"])
    wait_for(lambda: broker.subscribed("drain-watch"), 10, "plant-watch to subscribe")
    config = write_config(work, "drain", f"tcp://127.0.0.1:{relay.port}",
                          'max_batch = 100\npublish_interval = "50ms"\nmax_inflight = 64\n', simulator(100, 900, 5))
    agent, agent_log = start_agent(work, config)
    time.sleep(5)
    relay.down()
    outage_started = time.time()
    time.sleep(OUTAGE_SECONDS)
    relay.up()
    reconnected_ms = int(time.time() * 1000)

    def drained():
        statuses = [m for m in json_lines(watch_out) if m.get("kind") == "status"]
        return any(epoch_ms(s["time"]) > reconnected_ms and s["backlog"]["messages"] == 0 for s in statuses)

    wait_for(drained, 600, "the backlog to drain")
    time.sleep(3)
    stop(agent)
    time.sleep(1)
    stop(watch, signal.SIGINT)
    relay.down()

    telemetry = [m for m in json_lines(watch_out) if m.get("kind") == "telemetry"]
    replayed = [m for m in telemetry if m["replayed"]]
    live = [m for m in telemetry if not m["replayed"]]
    samples = lambda m: len(m.get("lines", [])) + len(m.get("stocks", []))
    drain_start = min(epoch_ms(m["received_at"]) for m in replayed)
    drain_end = max(epoch_ms(m["received_at"]) for m in replayed)
    drain_samples = sum(samples(m) for m in replayed)
    drain_rate = drain_samples / max(0.001, (drain_end - drain_start) / 1000.0)
    before = [m for m in live if epoch_ms(m["created_at"]) < outage_started * 1000]
    span = (epoch_ms(before[-1]["created_at"]) - epoch_ms(before[0]["created_at"])) / 1000.0
    ingest_rate = sum(samples(m) for m in before[1:]) / span
    during = [epoch_ms(m["received_at"]) - epoch_ms(m["created_at"]) for m in live
              if drain_start <= epoch_ms(m["received_at"]) <= drain_end]
    return {"backlog_samples": drain_samples, "drain_seconds": (drain_end - drain_start) / 1000.0,
            "drain_rate": drain_rate, "ingest_rate": ingest_rate, "live_during_drain": len(during),
            "live_p99_ms": percentile(during, 99), "live_max_ms": max(during) if during else float("nan")}


def bench_recovery():
    out = subprocess.run([f"{BIN}/spool_recovery_bench", "1024"], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def main():
    work = tempfile.mkdtemp(prefix="plant-bench-")
    broker = Broker(work)
    try:
        print(f"plant-agent benchmark ({os.uname().machine}, {os.cpu_count()} cores, loopback); work dir {work}")
        pub_rate = bench_mosquitto_pub(broker, work)
        batch = bench_throughput(broker, work, "batch", "")
        nospool = bench_throughput(broker, work, "nospool", "\n[spool]\nenabled = false\n")
        proto_per_sample, json_per_sample = bench_wire_size(broker, work)
        steady_mib, steady_cpu = bench_steady_rss(broker, work)
        csv = bench_csv_memory(broker, work)
        drain = bench_drain(broker, work)
        recovery = bench_recovery()
    finally:
        broker.stop()

    rows = [
        ("mosquitto_pub -q 1 -l (100-byte messages)", f"{pub_rate:,.0f} msg/s", ""),
        ("samples/s end to end, spool sync=batch", f"{batch['rate']:,.0f} samples/s",
         f"{batch['rate'] / pub_rate:.1f}x mosquitto_pub msg/s (goal >= 10x)"),
        ("samples/s end to end, no spool", f"{nospool['rate']:,.0f} samples/s",
         f"sync=batch / no spool = {batch['rate'] / nospool['rate']:.2f} (goal >= 0.8)"),
        ("  delivered, gaps", f"{batch['samples']:,} samples in {batch['messages']:,} messages", "0 gaps"),
        ("wire bytes per sample (protobuf)", f"{proto_per_sample:.1f} B", ""),
        ("same samples as compact JSON", f"{json_per_sample:.1f} B",
         f"protobuf/JSON = {proto_per_sample / json_per_sample:.2f} (goal <= 0.33)"),
        ("peak RSS, 1,000 tags at plant speed (20 s)", f"{steady_mib:.1f} MiB", "goal <= 16 MiB"),
        ("peak RSS, 1,000 tags unthrottled", f"{batch['peak_mib']:.1f} MiB", ""),
        (f"64 MiB CSV ({csv['rows']:,} rows), peak RSS above idle", f"{csv['above_mib']:.1f} MiB",
         f"idle {csv['idle_mib']:.1f}, peak {csv['peak_mib']:.1f} MiB; read and safe in {csv['seconds']:.1f} s "
         f"(goal <= 32 MiB above idle)"),
        ("CPU per million samples (unthrottled)", f"{batch['cpu'] / batch['samples'] * 1e6:.2f} s", ""),
        ("CPU at plant speed, 1,000 tags", f"{steady_cpu * 100:.1f} % of a core", ""),
        (f"drain after a {OUTAGE_SECONDS} s uplink outage",
         f"{drain['backlog_samples']:,} samples in {drain['drain_seconds']:.2f} s", ""),
        ("  drain rate vs live ingest rate", f"{drain['drain_rate']:,.0f} vs {drain['ingest_rate']:,.0f} samples/s",
         f"{drain['drain_rate'] / drain['ingest_rate']:.0f}x (goal >= 20x)"),
        ("  live messages during the drain, p99 latency",
         f"{drain['live_p99_ms']:.1f} ms (max {drain['live_max_ms']:.1f}, n={drain['live_during_drain']})",
         "goal <= 100 ms"),
        ("spool recovery, 1 GiB", recovery, ""),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print()
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>{value_width}}  {note}")


if __name__ == "__main__":
    sys.exit(main())
