#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a command inside the Debian trixie root, in the source tree that
# tools/trixie-test.sh copied there (ROOT/src/librnn), with /proc mounted
# (and /sys, read-only, which glibc's and oneDNN's CPU detection read).
#   tools/trixie-run.sh COMMAND [ARG...]     e.g. tools/trixie-run.sh build/bench/rnn_bench --list
# ROOT: ${LIBRNN_TRIXIE_ROOT:-/var/cache/librnn/trixie}. Environment variables
# named ONEDNN_*, OMP_*, GLIBC_TUNABLES and DNNL_* are passed through.
set -eu
root=${LIBRNN_TRIXIE_ROOT:-/var/cache/librnn/trixie}
if [ ! -d "$root/src/librnn" ]; then
    echo "tools/trixie-run.sh: no $root/src/librnn: run tools/trixie-test.sh first" >&2
    exit 1
fi
mounted=""
cleanup() {
    for m in $mounted; do umount "$m" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
if ! mountpoint -q "$root/proc"; then
    mount -t proc proc "$root/proc"
    mounted="$root/proc $mounted"
fi
if ! mountpoint -q "$root/sys"; then
    mount -t sysfs -o ro sysfs "$root/sys" 2>/dev/null && mounted="$root/sys $mounted"
fi
pass=$(env | grep -E '^(ONEDNN_|OMP_|DNNL_|GLIBC_TUNABLES=)' | tr '\n' ' ' || true)
# shellcheck disable=SC2086
chroot "$root" env $pass sh -c 'cd /src/librnn && exec "$@"' sh "$@"
