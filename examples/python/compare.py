#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs one example script on librnn.keras and on Keras 3, one after the other, and prints
their results side by side.

    compare.py SCRIPT [script flags...]     e.g. compare.py pos_tagger.py --epochs 2

librnn runs in this Python; Keras in $KERAS_PYTHON, else this Python if it imports keras,
else /var/cache/librnn/peers/bin/python; without one only librnn's column is shown.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def keras_python():
    for c in (os.environ.get("KERAS_PYTHON"), sys.executable, "/var/cache/librnn/peers/bin/python"):
        if c and os.path.exists(c) and subprocess.run(
                [c, "-c", "import keras, numpy"], capture_output=True).returncode == 0:
            return c
    return None


def run(python, argv):
    print("$", python, " ".join(argv), flush=True)
    p = subprocess.run([python, os.path.join(HERE, argv[0])] + argv[1:] + ["--json"],
                       stdout=subprocess.PIPE, text=True)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode or not lines:
        sys.exit("%s failed (exit status %d)" % (argv[0], p.returncode))
    return json.loads(lines[-1])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [run(sys.executable, sys.argv[1:])]
    kpy = keras_python()
    if kpy:
        results.append(run(kpy, sys.argv[1:] + ["--backend", "keras"]))
    else:
        print("Keras 3 is not importable (set KERAS_PYTHON): librnn only")
    keys = [k for k in results[0] if k not in ("example", "backend")]
    print("\n%-18s" % results[0]["example"] + "".join("%14s" % r["backend"] for r in results))
    for k in keys:
        print("%-18s" % k + "".join("%14s" % (("%.4f" % r[k]) if isinstance(r[k], float)
                                              and k != "train_seconds" else r[k])
                                    for r in results))


if __name__ == "__main__":
    main()
