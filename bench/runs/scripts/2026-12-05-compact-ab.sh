#!/bin/bash
# Interleaved runs, old (ecbe242: the oneDNN kernels' sorted copies sized by the padded T x N
# grid) against new (the same copies sized by the rows the segments run): the examples'
# one-epoch training (peak RSS and time) and three rnn_bench cases. OLD and NEW are build
# directories of those commits, DATA ../shared/data; the examples' --json lines and
# rnn_bench's last line go to stdout, each prefixed with what ran.
OLD=${OLD:-/tmp/bbase} NEW=${NEW:-/tmp/b26} DATA=${DATA:-/work/shared/data}
run_pos() { "$1/examples/pos_tagger" --data "$DATA" --epochs 1 --seed 1 --json $2 2>/dev/null | tail -1; }
run_imdb() { "$1/examples/sentiment" --dataset imdb --data "$DATA" --epochs 1 --seed 1 --json $2 2>/dev/null | tail -1; }
for r in 1 2; do
  for v in old new; do b=$OLD; [ $v = new ] && b=$NEW; echo "pos $v w=0 $(run_pos "$b" "")"; done
done
for v in old new; do b=$OLD; [ $v = new ] && b=$NEW; echo "pos $v w=4 $(run_pos "$b" "--workspace-limit 4")"; done
for v in old new; do b=$OLD; [ $v = new ] && b=$NEW; echo "imdb $v w=0 $(run_imdb "$b" "")"; done
for r in 1 2 3; do
  for v in old new; do b=$OLD; [ $v = new ] && b=$NEW
    for c in train_lstm_T100_N64_I512_H512_L1_uni_varlen train_lstm_T50_N32_I50_H64_L1_bi train_lstm_T100_N64_I512_H512_L1_uni; do
      echo "bench $v $c $("$b/bench/rnn_bench" --threads 2 --case $c 2>&1 | tail -1)"
    done
  done
done
