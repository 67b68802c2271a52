#!/usr/bin/env python3
"""plant-register benchmark, run by scripts/bench-register.

What one register instance stores end to end (agents draining a backlog
unthrottled -> Mosquitto -> plant-register -> rows committed in PostgreSQL),
beside what plant-watch --audit receives from the same broker in the same
window, and the same with two instances in one share group. The agents drain
the same spool copy in both runs, so the offered load is identical.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_bench as ab  # noqa: E402  (shared helpers: broker, agents, watch)

BIN = ab.BIN
AGENTS = int(os.environ.get("AGENTS", "6"))
BACKLOG_SECONDS = int(os.environ.get("BACKLOG_SECONDS", "30"))
WINDOW_SECONDS = int(os.environ.get("WINDOW_SECONDS", "8"))
# The register commits in transactions of up to database.max_batch messages, so its
# rate is read over a longer window (the backlog keeps it saturated throughout).
REGISTER_WINDOW_SECONDS = int(os.environ.get("REGISTER_WINDOW_SECONDS", "40"))


class Postgres:
    """A private PostgreSQL cluster with default durability (fsync on)."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir)
        self.port = ab.free_port()
        self.as_owner = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            os.chmod(work, 0o755)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        bindir = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
        self.bin = f"/usr/lib/postgresql/{bindir}/bin"
        subprocess.run(self.as_owner + [f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "plant"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(self.as_owner + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w",
                                        "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                                        " -c max_wal_size=2GB", "start"], check=True, stdout=subprocess.DEVNULL)

    def create(self, name):
        self.psql("postgres", f"CREATE DATABASE {name}")
        return f"postgresql://plant@127.0.0.1:{self.port}/{name}"

    def psql(self, db, sql):
        return subprocess.run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(self.port), "-U", "plant", "-d", db,
                               "-c", sql], check=True, capture_output=True, text=True).stdout.strip()

    def cpu_seconds(self):
        """CPU time of the postmaster and its live backends so far."""
        with open(f"{self.dir}/data/postmaster.pid") as f:
            postmaster = int(f.readline())
        total = 0.0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(pid) == postmaster or int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / ab.CLK_TCK
        return total

    def stop(self):
        subprocess.run(self.as_owner + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL)


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


def healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def agent_config(work, index, url):
    name = f"gw-{index}"
    return ab.write_config(work, name, url, 'publish_interval = "100ms"\nmax_batch = 1000\nmax_inflight = 64\n',
                           f'[[source.simulator]]\nname = "sim"\nseed = {index}\nlines = 20\nmaterials = 400\n'
                           f'interval = "50ms"\nspeed = 5.0\n\n[spool]\nmax_bytes = "2GiB"\n')


def build_backlog(work):
    """Agents run against a port nothing listens on: everything they read stays in their spools."""
    dead = f"tcp://127.0.0.1:{ab.free_port()}"
    agents = [ab.start_agent(work, agent_config(work, i, dead))[0] for i in range(1, AGENTS + 1)]
    time.sleep(BACKLOG_SECONDS)
    for a in agents:
        ab.stop(a)
    for i in range(1, AGENTS + 1):
        shutil.copytree(os.path.join(work, f"gw-{i}-state"), os.path.join(work, f"gw-{i}-pristine"))


def run(work, pg, instances):
    sub = os.path.join(work, f"run{instances}")
    os.makedirs(sub)
    broker = ab.Broker(sub)
    database = pg.create(f"plant_{instances}")
    registers = []
    for i in range(instances):
        port = ab.free_port()
        config = os.path.join(sub, f"reg-{i}.toml")
        share = 'share_group = "registers"\n' if instances > 1 else ""
        with open(config, "w") as f:
            f.write(f'[register]\nstate_dir = "{sub}/reg-{i}"\n\n[mqtt]\nurl = "{broker.url}"\nclient_id = "reg-{i}"\n'
                    f'{share}\n[database]\nurl = "{database}"\n\n[http]\nlisten = "127.0.0.1:{port}"\n')
        log = open(config + ".log", "w")
        registers.append((subprocess.Popen([f"{BIN}/plant-register", "--config", config], stderr=log), port))
    for _, port in registers:
        ab.wait_for(lambda: healthy(port), 30, "plant-register to be healthy")
    watch, watch_out = ab.start_watch(sub, "watch", broker.url, ["--audit", "--duration", f"{WINDOW_SECONDS}s"])
    ab.wait_for(lambda: broker.subscribed("watch"), 10, "plant-watch to subscribe")
    agents = []
    for i in range(1, AGENTS + 1):
        state = os.path.join(work, f"gw-{i}-state")
        shutil.rmtree(state)
        shutil.copytree(os.path.join(work, f"gw-{i}-pristine"), state)
        agents.append(ab.start_agent(work, agent_config(work, i, broker.url))[0])
    started = time.monotonic()
    stored_before = sum(metric(port, "plant_register_samples_stored_total") for _, port in registers)
    pg_cpu_before = pg.cpu_seconds()
    watch.wait(timeout=WINDOW_SECONDS + 30)
    time.sleep(max(0.0, started + REGISTER_WINDOW_SECONDS - time.monotonic()))
    stored_after = sum(metric(port, "plant_register_samples_stored_total") for _, port in registers)
    register_window = time.monotonic() - started
    pg_cpu = pg.cpu_seconds() - pg_cpu_before
    backlog_left = sum(metric(port, "plant_register_journal_backlog_messages") for _, port in registers)
    received = sum(ab.audit_of(watch_out, f"gw-{i}")["samples"] for i in range(1, AGENTS + 1))
    batches = sum(metric(port, "plant_register_batches_total") for _, port in registers)
    batch_seconds = sum(metric(port, "plant_register_batch_seconds_sum") for _, port in registers)
    journaled = sum(metric(port, "plant_register_messages_journaled_total") for _, port in registers)
    committed = sum(metric(port, "plant_register_messages_committed_total") for _, port in registers)
    backlog = sum(int(pg.psql(f"plant_{instances}", "SELECT coalesce(sum(samples), 0) FROM agents") or 0)
                  for _ in [0])
    for a in agents:
        ab.stop(a)
    cpu = [ab.proc_usage(p.pid)[1] for p, _ in registers]
    rss = [ab.proc_usage(p.pid)[0] for p, _ in registers]
    for p, _ in registers:
        ab.stop(p)
    broker.stop()
    return {"watch_rate": received / WINDOW_SECONDS, "stored_rate": (stored_after - stored_before) / register_window,
            "register_window": register_window, "backlog_left": backlog_left,
            "stored_so_far": backlog, "cpu_s": sum(cpu), "peak_rss_mib": max(rss),
            "pg_cpu_s": pg_cpu, "batches": batches, "batch_seconds": batch_seconds, "journaled": journaled, "committed": committed}


def main():
    work = tempfile.mkdtemp(prefix="plant-register-bench.")
    os.chmod(work, 0o755)
    pg = Postgres(work)
    try:
        print(f"bench-register: {AGENTS} agents build a {BACKLOG_SECONDS}s backlog (20 lines, 400 materials at 20 Hz each)",
              flush=True)
        build_backlog(work)
        one = run(work, pg, 1)
        two = run(work, pg, 2)
    finally:
        pg.stop()
    print(f"\nsamples per second, agents draining the same backlog (plant-watch over {WINDOW_SECONDS}s, the register "
          f"over {REGISTER_WINDOW_SECONDS}s from the same start):")
    print(f"  {'':28} {'plant-watch receives':>22} {'register stores':>16} {'ratio':>6}")
    for label, r in (("one register instance", one), ("two instances (share group)", two)):
        print(f"  {label:28} {r['watch_rate']:22.0f} {r['stored_rate']:16.0f} {r['stored_rate'] / r['watch_rate']:6.2f}")
    print(f"\n  two instances / one: {two['stored_rate'] / one['stored_rate']:.2f}x"
          f"   (goals: one >= 0.50 of plant-watch, two >= 1.6x one)")
    print(f"  register CPU: {one['cpu_s']:.1f}s (one), {two['cpu_s']:.1f}s (two, summed); "
          f"peak RSS {one['peak_rss_mib']:.1f} / {two['peak_rss_mib']:.1f} MiB")
    for label, r in (("one", one), ("two", two)):
        print(f"  {label}: {r['journaled']:.0f} messages journaled, {r['committed']:.0f} committed in "
              f"{r['batches']:.0f} transactions ({r['batch_seconds']:.1f}s inside them), {r['backlog_left']:.0f} still "
              f"in the journal; PostgreSQL used {r['pg_cpu_s']:.1f} CPU-s in {r['register_window']:.0f}s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
