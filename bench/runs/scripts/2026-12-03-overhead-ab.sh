#!/bin/bash
# Interleaved rounds: old (9b6d67a) public API, new public API, new raw kernels; train cases at 2 threads;
# one-step cases: new (step path), new with RNN_STEP_KERNEL=0, old, kernel_bench (new: step path)
OUT=/tmp/idle/overhead.jsonl; : > $OUT
R=${R:-5}
for r in $(seq 1 $R); do
  for c in train_lstm_T100_N64_I512_H512_L1_uni train_gru_T100_N64_I512_H512_L1_uni train_lstm_T100_N64_I256_H256_L2_uni train_lstm_T50_N32_I50_H64_L1_bi train_lstm_T100_N64_I512_H512_L1_uni_varlen; do
    case $c in *T50*) runs=200; warm=20;; *) runs=10; warm=3;; esac
    for v in old new kernel; do
      case $v in old) b=/tmp/bold/bench/rnn_bench;; new) b=/tmp/b26/bench/rnn_bench;; kernel) b=/tmp/b26/bench/kernel_bench;; esac
      $b --json --threads 2 --runs $runs --warmup $warm --case $c | sed "s/^{/{\"v\":\"$v\",\"round\":$r,/" >> $OUT
    done
  done
  for th in 1 2; do
    for c in infer_step_lstm_N1_I256_H512 infer_step_gru_N1_I256_H512; do
      for v in new nostep old kernel; do
        e=""; case $v in old) b=/tmp/bold/bench/rnn_bench;; new) b=/tmp/b26/bench/rnn_bench;; nostep) b=/tmp/b26/bench/rnn_bench; e="RNN_STEP_KERNEL=0";; kernel) b=/tmp/b26/bench/kernel_bench;; esac
        env $e $b --json --threads $th --runs 3000 --warmup 300 --case $c | sed "s/^{/{\"v\":\"$v\",\"round\":$r,/" >> $OUT
      done
    done
  done
done
echo DONE >> /tmp/idle/overhead.done
