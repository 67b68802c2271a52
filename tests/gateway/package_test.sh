#!/usr/bin/env bash
# ctest package.install_purge: builds the .deb of this build tree with CPack,
# installs it on this machine with dpkg, checks what it put where (stripped
# binaries, the conffile, the unit, the system user, shlibdeps Depends),
# runs `plant-agent --check-config` on the installed config as root and as
# the service user, checks that an upgrade keeps a locally edited conffile,
# that remove keeps config and state, and that purge leaves nothing behind.
#   package_test.sh CPACK BUILD_DIR
# Needs root (dpkg); exit 77 (ctest: skipped) without it, or when a
# plant-agent package is already installed here (it would be purged).
set -euo pipefail

cpack=$1
build_dir=$2
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"

skip_unless_package_can_be_tested plant-agent

work=$(mktemp -d -t plant-package-test.XXXXXX)
installed=""
cleanup() {
  set +e
  [ -n "$installed" ] && dpkg --purge plant-agent >/dev/null 2>&1
  [ -n "${PLANT_KEEP_TMP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

deb=$(build_package "$cpack" "$build_dir" "$work" plant-agent)
echo "built $(basename "$deb"): $(stat -c %s "$deb") bytes"

depends=$(dpkg-deb -f "$deb" Depends)
for library in libpaho-mqttpp3 libprotobuf-lite libtomlplusplus libstdc++6 libc6; do
  [[ "$depends" == *"$library"* ]] || fail "Depends lacks $library (dpkg-shlibdeps): $depends"
done

installed=yes
install_package "$deb" plant-agent "$work"

for file in /usr/bin/plant-agent /usr/bin/plant-watch /etc/plant-agent/plant-agent.toml \
  /lib/systemd/system/plant-agent.service /usr/share/doc/plant-agent/examples/plant-agent-serial.conf; do
  [ -f "$file" ] || fail "$file is not installed"
done
for binary in /usr/bin/plant-agent /usr/bin/plant-watch; do
  description=$(file -b "$binary")
  [[ "$description" == *", stripped"* ]] || fail "$binary is not stripped: $description"
done
dpkg-query -W -f='${Conffiles}\n' plant-agent | grep -q '^ /etc/plant-agent/plant-agent.toml ' ||
  fail "/etc/plant-agent/plant-agent.toml is not a conffile"
cmp -s /etc/plant-agent/plant-agent.toml "$(dirname "$0")/../../config/plant-agent.toml" ||
  fail "the installed config is not config/plant-agent.toml"
uid=$(id -u plant-agent 2>/dev/null || echo none)
if [ "$uid" = none ]; then
  fail "postinst did not create the plant-agent user"
elif [ "$uid" -ge 1000 ]; then
  fail "plant-agent is not a system user (uid $uid)"
fi

version=$(/usr/bin/plant-agent --version 2>&1 || true)
[ "$version" = "plant-agent $(dpkg-query -W -f='${Version}' plant-agent | sed 's/-[^-]*$//')" ] ||
  fail "plant-agent --version says '$version'"
check=$(/usr/bin/plant-agent --check-config /etc/plant-agent/plant-agent.toml 2>&1) ||
  fail "plant-agent --check-config /etc/plant-agent/plant-agent.toml failed: $check"
echo "root: $check"
if [ "$uid" != none ]; then
  # The unit runs it as plant-agent: the config must be readable to that user.
  check=$(runuser -u plant-agent -- /usr/bin/plant-agent --check-config /etc/plant-agent/plant-agent.toml 2>&1) ||
    fail "as user plant-agent, --check-config failed: $check"
  echo "plant-agent: $check"
fi
if ! verify=$(systemd-analyze verify /lib/systemd/system/plant-agent.service 2>&1) || [ -n "$verify" ]; then
  fail "systemd-analyze verify on the installed unit: $verify"
fi

# An upgrade (here: the same package again) keeps a locally edited conffile
# without asking; stdin is closed, so a prompt would fail the install.
echo '# edited on site' >> /etc/plant-agent/plant-agent.toml
dpkg -i "$deb" < /dev/null > "$work/upgrade.log" 2>&1 || fail "reinstalling failed: $(cat "$work/upgrade.log")"
tail -1 /etc/plant-agent/plant-agent.toml | grep -qx '# edited on site' || fail "the upgrade replaced the edited config"

# What the running agent leaves: its spool (systemd's StateDirectory=).
mkdir -p /var/lib/plant-agent/spool
echo spooled > /var/lib/plant-agent/spool/segment
chown -R plant-agent:plant-agent /var/lib/plant-agent 2>/dev/null || true

dpkg --remove plant-agent > "$work/remove.log" 2>&1 || fail "dpkg --remove failed: $(cat "$work/remove.log")"
status=$(dpkg-query -W -f='${Status}' plant-agent 2>/dev/null || true)
[ "$status" = "deinstall ok config-files" ] || fail "after remove the package is '$status', not config-files"
for file in /usr/bin/plant-agent /usr/bin/plant-watch /lib/systemd/system/plant-agent.service; do
  [ ! -e "$file" ] || fail "remove left $file"
done
grep -qx '# edited on site' /etc/plant-agent/plant-agent.toml 2>/dev/null || fail "remove did not keep the edited conffile"
[ -f /var/lib/plant-agent/spool/segment ] || fail "remove deleted the spool"

dpkg --purge plant-agent > "$work/purge.log" 2>&1 || fail "dpkg --purge failed: $(cat "$work/purge.log")"
installed=""
status=$(dpkg-query -W -f='${Status}' plant-agent 2>/dev/null || true)
[ -z "$status" ] || fail "after purge dpkg still knows the package: '$status'"
for path in /etc/plant-agent /var/lib/plant-agent /usr/share/doc/plant-agent /usr/bin/plant-agent \
  /lib/systemd/system/plant-agent.service; do
  [ ! -e "$path" ] || fail "purge left $path"
done
! getent passwd plant-agent >/dev/null || fail "purge left the plant-agent user"
! getent group plant-agent >/dev/null || fail "purge left the plant-agent group"

finish "package"
