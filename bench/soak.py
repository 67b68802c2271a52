#!/usr/bin/env python3
"""plant-agent soak test, run by scripts/soak: kill -9 the agent at random
moments while it publishes, restart it, and repeat; at the end a persistent
plant-watch --audit session must show zero gaps.

    scripts/soak                 # one hour
    scripts/soak --cycles 200    # a number of kill/restart cycles
    scripts/soak --duration 10m
"""
import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time

from agent_bench import Broker, audit_of, epoch_ms, json_lines, simulator, start_agent, start_watch, stop, \
    wait_for, write_config


def parse_duration(text):
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=0, help="kill/restart cycles (default: run for --duration)")
    parser.add_argument("--duration", default="1h", help="how long to run when --cycles is not given (default 1h)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="random kill moments (printed)")
    args = parser.parse_args()
    deadline = time.monotonic() + parse_duration(args.duration)
    rng = random.Random(args.seed)

    work = tempfile.mkdtemp(prefix="plant-soak-")
    broker = Broker(work)
    print(f"soak: seed {args.seed}, work dir {work}", flush=True)
    audit_watch, audit_out = start_watch(work, "soak-audit", broker.url, ["--audit", "--persistent"])
    status_watch, status_out = start_watch(work, "soak-status", broker.url,
                                           ["--json", "--topic", "plant/v1/+/+/status"])
    wait_for(lambda: broker.subscribed("soak-audit") and broker.subscribed("soak-status"), 10, "plant-watch")
    config = write_config(work, "soak", broker.url, 'publish_interval = "50ms"\nmax_batch = 200\n',
                          simulator(10, 40, 20))
    cycles = 0
    try:
        while (args.cycles and cycles < args.cycles) or (not args.cycles and time.monotonic() < deadline):
            agent, _ = start_agent(work, config)
            time.sleep(rng.uniform(0.05, 1.5))
            agent.send_signal(signal.SIGKILL)
            agent.wait()
            cycles += 1
            if cycles % 50 == 0:
                print(f"soak: {cycles} kill -9 cycles", flush=True)
        restarted_ms = int(time.time() * 1000)
        agent, agent_log = start_agent(work, config)

        def drained():
            for status in json_lines(status_out):
                if status.get("kind") == "status" and status["state"] == "online" and \
                        epoch_ms(status["time"]) > restarted_ms and status["backlog"]["messages"] == 0:
                    return True
            return False

        wait_for(drained, 300, "the final agent to drain its spool")
        code = stop(agent)
        if code != 0:
            raise SystemExit(f"soak: the final agent exited {code}; see {agent_log}")
        time.sleep(1.0)  # let the broker hand over the last acknowledged messages
        stop(audit_watch, signal.SIGINT)
        stop(status_watch, signal.SIGINT)
    finally:
        broker.stop()
    audit = audit_of(audit_out, "soak")
    print(json.dumps({"soak": {"cycles": cycles, "seed": args.seed, **{k: audit[k] for k in (
        "received", "unique", "duplicates", "gaps", "missing", "first_seq", "last_seq", "replayed")}}}))
    if audit["gaps"] != 0 or audit["first_seq"] != 1:
        print("soak: FAILED: sequence numbers missing", file=sys.stderr)
        return 1
    print(f"soak: ok: {cycles} kill -9 cycles, {audit['unique']} messages, 0 gaps, {audit['duplicates']} duplicates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
