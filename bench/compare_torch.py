#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs rnn_bench's cases in librnn and in PyTorch, in the same run, and
prints medians side by side with the speed-up of librnn over PyTorch.

  /usr/bin/python3 bench/compare_torch.py --bench build/bench/rnn_bench \
      [--threads 2] [--runs 7] [--case SUBSTR] [--markdown FILE]

Needs Debian's python3-torch (with libopenblas0-openmp as its BLAS). The
PyTorch side mirrors rnn_bench exactly: same shapes, batch_first input,
training step = forward + backward from a fixed output gradient + SGD step
+ zero_grad; varlen packs the same lengths (bench/bench_common.h: 10 + 37n mod 91);
inference steps run N=1, T=1 with the state carried between calls; batch
inference (infer_batch_*) runs the whole batch under no_grad, no state carried.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time


def torch_case(torch, case, runs, warmup):
    name = case["case"]
    parts = {p[0]: p[1:] for p in name.split("_")
             if len(p) > 1 and p[0] in "TNIHL" and p[1:].isdigit()}
    cell = "lstm" if "_lstm_" in name else "gru"
    I, H = int(parts["I"]), int(parts["H"])
    nn = torch.nn
    mod = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
    torch.manual_seed(0)
    if name.startswith("infer_step"):
        net = mod(I, H, batch_first=True)
        x = torch.randn(1, 1, I)
        state = None
        times = []
        with torch.no_grad():
            for r in range(warmup + runs):
                t0 = time.perf_counter()
                _, state = net(x, state)
                dt = (time.perf_counter() - t0) * 1e3
                if r >= warmup:
                    times.append(dt)
        return times
    T, N = int(parts["T"]), int(parts["N"])
    if name.startswith("infer_batch"):
        net = mod(I, H, batch_first=True)
        x = torch.randn(N, T, I)
        times = []
        with torch.no_grad():
            for r in range(warmup + runs):
                t0 = time.perf_counter()
                net(x)
                dt = (time.perf_counter() - t0) * 1e3
                if r >= warmup:
                    times.append(dt)
        return times
    L = int(parts["L"])
    bi = name.endswith("_bi")
    net = mod(I, H, num_layers=L, bidirectional=bi, batch_first=True)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x = torch.randn(N, T, I)
    lengths = None
    if name.endswith("_varlen"):
        # bench/bench_common.h: bench_lengths()
        lengths = torch.tensor([min(10 + (37 * n) % 91, T) for n in range(N)])
    # dL/dy of a loss averaged over batch and time, as rnn_bench uses.
    gy = (torch.rand(N, T, (2 if bi else 1) * H) * 2 - 1) / (N * T)
    times = []
    for r in range(warmup + runs):
        t0 = time.perf_counter()
        if lengths is not None:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)
            out, _ = net(packed)
            y, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
        else:
            y, _ = net(x)
        y.backward(gy)
        opt.step()
        opt.zero_grad(set_to_none=False)
        dt = (time.perf_counter() - t0) * 1e3
        if r >= warmup:
            times.append(dt)
    return times


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bench", default="build/bench/rnn_bench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=0, help="runs per case (default 7 train, 201 step)")
    ap.add_argument("--case", default=None)
    ap.add_argument("--markdown", default=None, help="also write the table to this file")
    a = ap.parse_args()

    cmd = [a.bench, "--json", "--threads", str(a.threads)]
    if a.runs:
        cmd += ["--runs", str(a.runs)]
    if a.case:
        cmd += ["--case", a.case]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    ours = [json.loads(l) for l in out.splitlines() if l.startswith("{")]

    try:
        import torch
        torch.set_num_threads(a.threads)
        tv = torch.__version__
    except ImportError:
        torch, tv = None, None

    rows = []
    for c in ours:
        runs = c["runs"]
        warm = 20 if c["case"].startswith("infer_step") else 2
        t = torch_case(torch, c, runs, warm) if torch else None
        tm = statistics.median(t) if t else None
        rows.append((c, t, tm))

    head = (f"machine: {cpu_model()}, {os.cpu_count()} cores, {a.threads} threads; "
            f"librnn {ours[0]['librnn'] if ours else '?'}; "
            f"PyTorch {tv or 'not installed'}")
    lines = [head, "",
             "| case | librnn median ms (min-max) | PyTorch median ms (min-max) | speed-up |",
             "|---|---|---|---|"]
    for c, t, tm in rows:
        lib = f"{c['median_ms']:.3f} ({c['min_ms']:.3f}-{c['max_ms']:.3f})"
        if t:
            pt = f"{tm:.3f} ({min(t):.3f}-{max(t):.3f})"
            ratio = f"{tm / c['median_ms']:.2f}x"
        else:
            pt, ratio = "n/a", "n/a"
        lines.append(f"| {c['case']} | {lib} | {pt} | {ratio} |")
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
