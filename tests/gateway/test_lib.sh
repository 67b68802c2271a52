# shellcheck shell=bash
# Shell helpers for the tests in tests/gateway (run by ctest); they add to
# scripts/lib.sh (free_port, wait_for_port, start_broker). Sets `failures`
# (fail, finish) and `stopped_status` (wait_child, stop_child) for the caller.
# shellcheck disable=SC2034
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

failures=0
# Records a failed check and goes on, so one run shows every failure.
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# Ends the test: exit 1 if any check failed.
finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$1: $failures check(s) failed"
    exit 1
  fi
  echo "$1: all checks passed"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds;
# returns 1 when SECONDS pass first.
wait_for() {
  local deadline=$(( SECONDS + $1 )); shift
  while (( SECONDS < deadline )); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  "$@"
}

# file_has FILE TEXT: FILE contains TEXT (a fixed string).
file_has() { [ -f "$1" ] && grep -qF -- "$2" "$1"; }

# wait_child PID SECONDS: waits for a child of this shell, SIGKILL after
# SECONDS; sets stopped_status to its exit status (137: it had to be killed).
wait_child() {
  local pid=$1 killer
  stopped_status=0
  ( sleep "$2" && kill -KILL "$pid" ) >/dev/null 2>&1 &
  killer=$!
  wait "$pid" 2>/dev/null || stopped_status=$?
  pkill -P "$killer" sleep 2>/dev/null || true
  wait "$killer" 2>/dev/null || true
}

# stop_child PID SECONDS: SIGTERM, then wait_child.
stop_child() {
  kill -TERM "$1" 2>/dev/null || true
  wait_child "$@"
}
