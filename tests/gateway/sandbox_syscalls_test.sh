#!/usr/bin/env bash
# ctest systemd.sandbox_syscalls: what the agent does in a real run fits the
# sandbox of systemd/plant-agent.service, which cannot be started here
# (no systemd as PID 1). The agent runs under strace with a simulator and a
# CSV drop against a private Mosquitto, serves /healthz, talks sd_notify to a
# socket standing in for systemd's (READY, WATCHDOG, RELOADING, STOPPING must
# all arrive), reloads on SIGHUP and stops on SIGTERM; then every system call it made must be allowed by
# the unit's SystemCallFilter= lines, every socket must be of a family in
# RestrictAddressFamilies=, and no mapping may be writable and executable
# (MemoryDenyWriteExecute=yes). A call outside the filter would fail with
# EPERM under systemd, and the agent would misbehave in the field only.
#   sandbox_syscalls_test.sh SOURCE_DIR AGENT_BINARY
# Exit 77 (ctest: skipped) when strace is missing or cannot trace here.
set -euo pipefail

source_dir=$1
agent_binary=$2
unit=$source_dir/systemd/plant-agent.service
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"

if ! command -v strace >/dev/null || ! strace -f -o /dev/null true 2>/dev/null; then
  echo "SKIPPED: strace is missing or may not trace processes here (scripts/deps installs it)"
  exit 77
fi

work=$(mktemp -d -t plant-sandbox-test.XXXXXX)
broker_pid=""
tracer_pid=""
notify_pid=""
cleanup() {
  set +e
  [ -n "$tracer_pid" ] && kill -KILL "$tracer_pid" 2>/dev/null
  [ -n "$notify_pid" ] && kill -TERM "$notify_pid" 2>/dev/null
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null
  wait 2>/dev/null || true
  [ -n "${PLANT_KEEP_TMP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# expand_group @NAME: the system calls of a systemd group, nested groups expanded.
expand_group() {
  systemd-analyze syscall-filter "$1" |
    awk 'NR == 1 { next } /^@/ { exit } /^ +[@a-z_0-9]/ { print $1 }' |
    while read -r name; do
      case "$name" in @*) expand_group "$name" ;; *) echo "$name" ;; esac
    done
}
# expand_list "@group name ...": groups expanded, one call per line, sorted.
expand_list() {
  local item
  for item in $1; do
    case "$item" in @*) expand_group "$item" ;; *) echo "$item" ;; esac
  done | sort -u
}

allowed_spec=$(sed -n 's/^SystemCallFilter=\([^~].*\)$/\1/p' "$unit" | tr '\n' ' ')
denied_spec=$(sed -n 's/^SystemCallFilter=~\(.*\)$/\1/p' "$unit" | tr '\n' ' ')
families=$(sed -n 's/^RestrictAddressFamilies=\(.*\)$/\1/p' "$unit")
if [ -z "$allowed_spec" ] || [ -z "$families" ]; then
  echo "FAIL: $unit has no SystemCallFilter= allow list or no RestrictAddressFamilies="
  exit 1
fi
expand_list "$allowed_spec" > "$work/allowed"
expand_list "$denied_spec" > "$work/denied"

port=$(free_port)
health_port=$(free_port)
broker_pid=$(start_broker "$work/broker" "$port")
wait_for_port "$port" 10
mkdir -p "$work/drop"
cat > "$work/agent.toml" <<CONF
[agent]
id = "sandbox"
site = "test"
state_dir = "$work/state"
heartbeat_interval = "1s"

[mqtt]
url = "tcp://127.0.0.1:$port"
publish_interval = "200ms"

[health]
listen = "127.0.0.1:$health_port"

[[source.simulator]]
name = "sim"
lines = 2
materials = 3
interval = "1s"
speed = 10.0

[[source.csv]]
name = "drop"
directory = "$work/drop"
interval = "100ms"
settle_time = "0s"
after = "delete"
CONF

# systemd's side of sd_notify: a datagram socket that logs what arrives,
# and a watchdog period short enough to see WATCHDOG=1 within the run.
socat -u "UNIX-RECV:$work/notify.sock" "OPEN:$work/notify.log,creat,append" &
notify_pid=$!
wait_for 10 test -S "$work/notify.sock" || fail "socat made no notify socket"
NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=1000000 \
  strace -f -qq -o "$work/trace" "$agent_binary" --config "$work/agent.toml" 2> "$work/agent.log" &
tracer_pid=$!
log=$work/agent.log
wait_for 30 file_has "$log" "connected to" || fail "the agent never connected; log:"$'\n'"$(cat "$log")"

printf 'material,quantity,unit,location,time\nresin,12.5,kg,A-01,2026-11-20T08:00:00Z\n' > "$work/export.tmp"
mv "$work/export.tmp" "$work/drop/export.csv"
wait_for 20 test ! -e "$work/drop/export.csv" || fail "the CSV drop was never read"

# WATCHDOG_USEC=1s: a ping every 0.5 s from the event loop.
wait_for 10 file_has "$work/notify.log" "WATCHDOG=1" ||
  fail "systemd was never sent WATCHDOG=1; it got: $(tr '\n' ' ' < "$work/notify.log")"

if command -v curl >/dev/null; then
  curl -s --max-time 5 "http://127.0.0.1:$health_port/healthz" > "$work/healthz" || fail "GET /healthz failed"
fi

agent_pid=$(pgrep -P "$tracer_pid" -x plant-agent || true)
if [ -z "$agent_pid" ]; then
  fail "no plant-agent process under strace"
else
  kill -HUP "$agent_pid"
  wait_for 20 file_has "$log" "reloaded" || fail "no reload after SIGHUP; log:"$'\n'"$(cat "$log")"
fi
# strace ends when the agent does and passes on its exit status.
[ -n "$agent_pid" ] && kill -TERM "$agent_pid"
wait_child "$tracer_pid" 20
tracer_pid=""
[ "$stopped_status" -eq 0 ] || fail "the agent exited with status $stopped_status on SIGTERM; log:"$'\n'"$(tail -20 "$log")"
for message in READY=1 RELOADING=1 STOPPING=1; do
  file_has "$work/notify.log" "$message" || fail "systemd was never sent $message; it got: $(tr '\n' ' ' < "$work/notify.log")"
done
kill -TERM "$notify_pid" 2>/dev/null || true

# Lines look like "1234 name(args) = ret", "1234 <... name resumed>...",
# "1234 +++ exited with 0 +++" or "1234 --- SIGHUP {...} ---".
sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z0-9_]+) resumed>.*/\1/; s/^([a-z0-9_]+)\(.*/\1/' "$work/trace" |
  grep -E '^[a-z0-9_]+$' | sort -u > "$work/used"
# strace's own execve of the agent is the first line; systemd has done that part.
used_count=$(wc -l < "$work/used")
echo "the agent made $used_count distinct system calls"
outside=$(comm -23 "$work/used" "$work/allowed" | grep -vx execve || true)
[ -z "$outside" ] || fail "system calls outside SystemCallFilter=$allowed_spec: $(tr '\n' ' ' <<<"$outside")"
denied=$(comm -12 "$work/used" "$work/denied" || true)
[ -z "$denied" ] || fail "system calls in SystemCallFilter=~$denied_spec: $(tr '\n' ' ' <<<"$denied")"

# strace pads the pid column ("5711  socket(" but "12345 socket("), so any run of spaces.
socket_families=$(grep -oE '^[0-9]+ +socket\((AF_[A-Z0-9]+|PF_[A-Z0-9]+)' "$work/trace" | sed -E 's/.*\(//' | sort -u | tr '\n' ' ' || true)
echo "socket families used: $socket_families"
# The agent must have opened its broker connection: an empty list means the check saw nothing.
case " $socket_families " in
  *" AF_INET "*) ;;
  *) fail "no AF_INET socket in the trace: the family check would have checked nothing" ;;
esac
for family in $socket_families; do
  case " $families " in
    *" $family "*) ;;
    *) fail "a socket of family $family, not in RestrictAddressFamilies=$families" ;;
  esac
done

wx=$(grep -E '(mmap|mprotect|pkey_mprotect)\(.*PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE' "$work/trace" | head -3 || true)
[ -z "$wx" ] || fail "writable and executable memory (MemoryDenyWriteExecute=yes forbids it): $wx"

finish "sandbox"
