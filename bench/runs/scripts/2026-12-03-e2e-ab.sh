#!/bin/bash
# POS tagger, 2 epochs, old vs new alternating; IMDB sentiment 1 epoch old vs new
export LIBRNN_DATA=/work/shared/data
OUT=/tmp/idle/e2e.jsonl; : > $OUT
for r in 1 2 3; do
  for v in old new; do
    b=/tmp/b26; [ $v = old ] && b=/tmp/bold
    /usr/bin/time -f '%e' $b/examples/pos_tagger --epochs 2 --json 2>/tmp/idle/pos.$v.$r.err | sed "s/^{/{\"v\":\"$v\",\"round\":$r,\"ex\":\"pos\",/" >> $OUT
  done
done
for r in 1 2; do
  for v in old new; do
    b=/tmp/b26; [ $v = old ] && b=/tmp/bold
    $b/examples/sentiment --dataset imdb --epochs 1 --json 2>/tmp/idle/imdb.$v.$r.err | sed "s/^{/{\"v\":\"$v\",\"round\":$r,\"ex\":\"imdb\",/" >> $OUT
  done
done
echo DONE > /tmp/idle/e2e.done
