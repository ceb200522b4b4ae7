#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Where PyTorch's time goes in the LSTM 512 training case: the oneDNN
primitives' own execution times (ONEDNN_VERBOSE=1, forward and backward RNN
primitives), the whole step, and the page faults per step (getrusage). Run
it in the trixie root (PyTorch 2.6 on oneDNN 3.7) with and without
GLIBC_TUNABLES=glibc.malloc.hugetlb=1:

  tools/trixie-run.sh python3 bench/torch_onednn_profile.py
  GLIBC_TUNABLES=glibc.malloc.hugetlb=1 tools/trixie-run.sh python3 bench/torch_onednn_profile.py

Prints one JSON line: medians over --runs steps after --warmup.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

CHILD = r"""
import resource, sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
runs, warm = int(sys.argv[2]), int(sys.argv[3])
T, N, I, H = 100, 64, 512, 512
torch.manual_seed(0)
net = torch.nn.LSTM(I, H, batch_first=True)
opt = torch.optim.SGD(net.parameters(), lr=0.01)
x = torch.randn(N, T, I)
gy = (torch.rand(N, T, H) * 2 - 1) / (N * T)
for r in range(warm + runs):
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    print("STEP-BEGIN", flush=True)
    t0 = time.perf_counter()
    y, _ = net(x)
    y.backward(gy)
    opt.step()
    opt.zero_grad(set_to_none=False)
    dt = (time.perf_counter() - t0) * 1e3
    f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    print("STEP-END %d %.3f %d" % (r, dt, f1 - f0), flush=True)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    env = dict(os.environ, ONEDNN_VERBOSE="1")
    out = subprocess.run([sys.executable, "-c", CHILD, str(a.threads), str(a.runs),
                          str(a.warmup)], capture_output=True, text=True, env=env, check=True)
    steps, cur, impls = [], None, set()
    for line in out.stdout.splitlines():
        if line.startswith("STEP-BEGIN"):
            cur = {"fwd": 0.0, "bwd": 0.0}
        elif line.startswith("STEP-END"):
            _, r, dt, faults = line.split()
            if int(r) >= a.warmup:
                steps.append(dict(cur, step=float(dt), faults=int(faults)))
            cur = None
        elif cur is not None and ",exec," in line and ",rnn," in line:
            f = line.split(",")
            ms = float(f[-1])
            kind = "bwd" if "backward" in line else "fwd"
            cur[kind] += ms
            i = f.index("rnn")
            impls.add("%s %s" % (f[i + 1], f[i + 2]))  # implementation, prop_kind
    import torch  # only for the version
    res = {"torch": torch.__version__,
           "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
           "threads": a.threads, "runs": len(steps),
           "step_ms": statistics.median(s["step"] for s in steps),
           "rnn_forward_ms": statistics.median(s["fwd"] for s in steps),
           "rnn_backward_ms": statistics.median(s["bwd"] for s in steps),
           "minor_faults_per_step": statistics.median(s["faults"] for s in steps),
           "rnn_impl": sorted(impls)}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
