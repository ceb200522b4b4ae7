#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Compiles the oneDNN backend (lib/backend/onednn*.c) against the C headers
# of newer oneDNN releases than the Debian ones CI builds with, so that an API
# change there shows up before a distribution ships it. Compile only
# (-fsyntax-only -Werror): the headers come from Intel's onednn-devel wheels
# on PyPI (headers only, ~200 KB each), whose libraries need a SYCL runtime
# this project does not install. Run from a configured tree:
#   tools/onednn-headers-check.sh [BUILD_DIR]     (default: build; for <rnn/version.h>)
# Wheels are cached in ${LIBRNN_CACHE:-/var/cache/librnn}/onednn-devel-VERSION.
# A version that cannot be downloaded (no network) is reported and skipped.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
cache=${LIBRNN_CACHE:-/var/cache/librnn}
# onednn-devel wheel version -> oneDNN version: 2025.3.0 -> 3.9.1, 2026.1.0 -> 3.13.2
versions="2025.3.0 2026.1.0"
cc=${CC:-cc}
status=0
for v in $versions; do
    dir="$cache/onednn-devel-$v"
    if [ ! -f "$dir/ok" ]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        if ! python3 -m pip download --no-deps -q -d "$dir" "onednn-devel==$v" >"$dir/pip.log" 2>&1; then
            echo "onednn-devel $v: cannot download (no network?), skipped"
            continue
        fi
        python3 -m zipfile -e "$dir"/onednn_devel-*.whl "$dir/x"
        touch "$dir/ok"
    fi
    inc=$(dirname "$(dirname "$(find "$dir/x" -path '*/include/oneapi/dnnl/dnnl.h' | head -n 1)")")
    inc=$(dirname "$inc")
    ver=$(sed -n 's/^#define DNNL_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
        "$inc/oneapi/dnnl/dnnl_version.h" | paste -sd. -)
    for f in lib/backend/onednn*.c; do
        # -fopenmp as in the library's build (its OpenMP pragmas are otherwise unknown)
        if ! "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter -fopenmp -fsyntax-only -I"$inc" -Iinclude \
            -I"$build/include" -Ilib "$f"; then
            status=1
            echo "oneDNN $ver (onednn-devel $v): $f does NOT compile"
        fi
    done
    [ "$status" = 0 ] && echo "oneDNN $ver (onednn-devel $v): lib/backend/onednn*.c compile with -Werror"
done
exit $status
