#!/usr/bin/env python3
"""Wire size in Sparkplug mode beside plant mode, run by scripts/bench-sparkplug.

The same simulator (same seed, lines, materials and speed) runs for the same time
through the real agent to one Mosquitto, once with mqtt.format = "plant" (bytes
and samples from plant-watch --audit) and once with "sparkplug" (every payload
decoded by Eclipse Tahu's codec in tests/sparkplug/sparkplug_peer.mjs; samples
from the agent's plant_agent_samples_in_total when it is stopped). A third run
holds everything while the primary host is offline and sends it as
is_historical afterwards: history is sent whole, without report by exception.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from agent_bench import BIN, Broker, audit_of, free_port, simulator, start_agent, start_watch, stop, wait_for, write_config  # noqa: E402

RUN_SECONDS = int(os.environ.get("RUN_SECONDS", "20"))
PEER = os.path.join(os.path.dirname(__file__), "..", "tests", "sparkplug", "sparkplug_peer.mjs")
SOURCES = simulator(20, 200, 5)  # 220 tags (20 lines, 200 materials) at 5 samples/s each


def samples_in(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return int(next(float(line.split()[-1]) for line in text.splitlines()
                    if line.startswith("plant_agent_samples_in_total")))


def peer(*args, out=None):
    return subprocess.Popen(["node", PEER, *args], stdout=out or subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def mqtt_js(url):
    return "mqtt://" + url[len("tcp://"):]


def plant_mode(broker, work):
    watch, watch_out = start_watch(work, "plant-audit", broker.url, ["--audit"])
    wait_for(lambda: broker.subscribed("plant-audit"), 10, "plant-watch")
    config = write_config(work, "plant", broker.url, 'publish_interval = "1s"\n', SOURCES)
    agent, _ = start_agent(work, config)
    time.sleep(RUN_SECONDS)
    stop(agent)
    time.sleep(1.0)
    stop(watch, signal.SIGINT)
    audit = audit_of(watch_out, "plant")
    return audit["bytes"] / audit["samples"], audit["samples"]


def sparkplug_mode(broker, work, name, gated):
    out_path = os.path.join(work, name + ".jsonl")
    with open(out_path, "w") as out:
        listener = peer("listen", mqtt_js(broker.url), out=out)
        wait_for(lambda: "subscribed" in (listener.stderr.readline() or ""), 15, "the Sparkplug listener")
        health = free_port()
        extra_mqtt = 'publish_interval = "1s"\nformat = "sparkplug"\n'
        extra = f'[health]\nlisten = "127.0.0.1:{health}"\n'
        if gated:
            extra += '[sparkplug]\nprimary_host_id = "bench-host"\n'
            peer("state", mqtt_js(broker.url), "bench-host", "false").wait(30)
        config = write_config(work, name, broker.url, extra_mqtt, extra + SOURCES)
        agent, _ = start_agent(work, config)
        time.sleep(RUN_SECONDS)
        if gated:
            count = samples_in(health)
            stop(agent)  # everything so far is in the spool
            peer("state", mqtt_js(broker.url), "bench-host", "true").wait(30)
            agent, _ = start_agent(work, config)
            time.sleep(8)  # the held data drains in well under a second at this size
            stop(agent)
        else:
            count = samples_in(health)
            stop(agent)
        time.sleep(1.0)
        listener.send_signal(signal.SIGTERM)
        listener.wait(10)
    data = births = historical = 0
    for line in open(out_path):
        message = json.loads(line)
        if "error" in message:
            raise SystemExit(f"bench: Tahu could not decode {message['topic']}: {message['error']}")
        if message["type"] == "DDATA":
            held = any(m["isHistorical"] for m in message["metrics"])
            if held:
                historical += message["bytes"]
            else:
                data += message["bytes"]
        elif message["type"] in ("NBIRTH", "DBIRTH"):
            births += message["bytes"]
    return {"samples": count, "data": data, "births": births, "historical": historical}


def main():
    work = tempfile.mkdtemp(prefix="plant-bench-sparkplug-")
    broker = Broker(work)
    try:
        print(f"Sparkplug wire size ({os.uname().machine}, loopback, {RUN_SECONDS} s per run); work dir {work}")
        plant_bytes, plant_samples = plant_mode(broker, work)
        live = sparkplug_mode(broker, work, "sparkplug", gated=False)
        held = sparkplug_mode(broker, work, "held", gated=True)
    finally:
        broker.stop()
    live_per_sample = live["data"] / live["samples"]
    held_per_sample = held["historical"] / held["samples"]
    rows = [
        ("plant mode: payload bytes per sample", f"{plant_bytes:.1f} B", f"{plant_samples:,} samples"),
        ("sparkplug mode: DDATA bytes per sample (live, report by exception)", f"{live_per_sample:.1f} B",
         f"{live['samples']:,} samples; sparkplug / plant = {live_per_sample / plant_bytes:.2f}"),
        ("  births (NBIRTH + DBIRTH) once per session", f"{live['births']:,} B", ""),
        ("sparkplug mode: held data sent as is_historical, bytes per sample", f"{held_per_sample:.1f} B",
         f"{held['samples']:,} samples; sparkplug / plant = {held_per_sample / plant_bytes:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>10}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
