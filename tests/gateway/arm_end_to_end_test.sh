#!/usr/bin/env bash
# ctest arm64.end_to_end and armhf.end_to_end: the ARM plant-agent
# (cross-built, run by qemu-user) publishes to the host's Mosquitto and the
# host's plant-watch decodes it: the birth status, simulated line states and
# stock levels with gap-free sequence numbers, a CSV drop with its exact values
# and timestamps, and the offline status after a clean SIGTERM.
#   arm_end_to_end_test.sh ARCH ARM_AGENT_BINARY WATCH_BINARY QEMU [QEMU_ARGUMENT...]
# arm64 runs qemu without -L (the multiarch libc6:arm64 provides the loader,
# shared/notes/TOOLCHAIN.md, trap 4); armhf runs it with -L and the sysroot
# the agent was linked against.
set -euo pipefail

arch=$1
agent_binary=$2
watch_binary=$3
shift 3
qemu=("$@")
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"

# e_machine at offset 18 of the ELF header: 0xb7 is AArch64, 0x28 is 32-bit
# ARM. Running the host binary by mistake would prove nothing.
case "$arch" in
  arm64) expected_machine=b7 ;;
  armhf) expected_machine=28 ;;
  *) echo "FAIL: unknown architecture $arch (arm64 or armhf)"; exit 1 ;;
esac
machine=$(od -An -tx1 -j18 -N1 "$agent_binary" | tr -d ' ')
if [ "$machine" != "$expected_machine" ]; then
  echo "FAIL: $agent_binary is not an $arch program (ELF e_machine 0x$machine, expected 0x$expected_machine)"
  exit 1
fi
export AGENT_ID="gw-$arch"

work=$(mktemp -d -t "plant-$arch-e2e.XXXXXX")
broker_pid=""
agent_pid=""
watch_pid=""
cleanup() {
  set +e
  for pid in $agent_pid $watch_pid $broker_pid; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${PLANT_KEEP_TMP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
broker_pid=$(start_broker "$work/broker" "$port")
wait_for_port "$port" 10
mkdir -p "$work/drop"
cat > "$work/agent.toml" <<CONF
[agent]
id = "$AGENT_ID"
site = "site-q"
state_dir = "$work/state"
heartbeat_interval = "1s"

[mqtt]
url = "tcp://127.0.0.1:$port"
publish_interval = "200ms"
reconnect_min_delay = "100ms"

[[source.simulator]]
name = "sim"
seed = 7
lines = 3
materials = 8
interval = "1s"
speed = 10.0

[[source.csv]]
name = "wms"
directory = "$work/drop"
timestamp_column = "time"
unit_column = "unit"
location_column = "bin"
interval = "100ms"
settle_time = "0s"
after = "delete"
CONF

"$watch_binary" --url "tcp://127.0.0.1:$port" --json --audit --duration 120s > "$work/watch.jsonl" 2> "$work/watch.err" &
watch_pid=$!
"${qemu[@]}" "$agent_binary" --config "$work/agent.toml" 2> "$work/agent.log" &
agent_pid=$!
log=$work/agent.log
telemetry_count() { grep -c '"kind":"telemetry"' "$work/watch.jsonl" || true; }
enough_telemetry() { [ "$(telemetry_count)" -ge 10 ]; }
wait_for 60 file_has "$log" "connected to" || fail "the $arch agent never connected; log:"$'\n'"$(cat "$log")"

printf 'material,quantity,unit,bin,time\nresin-pellets,1234.5,kg,A-01,2026-11-20T08:00:00Z\nscrews-m6,500,pcs,B-07,1763625600\n' \
  > "$work/export.tmp"
mv "$work/export.tmp" "$work/drop/export.csv"
wait_for 30 test ! -e "$work/drop/export.csv" || fail "the $arch agent never read the CSV drop"
wait_for 60 enough_telemetry || fail "fewer than 10 telemetry messages arrived: $(telemetry_count)"
wait_for 30 file_has "$work/watch.jsonl" '"material":"screws-m6"' || fail "the CSV rows never arrived"

stop_child "$agent_pid" 30
agent_pid=""
[ "$stopped_status" -eq 0 ] || fail "the $arch agent exited with status $stopped_status on SIGTERM"
file_has "$log" "stopped" || fail "the agent log does not end with 'stopped'"
wait_for 20 file_has "$work/watch.jsonl" '"state":"offline"' || fail "no offline status after the agent stopped"
kill -INT "$watch_pid"
wait_child "$watch_pid" 20
watch_pid=""
[ "$stopped_status" -eq 0 ] || fail "plant-watch exited with status $stopped_status; stderr: $(cat "$work/watch.err")"

# The content, decoded by the host's plant-watch.
python3 - "$work/watch.jsonl" "$arch" <<'PY' || fail "decoded content (above)"
import json, os, sys

agent_id = os.environ["AGENT_ID"]

problems = []
messages = []
for number, text in enumerate(open(sys.argv[1]), 1):
    try:
        messages.append(json.loads(text))
    except ValueError as error:
        problems.append(f"line {number} is not JSON ({error}): {text[:200]}")
by_kind = {}
for m in messages:
    by_kind.setdefault(m.get("kind"), []).append(m)

statuses = [m for m in by_kind.get("status", []) if m.get("agent") == agent_id]
if not statuses or statuses[0].get("state") != "online":
    problems.append(f"the first status is not online: {statuses[:1]}")
if not statuses or statuses[-1].get("state") != "offline":
    problems.append(f"the last status is not offline: {statuses[-1:]}")

telemetry = by_kind.get("telemetry", [])
seqs = [m.get("seq") for m in telemetry]
if any(b != a + 1 for a, b in zip(seqs, seqs[1:])):
    problems.append(f"telemetry sequence numbers are not consecutive: {seqs}")
materials, lines, rows = set(), set(), []
for m in telemetry:
    if m.get("topic") != f"plant/v1/site-q/{agent_id}/telemetry":
        problems.append(f"unexpected topic {m.get('topic')}")
    if m.get("agent") != agent_id or m.get("site") != "site-q":
        problems.append(f"unexpected agent/site {m.get('agent')}/{m.get('site')}")
    for line in m.get("lines", []):
        lines.add(line.get("line"))
        if line.get("quality") != "good" or line.get("source") != "sim":
            problems.append(f"unexpected line sample {line}")
    for stock in m.get("stock", []) + m.get("stocks", []):
        materials.add(stock.get("material"))
        if stock.get("source") == "wms":
            rows.append(stock)
expected_materials = {"steel-coil-1.2", "resin-pellets", "paint-base-ral7035", "cardboard-500",
                      "screws-m6", "adhesive-pu", "label-roll", "stretch-film"}
if not expected_materials <= materials:
    problems.append(f"simulated materials missing: {sorted(expected_materials - materials)}")
if lines != {"line-1", "line-2", "line-3"}:
    problems.append(f"lines seen: {sorted(lines)}")

def row(material):
    found = [r for r in rows if r.get("material") == material]
    return found[0] if found else {}
resin, screws = row("resin-pellets"), row("screws-m6")
if (resin.get("quantity"), resin.get("unit"), resin.get("location"), resin.get("source_time")) != \
        (1234.5, "kg", "A-01", "2026-11-20T08:00:00.000Z"):
    problems.append(f"CSV row resin-pellets decoded as {resin}")
# 1763625600 is 2025-11-20T08:00:00Z.
if (screws.get("quantity"), screws.get("unit"), screws.get("location"), screws.get("source_time")) != \
        (500, "pcs", "B-07", "2025-11-20T08:00:00.000Z"):
    problems.append(f"CSV row screws-m6 decoded as {screws}")

audits = [m["audit"] for m in messages if isinstance(m.get("audit"), dict) and m["audit"].get("agent") == agent_id]
if len(audits) != 1 or (audits[0].get("gaps"), audits[0].get("missing"), audits[0].get("unique")) != (0, [], len(telemetry)):
    problems.append(f"plant-watch's audit: {audits}")
if statuses and seqs and statuses[-1].get("last_seq") != seqs[-1]:
    problems.append(f"the offline status says last_seq {statuses[-1].get('last_seq')}, the last telemetry was {seqs[-1]}")

print(f"{sys.argv[2]} agent: {len(telemetry)} telemetry messages (seq {seqs[0] if seqs else '-'}..{seqs[-1] if seqs else '-'}), "
      f"{len(materials)} materials, {len(lines)} lines, {len(rows)} CSV rows, {len(statuses)} status messages")
for problem in problems:
    print("FAIL:", problem)
sys.exit(1 if problems else 0)
PY

if [ "$failures" -ne 0 ]; then
  echo "--- agent log"; tail -30 "$log"
  echo "--- plant-watch stderr"; cat "$work/watch.err"
fi
finish "$arch end to end"
