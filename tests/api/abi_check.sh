#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Compares the ABI of the built librnn.so with the committed baseline using
# libabigail's abidiff. Any change to released symbols or types fails; additions are
# reported and pass (a release then refreshes the baseline: docs/abi.md).
# usage: abi_check.sh LIB BASELINE.abi PUBLIC_HEADERS_DIR
set -u
lib=$1 baseline=$2 headers=$3
if ! command -v abidw >/dev/null 2>&1 || ! command -v abidiff >/dev/null 2>&1; then
    echo "abidw/abidiff not installed (Debian package abigail-tools): skipping"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
abidw --headers-dir "$headers" --drop-private-types --no-corpus-path --out-file "$tmp/current.abi" "$lib" || exit 1
abidiff --no-added-syms "$baseline" "$tmp/current.abi" > "$tmp/report" 2>&1
rc=$?
cat "$tmp/report"
# abidiff exit status bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
# With --no-added-syms, additions are not changes; anything else (a removed
# symbol, a changed signature or type) fails: released signatures never change.
if [ $((rc & 3)) -ne 0 ]; then
    echo "abidiff failed to run (status $rc)"; exit 1
fi
if [ $((rc & 12)) -ne 0 ]; then
    echo "ABI CHANGE against $baseline: released symbols and types must not change (docs/abi.md)"
    exit 1
fi
abidiff "$baseline" "$tmp/current.abi" > "$tmp/added" 2>&1
[ $(( $? & 4 )) -ne 0 ] && { echo "symbols added since the baseline (compatible):"; grep -E "added|^  \[A\]" "$tmp/added"; }
echo "ABI compatible with $(basename "$baseline")"
exit 0
