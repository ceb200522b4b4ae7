#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the model-loader fuzz target with clang's libFuzzer, ASan and UBSan
# (the library sources are compiled into it, instrumented), seeds it with
# real model files, and fuzzes for a bounded time. Exits non-zero on any
# crash, sanitizer report or leak.
#   tools/fuzz.sh [SECONDS] [WORKDIR]       (defaults: 60, build-fuzz)
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
work=${2:-build-fuzz}
mkdir -p "$work/inc" "$work/corpus"
# The generated version header, as meson would configure it.
ver=$(sed -n "s/^ *version : '\([0-9.]*\)',.*/\1/p" meson.build | head -n 1)
maj=${ver%%.*}; rest=${ver#*.}; min=${rest%%.*}; pat=${rest#*.}
mkdir -p "$work/inc/rnn"
sed -e "s/@MAJOR@/$maj/" -e "s/@MINOR@/$min/" -e "s/@PATCH@/$pat/" -e "s/@VERSION@/$ver/" \
    include/rnn/version.h.in > "$work/inc/rnn/version.h"
# The layer registry's list, as lib/meson.build generates it (layer_kinds).
kinds=$(sed -n "/^layer_kinds = \[/,/^\]/s/^ *'\([a-z0-9_]*\)',*$/ RNN__KIND(\1)/p" lib/meson.build | tr -d '\n')
printf '#pragma once\n#define RNN__KINDS%s\n' "$kinds" > "$work/inc/layer_kinds.h"
# lib/keras and lib/onnx (separate libraries) have their own targets: tools/fuzz-keras.sh, tools/fuzz-onnx.sh; lib/mpi (librnn-mpi) reads no files.
srcs=""
for f in lib/*.c lib/*/*.c; do
    case $f in lib/keras/*|lib/onnx/*|lib/mpi/*) ;; *) srcs="$srcs $f" ;; esac
done
# -DRNN__FUZZ_NO_CHECKSUM: the loader skips the file checksum, which would
# otherwise refuse almost every mutation before the parser sees it.
clang -std=c11 -DRNN__FUZZ_NO_CHECKSUM -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fvisibility=hidden -Iinclude -I"$work/inc" -Ilib $(pkg-config --cflags jansson) \
    $srcs tests/fuzz/fuzz_load.c -o "$work/fuzz_load" \
    -ldnnl -lgomp -lpthread -lm $(pkg-config --libs jansson)
echo "fuzzing rnn_model_load for ${secs}s"
RNN_FUZZ_SEED_DIR="$work/corpus" ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    "$work/fuzz_load" -max_total_time="$secs" -max_len=8192 -rss_limit_mb=4096 \
    -print_final_stats=1 "$work/corpus"
