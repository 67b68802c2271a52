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

# --- the package tests (package_test.sh, register_package_test.sh) -------------
# Exits 77 (ctest: skipped) unless this is root and package $1 is not installed
# here: the test installs and purges its own.
skip_unless_package_can_be_tested() {
  local package=$1
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: installing the package needs root (CI runs as root)"
    exit 77
  fi
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q .; then
    echo "SKIPPED: a $package package is already on this machine ($(dpkg-query -W -f='${Version} ${Status}' "$package"));" \
      "this test installs and purges its own: dpkg --purge $package first"
    exit 77
  fi
}

# Builds the .debs of build tree $2 with CPack $1 into $3/dist and prints the path
# of package $4's; exits 1 with CPack's log when that fails.
build_package() {
  local cpack=$1 build_dir=$2 work=$3 package=$4
  (cd "$build_dir" && "$cpack" -G DEB -B "$work/dist" > "$work/cpack.log" 2>&1) || {
    echo "FAIL: cpack:" >&2; cat "$work/cpack.log" >&2; exit 1
  }
  ls "$work"/dist/"$package"_*.deb
}

# Installs .deb $1 of package $2 with dpkg (apt-get -f brings missing libraries,
# which CI machines have from scripts/deps); exits 1 unless it ends installed.
install_package() {
  local deb=$1 package=$2 work=$3 status
  if ! dpkg -i "$deb" > "$work/dpkg.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq >> "$work/dpkg.log" 2>&1 || true
  fi
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    echo "FAIL: dpkg -i left the package '$status':"; cat "$work/dpkg.log"; exit 1
  fi
}
