#!/bin/bash
# Interleaved rounds: old (38de369) public API, new (011bf15) public API, new raw kernels;
# the training cases at 2 threads, the small BiLSTM also at 1 thread. OLD and NEW are build
# directories of those commits; one JSON object a line in OUT.
OLD=${OLD:-/tmp/b_old} NEW=${NEW:-/tmp/b26} OUT=${OUT:-/tmp/backward-rows-ab.jsonl} R=${R:-7}
: > "$OUT"
for r in $(seq 1 "$R"); do
  for c in train_lstm_T100_N64_I512_H512_L1_uni train_gru_T100_N64_I512_H512_L1_uni \
           train_lstm_T100_N64_I256_H256_L2_uni train_lstm_T50_N32_I50_H64_L1_bi \
           train_lstm_T100_N64_I512_H512_L1_uni_varlen; do
    case $c in *T50*) runs=200 warm=20 threads="2 1";; *) runs=10 warm=3 threads=2;; esac
    for th in $threads; do
      for v in old new kernel; do
        case $v in old) b=$OLD/bench/rnn_bench;; new) b=$NEW/bench/rnn_bench;;
                   kernel) b=$NEW/bench/kernel_bench;; esac
        "$b" --json --threads "$th" --runs $runs --warmup $warm --case $c |
          sed "s/^{/{\"v\":\"$v\",\"round\":$r,/" >> "$OUT"
      done
    done
  done
done
