#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A model trained in PyTorch, exported as ONNX and loaded by the example
programs gets the test accuracy PyTorch measured (issue 18), in small:

  torch_onnx_load.py DATA_DIR BENCH_DIR POS_TAGGER SENTIMENT

For the POS tagger (600 sentences) and the sentiment classifier (the UCI
sentences), each with 1 epoch: the example writes its training and test
splits (--dump-encoded), bench/torch_*.py trains the same model in PyTorch,
reports its test accuracy on the dumped test split (--test) and exports it
(--export-onnx), then `EXAMPLE --load FILE.onnx --evaluate` reads the data
again, encodes the same test split with the model's vocabulary and
evaluates it with librnn. The counts of correct tags (sentences) must be
equal: both compute the same network on each sample's real steps (PyTorch
on packed sequences, librnn given the lengths). The full-size runs are in
examples/*/README.md.

Needs torch and onnx: the Python running this, else $RNN_TORCH_PYTHON, else
the peers venv /var/cache/librnn/peers/bin/python; skipped (77) with a
message when none has them, or when the data folder (DATA_DIR, else
$LIBRNN_DATA) is absent.
"""
import json
import os
import subprocess
import sys
import tempfile

PEERS = "/var/cache/librnn/peers/bin/python"


def torch_python():
    for py in (sys.executable, os.environ.get("RNN_TORCH_PYTHON"), PEERS):
        if py and os.path.exists(py):
            r = subprocess.run([py, "-c", "import torch, onnx"], capture_output=True)
            if r.returncode == 0:
                return py
    return None


def last_json(text):
    lines = [line for line in text.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        raise SystemExit(f"FAILED: {' '.join(cmd)} exited with {p.returncode}")
    return p


def case(name, py, script, program, data, args, key, d):
    dump = os.path.join(d, name + ".dump")
    onnx_path = os.path.join(d, name + ".onnx")
    common = ["--data", data, "--threads", "1"] + args
    run([program] + common + ["--dump-encoded", dump])
    t = last_json(run([py, script, "--dump", dump, "--threads", "1", "--epochs", "1", "--test",
                       "--export-onnx", onnx_path, "--json"]).stdout)
    c = last_json(run([program, "--load", onnx_path, "--evaluate", "--json"] + common).stdout)
    if t is None or c is None or "test_correct" not in t:
        raise SystemExit(f"FAILED: {name}: no test figures (PyTorch {t}, librnn {c})")
    got = c if key is None else c[key][0]
    n_c = got.get("test_tokens", got.get("test_samples"))
    ok = t["test_correct"] == got["test_correct"] and t["test_count"] == n_c
    print(f"{'ok' if ok else 'FAILED'}: {name}: PyTorch {t['test_correct']} of "
          f"{t['test_count']} ({t['test_accuracy']:.6f}), librnn --load .onnx --evaluate "
          f"{got['test_correct']} of {n_c} ({got['test_accuracy']:.6f})")
    return ok


def main():
    data, bench, pos, sent = sys.argv[1:5]
    if not os.path.isdir(data):
        data = os.environ.get("LIBRNN_DATA", "")
    if not data or not os.path.isdir(data):
        print(f"{sys.argv[1]} is absent and LIBRNN_DATA names no folder: skipped")
        return 77
    py = torch_python()
    if not py:
        print("SKIP: no Python with torch and onnx (set RNN_TORCH_PYTHON to one)")
        return 77
    with tempfile.TemporaryDirectory() as d:
        ok = case("pos", py, os.path.join(bench, "torch_pos_tagger.py"), pos, data,
                  ["--limit", "600", "--seed", "2"], None, d)
        ok &= case("uci", py, os.path.join(bench, "torch_imdb.py"), sent, data,
                   ["--dataset", "uci", "--seed", "2"], "datasets", d)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
