#!/usr/bin/env bash
# ctest package.register_install_purge: builds the plant-register .deb of this
# build tree with CPack, installs it with dpkg, checks what it put where
# (stripped binary, the conffile, the unit, the system user, libpq in
# Depends), runs `plant-register --check-config` on the installed config as
# root and as the service user, and checks that remove keeps config and
# journal and purge leaves nothing behind.
#   register_package_test.sh CPACK BUILD_DIR
# Needs root (dpkg); exit 77 (ctest: skipped) without it, or when a
# plant-register package is already installed here.
set -euo pipefail

cpack=$1
build_dir=$2
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"

skip_unless_package_can_be_tested plant-register

work=$(mktemp -d -t plant-register-package.XXXXXX)
installed=""
cleanup() {
  set +e
  [ -n "$installed" ] && dpkg --purge plant-register >/dev/null 2>&1
  [ -n "${PLANT_KEEP_TMP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

deb=$(build_package "$cpack" "$build_dir" "$work" plant-register)
echo "built $(basename "$deb"): $(stat -c %s "$deb") bytes"
depends=$(dpkg-deb -f "$deb" Depends)
for library in libpq5 libpaho-mqttpp3 libprotobuf-lite libstdc++6 adduser; do
  [[ "$depends" == *"$library"* ]] || fail "Depends lacks $library: $depends"
done
contents=$(dpkg-deb -c "$deb")
[[ "$contents" != *"plant-agent"* ]] || fail "the register package holds agent files: $contents"

installed=yes
install_package "$deb" plant-register "$work"
for file in /usr/bin/plant-register /etc/plant-register/plant-register.toml \
  /lib/systemd/system/plant-register.service /usr/share/doc/plant-register/README.md; do
  [ -f "$file" ] || fail "$file is not installed"
done
[[ "$(file -b /usr/bin/plant-register)" == *", stripped"* ]] || fail "/usr/bin/plant-register is not stripped"
dpkg-query -W -f='${Conffiles}\n' plant-register | grep -q '^ /etc/plant-register/plant-register.toml ' ||
  fail "/etc/plant-register/plant-register.toml is not a conffile"
cmp -s /etc/plant-register/plant-register.toml "$(dirname "$0")/../../config/plant-register.toml" ||
  fail "the installed config is not config/plant-register.toml"
uid=$(id -u plant-register 2>/dev/null || echo none)
[ "$uid" != none ] || fail "postinst did not create the plant-register user"
[ "$uid" = none ] || [ "$uid" -lt 1000 ] || fail "plant-register is not a system user (uid $uid)"
check=$(/usr/bin/plant-register --check-config /etc/plant-register/plant-register.toml 2>&1) ||
  fail "plant-register --check-config failed: $check"
echo "root: $check"
if [ "$uid" != none ]; then
  check=$(runuser -u plant-register -- /usr/bin/plant-register --check-config /etc/plant-register/plant-register.toml 2>&1) ||
    fail "as user plant-register, --check-config failed: $check"
  echo "plant-register: $check"
fi
if ! verify=$(systemd-analyze verify /lib/systemd/system/plant-register.service 2>&1) || [ -n "$verify" ]; then
  fail "systemd-analyze verify on the installed unit: $verify"
fi

mkdir -p /var/lib/plant-register/journal
echo journaled > /var/lib/plant-register/journal/segment
dpkg --remove plant-register > "$work/remove.log" 2>&1 || fail "dpkg --remove failed: $(cat "$work/remove.log")"
[ ! -e /usr/bin/plant-register ] || fail "remove left /usr/bin/plant-register"
[ -f /etc/plant-register/plant-register.toml ] || fail "remove deleted the conffile"
[ -f /var/lib/plant-register/journal/segment ] || fail "remove deleted the journal"
dpkg --purge plant-register > "$work/purge.log" 2>&1 || fail "dpkg --purge failed: $(cat "$work/purge.log")"
installed=""
for path in /etc/plant-register /var/lib/plant-register /usr/share/doc/plant-register /usr/bin/plant-register \
  /lib/systemd/system/plant-register.service; do
  [ ! -e "$path" ] || fail "purge left $path"
done
! getent passwd plant-register >/dev/null || fail "purge left the plant-register user"
finish "register package"
