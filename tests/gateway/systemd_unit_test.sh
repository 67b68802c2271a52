#!/usr/bin/env bash
# ctest systemd.unit: systemd/plant-agent.service and its Modbus RTU drop-in
# pass `systemd-analyze verify` without a single warning, keep what the agent
# relies on (Type=notify, the watchdog, the config path), and stay at an
# exposure of 1.5 or lower in `systemd-analyze security --offline=true`.
#   systemd_unit_test.sh SOURCE_DIR AGENT_BINARY
set -euo pipefail

source_dir=$1
agent_binary=$2
max_exposure=1.5
unit=$source_dir/systemd/plant-agent.service
dropin=$source_dir/systemd/plant-agent-serial.conf

work=$(mktemp -d -t plant-systemd-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# verify checks that ExecStart's binary exists: a copy of the unit points
# at the binary of this build; nothing else changes.
grep -q '^ExecStart=/usr/bin/plant-agent ' "$unit" || fail "$unit: ExecStart does not run /usr/bin/plant-agent"
sed "s#^ExecStart=/usr/bin/plant-agent #ExecStart=$agent_binary #" "$unit" > "$work/plant-agent.service"

# shellcheck disable=SC2016 # $MAINPID is the unit's, not the shell's
for setting in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=30s' \
  'ExecStart=/usr/bin/plant-agent --config /etc/plant-agent/plant-agent.toml' \
  'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'RestartSec=5s' \
  'StateDirectory=plant-agent' 'ConfigurationDirectory=plant-agent' 'PrivateDevices=yes'; do
  grep -qxF "$setting" "$unit" || fail "$unit: no line '$setting'"
done

# systemd-analyze verify exits 0 on unknown keys and bad values and only
# prints them, so any output at all is a failure.
verify() {
  local label=$1; shift
  local output status=0
  output=$("$@" 2>&1) || status=$?
  if [ "$status" -ne 0 ] || [ -n "$output" ]; then
    fail "systemd-analyze verify ($label) exited $status:"$'\n'"$output"
  else
    echo "ok: systemd-analyze verify ($label)"
  fi
}
verify "unit" systemd-analyze verify "$work/plant-agent.service"

# The drop-in as an admin installs it: plant-agent.service.d/ beside the unit.
mkdir -p "$work/with-dropin/plant-agent.service.d"
cp "$work/plant-agent.service" "$work/with-dropin/"
cp "$dropin" "$work/with-dropin/plant-agent.service.d/serial.conf"
verify "unit + plant-agent-serial.conf" \
  env SYSTEMD_UNIT_PATH="$work/with-dropin:" systemd-analyze verify "$work/with-dropin/plant-agent.service"

exposure_of() {
  local report level
  report=$("$@" 2>&1) || true
  level=$(sed -n 's/.*Overall exposure level for plant-agent.service: \([0-9.]*\).*/\1/p' <<<"$report")
  if [ -z "$level" ]; then
    echo "no exposure level in: $report" >&2
    return 1
  fi
  echo "$level"
}
check_exposure() {
  local label=$1 level=$2
  if awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l <= m) }'; then
    echo "ok: exposure $level (at most $max_exposure) for $label"
  else
    fail "exposure $level for $label, more than $max_exposure; systemd-analyze security --offline=true lists what is open"
  fi
}
if level=$(exposure_of systemd-analyze security --offline=true "$work/plant-agent.service"); then
  check_exposure "plant-agent.service" "$level"
else
  fail "systemd-analyze security printed no exposure level"
fi
if level=$(exposure_of env SYSTEMD_UNIT_PATH="$work/with-dropin:" \
    systemd-analyze security --offline=true "$work/with-dropin/plant-agent.service"); then
  check_exposure "plant-agent.service + plant-agent-serial.conf" "$level"
else
  fail "systemd-analyze security printed no exposure level (with the drop-in)"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "systemd unit: all checks passed"
