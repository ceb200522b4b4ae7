#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Training on a shared machine: how much slower a training run gets when a busy
process holds one core, librnn's adaptive thread count against its fixed count
and against the peers under the same load.

  /usr/bin/python3 bench/contention.py            # 6-10 minutes on an idle 2-core machine
  /usr/bin/python3 bench/contention.py --quick    # a smoke run, about 3 minutes

Workload: examples/pos_tagging (build/examples/pos_tagger --threads 2 --epochs E
--limit N on the Brown corpus of ../shared/data), timed by its own
train_seconds (training batches and validation passes), in two variants:
librnn's default (RNN_THREADS_ADAPTIVE) and --fixed-threads
(RNN_THREADS_FIXED, plain OpenMP). Peers, when their interpreters are there:
PyTorch 2.x (bench/torch_pos_tagger.py under the peers' virtual environment,
/var/cache/librnn/peers/bin/python, bench/requirements.txt), optionally PyTorch
1.13 (--torch113: /usr/bin/python3 with Debian's python3-torch) and Keras 3
(--keras: bench/keras_e2e.py), each one epoch on the example's encoded data
(--dump-encoded), with 2 threads.

Conditions: "idle" (nothing else of ours running) and "loaded" (a busy
single-threaded process, `python3 -c 'while True: pass'`, or a C spin loop with
--busy c, started before the run and killed after it). Rounds are
interleaved: every round runs every variant in both conditions, alternating
which condition comes first, so slow drifts of the machine hit both.

Printed: the median seconds idle and loaded of each variant, loaded/idle, and
the adaptive count's idle cost (adaptive idle / fixed idle - 1). The issue's
targets: loaded/idle at most 2.5 for librnn's default, an idle cost under 3%.
Run it on an otherwise idle machine: the script reports the CPU share other
processes took during the run and warns above 5%.

Standard library only. --json-out FILE keeps every measurement;
bench/run_all.py runs this script for its "contention" section and renders
the table with markdown() below.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
PEERS_PYTHON = "/var/cache/librnn/peers/bin/python"
TARGET_RATIO = 2.5   # loaded / idle, librnn's default (issue 16)
TARGET_COST = 0.03   # adaptive idle / fixed idle - 1

# key, label; the order of the table
VARIANTS = [("librnn", "librnn, adaptive threads (default)"),
            ("librnn_fixed", "librnn, --fixed-threads"),
            ("torch2", "PyTorch 2"), ("torch", "PyTorch 1.13"), ("keras", "Keras 3")]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_measured(cmd, timeout):
    """Runs cmd; returns dict(rc, out, err, wall_s, cpu_s, timed_out)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                p.kill()
                _, status, ru = os.wait4(p.pid, 0)
                timed_out = True
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {"rc": os.waitstatus_to_exitcode(status), "wall_s": wall,
                "cpu_s": ru.ru_utime + ru.ru_stime, "timed_out": timed_out,
                "out": out.read().decode(errors="replace"),
                "err": err.read().decode(errors="replace")}


def last_json(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return {}


def busy_cpu_seconds():
    """CPU time every process of the machine has used so far (/proc/stat)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


class Busy:
    """A busy single-threaded process for the duration of a `with` block."""

    def __init__(self, kind, workdir):
        self.kind, self.workdir, self.p = kind, workdir, None
        if kind == "c":
            src = os.path.join(workdir, "spin.c")
            with open(src, "w") as f:
                f.write("int main(void) { volatile unsigned long n = 0; for (;;) n++; }\n")
            self.exe = os.path.join(workdir, "spin")
            cc = shutil.which("cc") or shutil.which("gcc")
            if not cc or subprocess.run([cc, "-O1", "-o", self.exe, src]).returncode:
                sys.exit("contention: --busy c needs a C compiler")

    def __enter__(self):
        cmd = [self.exe] if self.kind == "c" else [sys.executable, "-c", "while True: pass"]
        self.p = subprocess.Popen(cmd)
        time.sleep(0.5)  # running and scheduled before the measurement starts
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()
        return False


class Bench:
    def __init__(self, a):
        self.a = a
        self.pos = os.path.join(os.path.abspath(a.build), "examples", "pos_tagger")
        if not os.access(self.pos, os.X_OK):
            sys.exit(f"contention: {self.pos} is missing: build first (meson compile -C "
                     f"{a.build} pos_tagger)")
        self.data = a.data or (None if os.environ.get("LIBRNN_DATA") else SHARED_DATA)
        self.records = []
        self.failures = []

    def pos_cmd(self, extra):
        cmd = [self.pos, "--seed", str(self.a.seed)]
        if self.a.limit:
            cmd += ["--limit", str(self.a.limit)]
        if self.data:
            cmd += ["--data", self.data]
        return cmd + extra

    def variants(self):
        """The variants this run measures: key -> command."""
        a, t = self.a, str(self.a.threads)
        v = {"librnn": self.pos_cmd(["--epochs", str(a.epochs), "--threads", t, "--json"]),
             "librnn_fixed": self.pos_cmd(["--epochs", str(a.epochs), "--threads", t, "--json",
                                           "--fixed-threads"])}
        peer = [os.path.join(HERE, "torch_pos_tagger.py"), "--dump", self.dump, "--threads", t,
                "--json"] if self.dump else None
        if peer and a.peers_python:
            v["torch2"] = [a.peers_python] + peer
        if peer and a.torch113:
            v["torch"] = [a.torch113] + peer
        if self.dump and a.keras and a.peers_python:
            v["keras"] = [a.peers_python, os.path.join(HERE, "keras_e2e.py"), "--dump",
                          self.dump, "--threads", t, "--json"]
        return v

    def prepare_dump(self):
        self.dump = None
        if not (self.a.peers_python or self.a.torch113):
            return
        path = os.path.join(self.workdir, "pos.dump")
        r = run_measured(self.pos_cmd(["--dump-encoded", path]), self.a.timeout)
        if r["rc"] != 0:
            self.failures.append(f"pos_tagger --dump-encoded: exit {r['rc']}")
            log("  pos_tagger --dump-encoded failed: no peers")
            return
        self.dump = path

    def measure(self, key, cmd, cond, rnd):
        r = run_measured(cmd, self.a.timeout)
        j = last_json(r["out"]) if r["rc"] == 0 else {}
        sec = j.get("train_seconds")
        rec = {"variant": key, "condition": cond, "round": rnd, "seconds": sec,
               "threads": j.get("threads"), "wall_s": round(r["wall_s"], 2),
               "cpu_s": round(r["cpu_s"], 2), "timed_out": r["timed_out"]}
        self.records.append(rec)
        if sec is None:
            why = "timeout" if r["timed_out"] else f"exit {r['rc']}"
            self.failures.append(f"{key} {cond} round {rnd + 1}: {why}: "
                                 + " | ".join(r["err"].strip().splitlines()[-3:]))
        extra = f", ended on {j['threads']} thread(s)" if j.get("threads") else ""
        log(f"  {cond:6} {key:13} {sec if sec is not None else 'FAILED'} s{extra}")

    def run(self):
        a = self.a
        self.workdir = tempfile.mkdtemp(prefix="librnn-contention-")
        t0, busy0, own0 = time.time(), busy_cpu_seconds(), os.times()
        try:
            self.prepare_dump()
            busy = Busy(a.busy, self.workdir)
            vs = self.variants()
            self.measured = [k for k, _ in VARIANTS if k in vs]
            for rnd in range(a.rounds):
                order = ("idle", "loaded") if rnd % 2 == 0 else ("loaded", "idle")
                for cond in order:
                    log(f"round {rnd + 1}/{a.rounds}, {cond}")
                    for key in self.measured:
                        if cond == "loaded":
                            with busy:
                                self.measure(key, vs[key], cond, rnd)
                        else:
                            self.measure(key, vs[key], cond, rnd)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.seconds = time.time() - t0
        busy1, own1 = busy_cpu_seconds(), os.times()
        self.foreign = None
        if busy0 is not None and busy1 is not None:
            ours = (own1.user + own1.system + own1.children_user + own1.children_system
                    - own0.user - own0.system - own0.children_user - own0.children_system)
            avail = self.seconds * (os.cpu_count() or 1)
            self.foreign = max(0.0, (busy1 - busy0 - ours) / avail) if avail > 0 else None

    def result(self):
        a = self.a
        return {"command": " ".join([sys.executable, "bench/contention.py"] + sys.argv[1:]),
                "seconds": self.seconds, "foreign_cpu_fraction": self.foreign,
                "cpus": os.cpu_count(), "load_end": os.getloadavg(),
                "options": {"threads": a.threads, "epochs": a.epochs, "limit": a.limit,
                            "rounds": a.rounds, "busy": a.busy, "seed": a.seed,
                            "quick": a.quick},
                "variants": self.measured, "records": self.records, "failures": self.failures}


# ------------------------------------------------------------ figures and tables

def medians(res):
    """variant -> {idle, loaded: (median, min, max, n) or None, ratio, threads}."""
    out = {}
    for key in res["variants"]:
        row = {}
        for cond in ("idle", "loaded"):
            v = [r["seconds"] for r in res["records"] if r["variant"] == key
                 and r["condition"] == cond and r["seconds"] is not None]
            row[cond] = (statistics.median(v), min(v), max(v), len(v)) if v else None
            th = [r["threads"] for r in res["records"] if r["variant"] == key
                  and r["condition"] == cond and r.get("threads")]
            row[cond + "_threads"] = sorted(set(th))
        row["ratio"] = (row["loaded"][0] / row["idle"][0]
                        if row["idle"] and row["loaded"] else None)
        out[key] = row
    return out


def figures(res):
    m = medians(res)
    a, f = m.get("librnn"), m.get("librnn_fixed")
    cost = (a["idle"][0] / f["idle"][0] - 1.0) if a and f and a["idle"] and f["idle"] else None
    gain = (f["loaded"][0] / a["loaded"][0]) if a and f and a["loaded"] and f["loaded"] else None
    return m, cost, gain


def cell(c):
    if not c:
        return "n/a"
    med, lo, hi, n = c
    return f"{med:.1f} ({lo:.1f}-{hi:.1f})" if n > 1 else f"{med:.1f}"


def markdown(res, heading="##"):
    """The section of docs/benchmarks.md (bench/run_all.py) for a result."""
    m, cost, gain = figures(res)
    o = res["options"]
    labels = dict(VARIANTS)
    L = [f"{heading} Training on a shared machine", ""]
    L.append(f"`bench/contention.py`: the POS tagger (`examples/pos_tagging`, "
             f"{o['epochs']} epoch(s)" + (f", {o['limit']:,} sentences" if o["limit"] else "")
             + f") with {o['threads']} threads, idle and with one busy single-threaded process "
             f"({'a C spin loop' if o['busy'] == 'c' else 'python3 -c while True: pass'}) "
             f"beside it; the peers train one epoch of the same data. "
             f"{o['rounds']} interleaved round(s); seconds are the programs' own train_seconds, "
             "median (min-max).")
    L.append("")
    L.append("| | idle (s) | loaded (s) | loaded / idle | threads at the end |")
    L.append("|---|---|---|---|---|")
    for key in res["variants"]:
        r = m[key]
        th = ", ".join(f"{c} {'/'.join(map(str, r[c + '_threads']))}"
                       for c in ("idle", "loaded") if r[c + "_threads"]) or "-"
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "n/a"
        L.append(f"| {labels[key]} | {cell(r['idle'])} | {cell(r['loaded'])} | {ratio} | {th} |")
    L.append("")
    s = []
    a = m.get("librnn")
    if a and a["ratio"]:
        s.append(f"With a busy process beside it, librnn's default run took {a['ratio']:.2f}x its "
                 f"idle time (target: at most {TARGET_RATIO}x: "
                 f"{'met' if a['ratio'] <= TARGET_RATIO else 'NOT met'})")
    if gain:
        s.append(f"{gain:.2f}x faster than the fixed thread count under the same load")
    line = ", ".join(s)
    if cost is not None:
        line += (("; " if line else "") + f"idle, the adaptive count cost {100 * cost:+.1f}% "
                 f"against the fixed one (target: under {100 * TARGET_COST:.0f}%: "
                 f"{'met' if cost < TARGET_COST else 'NOT met'})")
    peers = [(labels[k], m[k]["ratio"]) for k in ("torch2", "torch", "keras")
             if k in m and m[k]["ratio"]]
    if peers:
        line += "; under the same load " + ", ".join(f"{n} took {r:.2f}x" for n, r in peers)
    if line:
        L.append(line + ".")
        L.append("")
    if res.get("foreign_cpu_fraction") is not None and res["foreign_cpu_fraction"] > 0.05:
        L.append(f"**Warning: the machine was not idle**: other processes took "
                 f"{100 * res['foreign_cpu_fraction']:.0f}% of the CPU time during these runs.")
        L.append("")
    if res.get("failures"):
        L.append("Failed: " + "; ".join(f"`{x}`" for x in res["failures"]))
        L.append("")
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 round, 1 epoch of 6,000 sentences, PyTorch 2 only")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build directory")
    ap.add_argument("--data", default=None,
                    help="pos_tagger --data DIR (default: $LIBRNN_DATA, else ../shared/data)")
    ap.add_argument("--threads", type=int, default=2, help="threads of every variant (2)")
    ap.add_argument("--epochs", type=int, default=None, help="pos_tagger epochs (2; quick 1)")
    ap.add_argument("--limit", type=int, default=None,
                    help="pos_tagger --limit sentences (20000; quick 6000; 0: all 57,340)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (3; quick 1)")
    ap.add_argument("--busy", choices=("python", "c"), default="python",
                    help="the busy process: python3 -c 'while True: pass' or a C spin loop")
    ap.add_argument("--seed", type=int, default=1, help="pos_tagger --seed (1)")
    ap.add_argument("--peers-python", default=PEERS_PYTHON if os.access(PEERS_PYTHON, os.X_OK)
                    else None,
                    help=f"the peers' interpreter for PyTorch 2 (default {PEERS_PYTHON} when "
                         "it exists)")
    ap.add_argument("--no-peers", action="store_true", help="librnn only")
    ap.add_argument("--torch113", nargs="?", const="/usr/bin/python3", default=None,
                    metavar="PYTHON", help="also PyTorch 1.13 (Debian's, /usr/bin/python3)")
    ap.add_argument("--keras", action="store_true",
                    help="also Keras 3 (peers' interpreter; slow to start, long under load)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds before a run is killed and counted as failed (600; quick 300)")
    ap.add_argument("--json-out", default=None, help="write every measurement to this file")
    ap.add_argument("--markdown", action="store_true", help="print the page's section too")
    a = ap.parse_args(argv)
    q = a.quick
    for k, full, quick in (("epochs", 2, 1), ("limit", 20000, 6000), ("rounds", 3, 1),
                           ("timeout", 600.0, 300.0)):
        if getattr(a, k) is None:
            setattr(a, k, quick if q else full)
    if a.no_peers:
        a.peers_python, a.torch113, a.keras = None, None, False
    b = Bench(a)
    b.run()
    res = b.result()
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(res, f, indent=1)
    m, cost, gain = figures(res)
    labels = dict(VARIANTS)
    print(f"{'':38} {'idle s':>16} {'loaded s':>16} {'loaded/idle':>11}")
    for key in res["variants"]:
        r = m[key]
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "n/a"
        print(f"{labels[key]:38} {cell(r['idle']):>16} {cell(r['loaded']):>16} {ratio:>11}")
    if cost is not None:
        print(f"adaptive threads, idle cost against fixed: {100 * cost:+.1f}% "
              f"(target < {100 * TARGET_COST:.0f}%)")
    if gain is not None:
        print(f"adaptive threads, loaded: {gain:.2f}x faster than fixed")
    if res["foreign_cpu_fraction"] is not None:
        print(f"other processes took {100 * res['foreign_cpu_fraction']:.0f}% of the CPU time "
              f"during the run ({res['seconds'] / 60:.1f} min)"
              + ("  ** not idle: do not trust these figures **"
                 if res["foreign_cpu_fraction"] > 0.05 else ""))
    for f in res["failures"]:
        print("FAILED: " + f)
    if a.markdown:
        print()
        print(markdown(res))
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
