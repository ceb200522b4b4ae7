#!/bin/bash
# Interleaved runs of the examples' one-epoch training, old (2fd0bd1: every block through
# malloc) against new (17ab825: blocks of 1 MiB and more mapped directly), and two
# rnn_bench cases. OLD and NEW are build directories of those commits, DATA ../shared/data;
# the examples' --json lines (rss_before_fit_mib, peak_rss_fit_mib) and rnn_bench's last line
# go to stdout, each prefixed with what ran.
OLD=${OLD:-/tmp/bbase} NEW=${NEW:-/tmp/b26} DATA=${DATA:-/work/shared/data}
run_pos() { "$1/examples/pos_tagger" --data "$DATA" --epochs 1 --seed 1 --json $2 2>/dev/null | tail -1; }
run_imdb() { "$1/examples/sentiment" --dataset imdb --data "$DATA" --epochs 1 --seed 1 --json $2 2>/dev/null | tail -1; }
for r in 1 2; do
  for w in 0 16 8; do
    a=""; [ "$w" -gt 0 ] && a="--workspace-limit $w"
    for v in old new; do b=$OLD; [ $v = new ] && b=$NEW; echo "pos $v w=$w $(run_pos "$b" "$a")"; done
  done
done
for w in 0 16; do
  a=""; [ "$w" -gt 0 ] && a="--workspace-limit $w"
  for v in old new; do b=$OLD; [ $v = new ] && b=$NEW; echo "imdb $v w=$w $(run_imdb "$b" "$a")"; done
done
for w in 4 2; do
  for v in old new; do b=$OLD; [ $v = new ] && b=$NEW; echo "pos $v w=$w $(run_pos "$b" "--workspace-limit $w")"; done
done
for r in 1 2 3; do
  for v in old new; do b=$OLD; [ $v = new ] && b=$NEW
    for c in train_lstm_T100_N64_I512_H512_L1_uni train_lstm_T50_N32_I50_H64_L1_bi; do
      echo "bench $v $c $("$b/bench/rnn_bench" --threads 2 --case $c 2>&1 | tail -1)"
    done
  done
done
