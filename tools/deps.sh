#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs, with apt-get, the Debian packages (bookworm or trixie) librnn needs to build
# and test, skipping those already installed (idempotent). Run as root.
#   tools/deps.sh          build + test dependencies
#   tools/deps.sh --extra  also PyTorch and OpenBLAS (regenerating golden
#                          fixtures, benchmark comparisons, the Python
#                          binding's PyTorch parity test)
# python3-numpy is for the Python binding's tests (suite 'python').
# zlib1g-dev is for librnn-keras (meson -Dkeras, lib/keras; it reads HDF5 itself).
set -eu
pkgs="gcc g++ libc6-dev meson ninja-build pkg-config cmake libdnnl-dev check
python3 python3-numpy abigail-tools valgrind clang libclang-rt-dev make libjansson-dev zlib1g-dev"
# protobuf-c (library and protoc-c) and libonnx-dev's onnx.proto are for
# librnn-onnx (meson -Donnx, lib/onnx).
pkgs="$pkgs libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
# Open MPI (library, headers and mpirun) is for librnn-mpi (meson -Dmpi,
# lib/mpi) and its tests under mpirun; python3-mpi4py for the binding's test
# with an mpi4py communicator.
pkgs="$pkgs libopenmpi-dev openmpi-bin python3-mpi4py"
if [ "${1:-}" = "--extra" ]; then
    pkgs="$pkgs python3-torch libopenblas0-openmp"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "tools/deps.sh: missing packages:$missing" >&2
    echo "run as root, or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "tools/deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
