#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the librnn-keras fuzz target (tests/fuzz/fuzz_keras.c) with clang's
# libFuzzer, ASan and UBSan (librnn's and librnn-keras's sources compiled
# into it, instrumented, the HDF5 reader included; zlib and jansson are the
# system's), seeds it
# with the Keras fixtures (whole .keras files, their config.json, the
# weights files) and fuzzes for a bounded time. Exits non-zero on any crash,
# sanitizer report or leak.
#   tools/fuzz-keras.sh [SECONDS] [WORKDIR]       (defaults: 60, build-fuzz-keras)
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
work=${2:-build-fuzz-keras}
mkdir -p "$work/inc/rnn" "$work/corpus"
ver=$(sed -n "s/^ *version : '\([0-9.]*\)',.*/\1/p" meson.build | head -n 1)
maj=${ver%%.*}; rest=${ver#*.}; min=${rest%%.*}; pat=${rest#*.}
sed -e "s/@MAJOR@/$maj/" -e "s/@MINOR@/$min/" -e "s/@PATCH@/$pat/" -e "s/@VERSION@/$ver/" \
    include/rnn/version.h.in > "$work/inc/rnn/version.h"
kinds=$(sed -n "/^layer_kinds = \[/,/^\]/s/^ *'\([a-z0-9_]*\)',*$/ RNN__KIND(\1)/p" lib/meson.build | tr -d '\n')
printf '#pragma once\n#define RNN__KINDS%s\n' "$kinds" > "$work/inc/layer_kinds.h"
# -DRNN_KX_FUZZ_NO_CRC: the zip reader skips the CRC-32 check (see fuzz_keras.c).
# shellcheck disable=SC2086,SC2046
clang -std=c11 -DRNN_KX_FUZZ_NO_CRC -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -fvisibility=hidden -Iinclude -I"$work/inc" -Ilib \
    $(pkg-config --cflags jansson zlib) \
    lib/*.c $(ls lib/*/*.c | grep -v -e "^lib/onnx/" -e "^lib/mpi/") tests/fuzz/fuzz_keras.c -o "$work/fuzz_keras" \
    -ldnnl -lgomp -lpthread -lm $(pkg-config --libs jansson zlib)
fix=tests/keras_files/fixtures
for f in "$fix"/*.keras "$fix"/*.h5; do
    cp "$f" "$work/corpus/"
done
# Inputs that once crashed the readers: libFuzzer runs the corpus first, so
# each is re-checked on every run.
cp tests/fuzz/keras-regressions/* "$work/corpus/"
for f in "$fix"/*.keras; do
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("config.json"))' \
        "$f" > "$work/corpus/$(basename "$f" .keras).config.json"
done
echo "fuzzing librnn-keras (zip, config.json, HDF5) for ${secs}s"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    "$work/fuzz_keras" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 \
    -print_final_stats=1 "$work/corpus"
