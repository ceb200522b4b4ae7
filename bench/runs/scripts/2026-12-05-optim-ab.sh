#!/bin/bash
# Interleaved one-epoch runs, old (e502245: the optimizer's update one element at a time)
# against new (b6513d7: vectorised, the same bits), 3 POS tagger rounds and one IMDB; then
# both train the POS tagger on 3,000 sentences for 2 epochs and save the model, and the two
# files must be byte for byte the same. OLD and NEW are build directories of those commits.
OLD=${OLD:-/tmp/bbase} NEW=${NEW:-/tmp/b26} DATA=${DATA:-/work/shared/data}
for r in 1 2 3; do
  for v in old new; do b=$OLD; [ $v = new ] && b=$NEW
    echo "pos $v $("$b/examples/pos_tagger" --data "$DATA" --epochs 1 --seed 1 --json 2>/dev/null | tail -1)"
  done
done
for v in old new; do b=$OLD; [ $v = new ] && b=$NEW
  echo "imdb $v $("$b/examples/sentiment" --dataset imdb --data "$DATA" --epochs 1 --seed 1 --json 2>/dev/null | tail -1)"
done
for v in old new; do b=$OLD; [ $v = new ] && b=$NEW
  "$b/examples/pos_tagger" --data "$DATA" --limit 3000 --epochs 2 --seed 3 --save "/tmp/pos_$v.rnn" --json 2>/dev/null | tail -1
done
cmp "/tmp/pos_old.rnn" "/tmp/pos_new.rnn" && echo "saved models identical"
