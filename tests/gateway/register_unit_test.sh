#!/usr/bin/env bash
# ctest systemd.register_unit: systemd/plant-register.service passes
# `systemd-analyze verify` without a warning, keeps what the register relies
# on (its config path, Restart=always for its persistent session, its state
# directory for the journal), and is hardened like the agent's unit: an
# exposure of 1.5 or lower in `systemd-analyze security --offline=true`.
#   register_unit_test.sh SOURCE_DIR REGISTER_BINARY
set -euo pipefail

source_dir=$1
register_binary=$2
max_exposure=1.5
unit=$source_dir/systemd/plant-register.service
work=$(mktemp -d -t plant-register-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# shellcheck disable=SC2016 # $MAINPID is the unit's, not the shell's
for setting in 'ExecStart=/usr/bin/plant-register --config /etc/plant-register/plant-register.toml' \
  'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=always' 'User=plant-register' \
  'StateDirectory=plant-register' 'ConfigurationDirectory=plant-register' 'ProtectSystem=strict'; do
  grep -qxF "$setting" "$unit" || fail "$unit: no line '$setting'"
done
sed "s#^ExecStart=/usr/bin/plant-register #ExecStart=$register_binary #" "$unit" > "$work/plant-register.service"

output=$(systemd-analyze verify "$work/plant-register.service" 2>&1) || fail "systemd-analyze verify failed: $output"
[ -z "$output" ] || fail "systemd-analyze verify printed: $output"

report=$(systemd-analyze security --offline=true "$work/plant-register.service" 2>&1) || true
level=$(sed -n 's/.*Overall exposure level for plant-register.service: \([0-9.]*\).*/\1/p' <<<"$report")
if [ -z "$level" ]; then
  fail "no exposure level in: $report"
elif awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l <= m) }'; then
  echo "ok: exposure $level (at most $max_exposure)"
else
  fail "exposure $level, more than $max_exposure"
fi
if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "register unit: all checks passed"
