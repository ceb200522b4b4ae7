#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the ONNX reader's fuzz target (tests/fuzz/fuzz_onnx.c) with clang's
# libFuzzer, ASan and UBSan (librnn's and librnn-onnx's sources compiled in,
# instrumented, onnx.proto compiled by protoc-c), seeds it with the ONNX
# fixtures and fuzzes for a bounded time. Exits non-zero on any crash,
# sanitizer report, leak or allocation above the limits.
#   tools/fuzz-onnx.sh [SECONDS] [WORKDIR]      (defaults: 60, build-fuzz-onnx)
# Needs protobuf-c (libprotobuf-c-dev, protobuf-c-compiler) and libonnx-dev.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
work=${2:-build-fuzz-onnx}
proto=${ONNX_PROTO:-/usr/include/onnx/onnx.proto}
mkdir -p "$work/inc/rnn" "$work/corpus" "$work/pb"
ver=$(sed -n "s/^ *version : '\([0-9.]*\)',.*/\1/p" meson.build | head -n 1)
maj=${ver%%.*}; rest=${ver#*.}; min=${rest%%.*}; pat=${rest#*.}
sed -e "s/@MAJOR@/$maj/" -e "s/@MINOR@/$min/" -e "s/@PATCH@/$pat/" -e "s/@VERSION@/$ver/" \
    include/rnn/version.h.in > "$work/inc/rnn/version.h"
kinds=$(sed -n "/^layer_kinds = \[/,/^\]/s/^ *'\([a-z0-9_]*\)',*$/ RNN__KIND(\1)/p" lib/meson.build | tr -d '\n')
printf '#pragma once\n#define RNN__KINDS%s\n' "$kinds" > "$work/inc/layer_kinds.h"
protoc-c --proto_path="$(dirname "$proto")" --c_out="$work/pb" "$proto"
stem=$(basename "$proto" .proto)
cp tests/onnx/fixtures/*.onnx "$work/corpus/"
clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fvisibility=hidden -Iinclude -I"$work/inc" -Ilib -I"$work/pb" \
    -DRNN__ONNX_PB_H="\"$stem.pb-c.h\"" $(pkg-config --cflags jansson libprotobuf-c) \
    lib/*.c $(ls lib/[a-z]*/*.c | grep -v -e "^lib/keras/" -e "^lib/mpi/") "$work/pb/$stem.pb-c.c" tests/fuzz/fuzz_onnx.c \
    -o "$work/fuzz_onnx" \
    -ldnnl -lgomp -lpthread -lm $(pkg-config --libs jansson libprotobuf-c)
echo "fuzzing rnn_model_load_onnx_memory for ${secs}s"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    "$work/fuzz_onnx" -max_total_time="$secs" -max_len=16384 -rss_limit_mb=4096 \
    -malloc_limit_mb=1024 -print_final_stats=1 "$work/corpus"
