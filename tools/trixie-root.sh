#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes (once) and updates a Debian trixie root for building and testing
# librnn against trixie's packages (oneDNN 3.x) on a bookworm host, the way
# sbuild or pbuilder would. Run as root. The root is cached outside the
# clone and reused; it is rebuilt when missing or incomplete.
#   tools/trixie-root.sh [ROOT]        default: ${LIBRNN_TRIXIE_ROOT:-/var/cache/librnn/trixie}
# Prints the root's path on its last line.
set -eu
root=${1:-${LIBRNN_TRIXIE_ROOT:-/var/cache/librnn/trixie}}
mirror=${LIBRNN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Build dependencies (debian/control's Build-Depends), the test suite's tools
# and what building and checking the Debian packages takes.
pkgs="build-essential debhelper dpkg-dev fakeroot lintian meson ninja-build pkg-config cmake
libdnnl-dev check libjansson-dev zlib1g-dev python3 python3-numpy python3-all dh-python
python3-setuptools abigail-tools"
# librnn-onnx (-Donnx): protobuf-c and the onnx.proto of libonnx-dev.
pkgs="$pkgs libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
# librnn-mpi (-Dmpi): Open MPI, and mpirun for its tests.
pkgs="$pkgs libopenmpi-dev openmpi-bin"
stamp="$root/.librnn-root"
want=$(echo "$pkgs" | tr -s ' \n' ' ')

if [ "$(id -u)" -ne 0 ]; then
    echo "tools/trixie-root.sh: debootstrap and chroot need root" >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
if [ ! -f "$stamp" ] || [ ! -x "$root/usr/bin/apt-get" ]; then
    echo "tools/trixie-root.sh: debootstrap --variant=minbase trixie $root"
    rm -rf "$root"
    mkdir -p "$(dirname "$root")"
    debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
        tail -n 20 "$root.debootstrap.log" >&2
        exit 1
    }
    : >"$stamp"
fi
if [ "$(cat "$stamp")" != "$want" ]; then
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    # shellcheck disable=SC2086
    if chroot "$root" sh -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
        apt-get install -y -qq --no-install-recommends $want >/dev/null"; then
        ok=1
    else
        ok=0
    fi
    umount "$root/proc" || true
    [ "$ok" = 1 ] || exit 1
    echo "$want" >"$stamp"
fi
echo "$root"
