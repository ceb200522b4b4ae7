#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds librnn and runs its whole test suite inside the Debian trixie root
# (oneDNN 3.x), with the README's test command. Run as root from a checkout.
#   tools/trixie-test.sh [--head] [ROOT]   default ROOT: ${LIBRNN_TRIXIE_ROOT:-/var/cache/librnn/trixie}
# The checkout's files (tracked and untracked, not ignored; with --head, the
# last commit's) are copied to ROOT/src/librnn; ../shared (the datasets) is bind-mounted read-only at
# ROOT/src/shared when present, so the data tests run instead of skipping.
set -eu
cd "$(dirname "$0")/.."
head=0
if [ "${1:-}" = "--head" ]; then
    head=1
    shift
fi
root=$(tools/trixie-root.sh "${1:-}" | tail -n 1)
src="$root/src/librnn"
cleanup() {
    umount "$root/src/shared" 2>/dev/null || true
    umount "$root/proc" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
rm -rf "$src"
mkdir -p "$src"
if [ "$head" = 1 ]; then
    git archive HEAD | tar -xf - -C "$src"
else
    git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$src"
fi
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
if [ -d ../shared/data ]; then
    mkdir -p "$root/src/shared"
    mount --bind -o ro ../shared "$root/src/shared" 2>/dev/null ||
        { mount --bind ../shared "$root/src/shared" && mount -o remount,bind,ro "$root/src/shared"; }
fi
chroot "$root" sh -ec '
cd /src/librnn
echo "Debian $(cat /etc/debian_version), $(dpkg-query -W -f="libdnnl-dev \${Version}" libdnnl-dev), meson $(meson --version)"
meson setup build -Dwerror=true >setup.log 2>&1 || { cat setup.log; exit 1; }
grep -E "^Message: oneDNN" setup.log
meson test -C build --print-errorlogs
tools/test-summary.py build'
