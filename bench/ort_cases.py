#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""rnn_bench's inference cases in ONNX Runtime (its Python API), for
bench/run_all.py: one case per process, one JSON line like `rnn_bench --json`.

  # once: the PyTorch layer of the case, exported by torch.onnx.export
  /var/cache/librnn/peers/bin/python bench/ort_cases.py --export NAME --onnx FILE
  # timed (imports onnxruntime and numpy only, not torch)
  /var/cache/librnn/peers/bin/python bench/ort_cases.py --case NAME --onnx FILE \
      [--threads N] [--runs R] [--warmup W]

Needs the peers' virtual environment (bench/requirements.txt). infer_step_*:
an LSTM or GRU on T=1, N=1 whose state outputs are fed back as the next
call's state inputs; infer_batch_*: the whole (N, T, I) batch, every step's
output. Session: intra_op_num_threads N, inter_op_num_threads 1, sequential
execution, default graph optimizations, CPU execution provider.
"""
import argparse
import json
import statistics
import sys
import time


def export(name, path):
    """The case's torch.nn.LSTM/GRU (batch_first) as an ONNX model."""
    import torch
    p = {s[0]: int(s[1:]) for s in name.split("_")
         if len(s) > 1 and s[0] in "TNIH" and s[1:].isdigit()}
    lstm = "_lstm_" in name
    torch.manual_seed(0)
    net = (torch.nn.LSTM if lstm else torch.nn.GRU)(p["I"], p["H"], batch_first=True)

    class Step(torch.nn.Module):  # state in, state out
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x, *state):
            y, s = self.net(x, state if lstm else state[0])
            return (y,) + (tuple(s) if lstm else (s,))

    class Batch(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x)[0]

    nstate = 2 if lstm else 1
    if name.startswith("infer_step"):
        x = torch.randn(1, 1, p["I"])
        args = (x,) + tuple(torch.zeros(1, 1, p["H"]) for _ in range(nstate))
        names = ["x"] + [f"s{k}" for k in range(nstate)]
        outs = ["y"] + [f"s{k}_out" for k in range(nstate)]
        module = Step()
    else:
        args = (torch.randn(p["N"], p["T"], p["I"]),)
        names, outs, module = ["x"], ["y"], Batch()
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=names, output_names=outs,
                          dynamo=False)  # the TorchScript exporter: no onnxscript needed
    return sum(q.numel() for q in net.parameters())


def ort_case(name, path, threads, runs, warmup):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feed = {i.name: (rng.standard_normal(i.shape) if i.name == "x" else np.zeros(i.shape))
            .astype(np.float32) for i in sess.get_inputs()}
    states = [i.name for i in sess.get_inputs() if i.name != "x"]
    times = []
    for r in range(warmup + runs):
        t0 = time.perf_counter()
        out = sess.run(None, feed)
        for k, s in enumerate(states):  # carry the state to the next step
            feed[s] = out[1 + k]
        dt = (time.perf_counter() - t0) * 1e3
        if r >= warmup:
            times.append(dt)
    return times, ort.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", help="time this case")
    ap.add_argument("--export", metavar="CASE", help="write the ONNX model of CASE and stop")
    ap.add_argument("--onnx", required=True, help="the model file")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=201)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    if a.export:
        params = export(a.export, a.onnx)
        print(json.dumps({"case": a.export, "onnx": a.onnx, "params": params}))
        return 0
    if not a.case:
        ap.error("--case or --export")
    times, version = ort_case(a.case, a.onnx, a.threads, a.runs, a.warmup)
    print(json.dumps({"case": a.case, "threads": a.threads, "runs": len(times),
                      "median_ms": statistics.median(times), "min_ms": min(times),
                      "max_ms": max(times), "onnxruntime": version}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
