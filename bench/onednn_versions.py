#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""librnn on oneDNN 2.6 (the bookworm host) and on oneDNN 3.x (the Debian
trixie root of tools/trixie-root.sh), side by side in one run, rounds
interleaved, each measurement a fresh process; optionally PyTorch 2.6 in the
trixie root (python3-torch there), with glibc's default malloc and with
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (see docs/benchmarks.md).

  tools/trixie-test.sh                     # builds the tree in the root
  tools/trixie-run.sh meson compile -C build
  meson compile -C build
  python3 bench/onednn_versions.py [--rounds 5] [--threads 2] [--torch] [--markdown FILE]

Prints a Markdown table of medians over the rounds (each round's figure is
rnn_bench's own median of 7 steps, or 201 inference steps, after warm-up).
Run it on an idle machine: it reports the share of CPU time other processes
took during the run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
TRIXIE_RUN = os.path.join(TOP, "tools", "trixie-run.sh")

TORCH_SNIPPET = r"""
import json, sys, torch
sys.path.insert(0, "bench")
from compare_torch import torch_case
torch.set_num_threads(int(sys.argv[2]))
name = sys.argv[1]
runs, warm = (201, 20) if name.startswith("infer") else (7, 2)
t = sorted(torch_case(torch, {"case": name}, runs, warm))
print(json.dumps({"case": name, "median_ms": t[len(t) // 2]}))
"""


def run_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=TOP)
    if out.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), out.stdout, out.stderr))
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    return json.loads(lines[-1])


def busy_jiffies():
    """CPU jiffies spent busy (all but idle and iowait) on the machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4]  # all but idle and iowait


def dpkg(pkg, chroot=False):
    cmd = ["dpkg-query", "-W", "-f", "${Version}", pkg]
    if chroot:
        cmd = [TRIXIE_RUN] + cmd
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--build", default="build", help="host build dir (oneDNN 2.6)")
    ap.add_argument("--root-build", default="build",
                    help="build dir inside the root's /src/librnn (oneDNN 3.x)")
    ap.add_argument("--case", default=None, help="only cases containing this")
    ap.add_argument("--torch", action="store_true", help="also PyTorch 2.6 in the trixie root")
    ap.add_argument("--markdown", default=None)
    a = ap.parse_args()

    cases = subprocess.run([os.path.join(TOP, a.build, "bench", "rnn_bench"), "--list"],
                           capture_output=True, text=True, check=True).stdout.split()
    if a.case:
        cases = [c for c in cases if a.case in c]
    env = dict(os.environ)
    tune = dict(env, GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
    th = ["--threads", str(a.threads), "--json"]
    cols = {
        "v2": lambda c: [os.path.join(a.build, "bench", "rnn_bench"), "--case", c] + th,
        "v3": lambda c: [TRIXIE_RUN, os.path.join(a.root_build, "bench", "rnn_bench"),
                         "--case", c] + th,
        "k2": lambda c: [os.path.join(a.build, "bench", "kernel_bench"), "--case", c] + th,
        "k3": lambda c: [TRIXIE_RUN, os.path.join(a.root_build, "bench", "kernel_bench"),
                         "--case", c] + th,
    }
    if a.torch:
        cols["pt"] = lambda c: [TRIXIE_RUN, "python3", "-c", TORCH_SNIPPET, c, str(a.threads)]
        cols["pt_huge"] = cols["pt"]
    res = {c: {k: [] for k in cols} for c in cases}
    t0, b0 = time.time(), busy_jiffies()
    self0 = os.times()
    for r in range(a.rounds):
        for c in cases:
            keys = [k for k in cols if not (k[0] == "k" and c.startswith("infer"))]
            if r % 2:
                keys.reverse()
            for k in keys:
                e = tune if k == "pt_huge" else env
                res[c][k].append(run_json(cols[k](c), e)["median_ms"])
        print("round %d/%d done (%.0f s)" % (r + 1, a.rounds, time.time() - t0), file=sys.stderr)
    self1 = os.times()
    busy = busy_jiffies() - b0
    ours = (self1.children_user + self1.children_system - self0.children_user -
            self0.children_system) * os.sysconf("SC_CLK_TCK")
    other = max(0.0, busy - ours) / max(busy, 1)

    def med(c, k):
        v = res[c].get(k) or []
        return statistics.median(v) if v else None

    def fmt(c, ms):
        if ms is None:
            return "-"
        return "%.0f us" % (ms * 1000) if c.startswith("infer") else "%.1f ms" % ms

    head = ["case (%d threads)" % a.threads, "librnn, oneDNN 2.6", "librnn, oneDNN 3.x",
            "3.x / 2.6", "kernels 2.6", "kernels 3.x"]
    if a.torch:
        head += ["PyTorch 2.6 (trixie)", "PyTorch 2.6, hugetlb malloc"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cases:
        v2, v3 = med(c, "v2"), med(c, "v3")
        row = [c, fmt(c, v2), fmt(c, v3), "%.2f" % (v3 / v2), fmt(c, med(c, "k2")),
               fmt(c, med(c, "k3"))]
        if a.torch:
            row += [fmt(c, med(c, "pt")), fmt(c, med(c, "pt_huge"))]
        lines.append("| " + " | ".join(row) + " |")
    info = ("oneDNN %s (bookworm host) and %s (trixie root); %d rounds, medians; other "
            "processes took %.1f%% of the CPU time during the run (%.0f s)" %
            (dpkg("libdnnl-dev"), dpkg("libdnnl-dev", chroot=True), a.rounds, 100 * other,
             time.time() - t0))
    text = "\n".join(lines) + "\n\n" + info + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)
        with open(os.path.splitext(a.markdown)[0] + ".json", "w") as f:
            json.dump({"info": info, "results": res}, f, indent=1)


if __name__ == "__main__":
    main()
