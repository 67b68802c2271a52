#!/usr/bin/env bash
# Makes the seed corpora under tests/fuzz/corpus/<target>/ from the real
# binaries: a private Mosquitto, the agent in plant and Sparkplug mode, and its
# spool. Run once by a developer (needs a build in $BUILD_DIR); the seeds are
# committed, so scripts/fuzz and the unit tests never run this.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
corpus=tests/fuzz/corpus
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$work/m.conf"
mosquitto -c "$work/m.conf" >/dev/null 2>&1 &
sleep 0.5

# A byte in front of the input picks the target's variant (see fuzz_targets.cpp).
seed() { local target=$1 name=$2 mode=$3; shift 3; mkdir -p "$corpus/$target"
  { printf "\\x$(printf %02x "$mode")"; cat "$@"; } > "$corpus/$target/$name"; }

agent_config() { # $1 name, $2 format, $3 extra
  cat <<TOML
[agent]
id = "$1"
site = "seed"
state_dir = "$work/$1-state"
[mqtt]
url = "tcp://127.0.0.1:$port"
format = "$2"
publish_interval = "200ms"
[spool]
segment_bytes = "8KiB"
[[source.simulator]]
name = "sim"
seed = 3
lines = 2
materials = 3
interval = "1s"
speed = 20.0
[[material]]
id = "resin-pellets"
unit = "kg"
lead_time = "1h"
$3
TOML
}

# plant.v1 envelopes as the broker delivers them, one per file.
agent_config plant plant "" > "$work/plant.toml"
for topic in telemetry status alerts; do
  mosquitto_sub -p "$port" -t "plant/v1/seed/plant/$topic" -C 1 -N > "$work/$topic.bin" &
done
"$BUILD_DIR/plant-agent" --config "$work/plant.toml" 2>/dev/null &
agent=$!
sleep 4
kill $agent; wait $agent || true
seed fuzz_envelope telemetry 0 "$work/telemetry.bin"
seed fuzz_envelope status 1 "$work/status.bin"
[ -s "$work/alerts.bin" ] && seed fuzz_envelope alert 2 "$work/alerts.bin"

# Sparkplug payloads of each message type.
agent_config sp sparkplug "" > "$work/sp.toml"
for type in NBIRTH DBIRTH DDATA NDEATH; do
  case $type in D*) filter="spBv1.0/seed/$type/sp/+";; *) filter="spBv1.0/seed/$type/sp";; esac
  mosquitto_sub -p "$port" -t "$filter" -C 1 -N > "$work/$type.bin" &
done
sleep 0.3
"$BUILD_DIR/plant-agent" --config "$work/sp.toml" 2>/dev/null &
agent=$!
sleep 3
kill $agent; wait $agent || true
sleep 0.5
seed fuzz_sparkplug nbirth 0 "$work/NBIRTH.bin"
seed fuzz_sparkplug dbirth 2 "$work/DBIRTH.bin"
seed fuzz_sparkplug ddata 3 "$work/DDATA.bin"
seed fuzz_sparkplug ndeath 4 "$work/NDEATH.bin"
printf '{"online":true,"timestamp":1790000000000}' > "$work/state.json"
seed fuzz_sparkplug state 8 "$work/state.json"
seed fuzz_sparkplug state-to-agent $((8 + 9 * 11)) "$work/state.json"

# A spool left by an agent that never reached its broker, packed as the target reads it.
agent_config spool plant "" | sed "s|tcp://127.0.0.1:$port|tcp://127.0.0.1:1|" > "$work/spool.toml"
"$BUILD_DIR/plant-agent" --config "$work/spool.toml" 2>/dev/null &
agent=$!
sleep 3
kill -9 $agent; wait $agent 2>/dev/null || true
mkdir -p "$corpus/fuzz_spool_recovery"
python3 - "$work/spool-state/spool" "$corpus/fuzz_spool_recovery" <<'PY'
import os, re, struct, sys
spool, out = sys.argv[1], sys.argv[2]
packed = b""
for name in sorted(os.listdir(spool)):
    data = open(os.path.join(spool, name), "rb").read()[:65535]
    m = re.match(r"seg-0*(\d+)\.spool$", name)
    if m:
        packed += bytes([0]) + struct.pack("<H", int(m.group(1)) & 0xFFFF) + struct.pack("<H", len(data)) + data
    elif name == "ack":
        packed += bytes([1]) + struct.pack("<H", len(data)) + data
open(os.path.join(out, "agent-spool"), "wb").write(packed)
# The same cut short: a torn last segment.
open(os.path.join(out, "torn"), "wb").write(packed[:min(len(packed), 9000)])
PY

# Config files: the references and the demo, the register's too (mode 2), a --set
# override (mode 1), and the two inputs that reach undefined behaviour inside
# Debian's toml++ 3.3.0 unless refused first (issue 17, part 7).
seed fuzz_config agent-reference 0 config/plant-agent.toml
seed fuzz_config demo 0 config/demo.toml
seed fuzz_config register-reference 2 config/plant-register.toml
printf 'gw/2' > "$work/override"; seed fuzz_config override 1 "$work/override"
printf '\xef\xbb\xbbex' > "$work/bad-bom"; seed fuzz_config tomlpp-unreachable-bom 0 "$work/bad-bom"
printf '[\0' > "$work/nul"; seed fuzz_config tomlpp-assert-nul 0 "$work/nul"

# CSV: stock (mode 0), receipts (1, and 9 read in 8-byte pieces) and demand (2).
printf 'time,material,quantity,unit,location\n2026-10-01T00:00:00Z,resin,100.5,kg,bay-1\n1790812800,"film, clear",-1,kg,\n' > "$work/stock.csv"
seed fuzz_csv stock 0 "$work/stock.csv"
printf 'material,quantity,due,po,supplier\nresin,500,2026-10-02T00:00:00Z,PO-1,"ACME ""east"""\n' > "$work/receipts.csv"
seed fuzz_csv receipts 1 "$work/receipts.csv"
seed fuzz_csv receipts-in-pieces 9 "$work/receipts.csv"
printf 'material;quantity;from;to\r\nresin;40;2026-10-01T00:00:00Z;2026-10-03T00:00:00Z\r\n' > "$work/demand.csv"
seed fuzz_csv demand 6 "$work/demand.csv"

# Modbus: a type/order byte, a bit/area byte, scale and map flags, then four registers.
mkdir -p "$corpus/fuzz_modbus_decode"
printf '\x07\x00\x00\x01\x44\x9a\x50\x00\x00\x00\x00\x00' > "$corpus/fuzz_modbus_decode/float32-abcd"
printf '\x35\x80\x01\x03\x00\x01\xe2\x40\x00\x01\x00\x00' > "$corpus/fuzz_modbus_decode/int64-bit"
printf '\x18\x00\x06\x00\x7f\xf0\x00\x00\x00\x00\x00\x01' > "$corpus/fuzz_modbus_decode/float64-inf"

# HTTP requests as the register receives them.
mkdir -p "$corpus/fuzz_http_request"
printf 'GET /api/stock?site=north&material=resin&from=2026-10-01T00:00:00Z&step=60 HTTP/1.1\r\nHost: x\r\n\r\n' \
  > "$corpus/fuzz_http_request/get-stock"
printf 'POST /api/shortages/north/resin/snooze HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n{"until":"2026-10-02T00:00:00Z","note":"x"}' \
  > "$corpus/fuzz_http_request/post-snooze"
printf 'GET /material/north/%%C3%%A9t%%20%%zz HTTP/1.1\r\n\r\n' > "$corpus/fuzz_http_request/escapes"
