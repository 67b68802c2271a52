#!/usr/bin/env python3
"""Prints what a plant-register API serves: its shortages (with the plants
that can help) and its agents. Used by scripts/demo --central.
  register_summary.py http://127.0.0.1:8480
"""
import json
import sys
import urllib.request


def get(api, path):
    try:
        with urllib.request.urlopen(api + path, timeout=5) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


def main():
    api = sys.argv[1]
    shortages = get(api, "/api/shortages")
    agents = get(api, "/api/agents")
    if shortages is None or agents is None:
        print("waiting for the register...")
        return
    print(f"{len(shortages)} shortage(s):")
    for s in shortages:
        helpers = ", ".join(f"{h['site']}/{h['agent']} {h['quantity']:.0f} {h['unit']}" for h in s["surplus"]) or "-"
        print(f"  {s['status']:8} {s['site']}/{s['material']}: {s['quantity']:.0f} {s['unit']}, "
              f"out at {s['projected_stockout']}; can help: {helpers}")
    for a in agents:
        print(f"  agent {a['site']}/{a['agent']}: {a['state']}, last seen {a['last_seen']}, gaps {a['gaps']}")


if __name__ == "__main__":
    main()
