#!/bin/bash
# Whole IMDB trainings (the sentiment example's defaults) for seeds 1-6, two at a time on
# one thread each (--fixed-threads: the same bits as on 2 threads on an AVX-512 machine),
# with the example as committed (OLD) and with 2026-12-05-imdb-val-runs.patch applied
# (NEW, validation as runs of neighbouring reviews). OLD and NEW are build directories of
# those trees, DATA ../shared/data. Prints each run's epoch and test lines.
OLD=${OLD:-/tmp/b26} NEW=${NEW:-/tmp/bnew} DATA=${DATA:-/work/shared/data}
out=$(mktemp -d)
run() { "$2/examples/sentiment" --data "$DATA" --dataset imdb --seed "$3" --threads 1 \
          --fixed-threads --json > "$out/$1.json" 2> "$out/$1.err"; }
for s in 1 3 5; do
  for v in old new; do b=$OLD; [ $v = new ] && b=$NEW
    run "$v$s" "$b" "$s" & run "$v$((s + 1))" "$b" "$((s + 1))" & wait
  done
done
for v in old new; do for s in 1 2 3 4 5 6; do
  echo "== ${v^^} seed $s"; grep -h "^imdb epoch\|^imdb: test" "$out/$v$s.err"
done; done
