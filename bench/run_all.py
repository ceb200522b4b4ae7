#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the whole benchmark suite, librnn and its peers side by side, and
writes docs/benchmarks.md.

  /usr/bin/python3 bench/run_all.py            # the full suite (about 2 hours on 2 cores)
  /usr/bin/python3 bench/run_all.py --quick    # smoke run, about 15 minutes; writes
                                               # build/benchmarks-quick.md instead

Run it on an idle machine, with /usr/bin/python3 (Debian's python3-torch and
python3-numpy; without torch the PyTorch 1.13 columns stay empty). The peers
users pick today (PyTorch 2.x, Keras 3 on TensorFlow with and without XLA,
ONNX Runtime from Python) run from the virtual environment of
bench/requirements.txt (--peers-python; by default
/var/cache/librnn/peers/bin/python when it exists, else those columns are
skipped). Every measurement is a fresh process, the libraries one after the
other, case by case, round after round; each process's peak RSS comes from
os.wait4().

Cases (see "What is timed" in the generated page):
  recurrent  build/bench/rnn_bench cases (issue 2, plus batch inference) against
             bench/compare_torch.py's PyTorch mirror (1.13 and 2.x),
             bench/keras_cases.py (Keras, XLA off and on) and, for the inference
             cases, bench/ort_cases.py (ONNX Runtime on torch.onnx.export models),
             one process per case, at each of --threads; the training cases also
             on the raw kernels (build/bench/kernel_bench)
  decode     build/bench/decode_bench (librnn only): step-wise decoding against
             re-running the prefix, greedy and beam 4
  e2e        one epoch (training + validation pass) of examples/pos_tagging and of
             examples/sentiment (IMDB) against bench/torch_pos_tagger.py,
             bench/torch_imdb.py (PyTorch 1.13 and 2.x) and bench/keras_e2e.py
             on the same encoded data and batches
  contention bench/contention.py (about 10 minutes; --quick: 3): the POS tagger
             idle and with a busy process beside it, librnn's adaptive thread
             count against its fixed count and PyTorch under the same load
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import contention  # noqa: E402  (bench/contention.py: the "contention" section)
ROOT = os.path.dirname(HERE)
# The examples find their data through --data, $LIBRNN_DATA or an installed default; a run from
# the source tree uses the datasets beside it unless told otherwise.
SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
# The peers' virtual environment (bench/requirements.txt, bench/README.md).
PEERS_PYTHON = "/var/cache/librnn/peers/bin/python"

# Every library a measurement can come from: key, column name (versions are added from the
# probes), measured in the recurrent cases / the end-to-end epochs.
LIBS = [("librnn", "librnn"), ("kernels", "raw kernels"), ("torch", "PyTorch"),
        ("torch2", "PyTorch"), ("keras", "Keras"), ("keras_xla", "Keras XLA"),
        ("ort", "ONNX Runtime (Python)"), ("ort_c", "ONNX Runtime (C API, trixie)"),
        ("librnn_trixie", "librnn on trixie"), ("librnn_bf16", "librnn mixed bf16"),
        ("torch_padded", "PyTorch padded"), ("librnn_capped", "librnn, workspace cap")]
# Those that compete with librnn (the raw kernels are librnn's own; "padded" is not the same
# model).
PEERS = ("torch", "torch2", "keras", "keras_xla", "ort", "ort_c")
# The case of the host check (Suite.measure_host), and the least speed-up over AVX2 that a
# host with full-rate AVX-512 showed here (about 2x; 1.1x when the host's were shared).
HOST_CHECK_CASE = "train_lstm_T100_N64_I512_H512_L1_uni"
HOST_CHECK_MIN_GAIN = 1.5


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------ processes

def run_measured(cmd, env=None, cwd=ROOT):
    """Runs cmd to completion; returns dict(rc, out, err, rss_kib, wall_s).
    The peak RSS is the child's own (os.wait4's rusage, ru_maxrss in KiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"rc": p.returncode, "out": out.read().decode(errors="replace"),
                "err": err.read().decode(errors="replace"), "rss_kib": ru.ru_maxrss,
                "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime}


def busy_cpu_seconds():
    """CPU time used by every process of the machine so far (/proc/stat)."""
    f = read("/proc/stat").split("\n", 1)[0].split()
    if not f or f[0] != "cpu":
        return None
    v = [int(x) for x in f[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def rss_of(j):
    """(resident MiB before the training, peak MiB during it) from a result line, or None."""
    b, p = j.get("rss_before_fit_mib"), j.get("peak_rss_fit_mib")
    return [b, p] if isinstance(b, (int, float)) and isinstance(p, (int, float)) \
        and b >= 0 and p >= 0 else None


def json_lines(text):
    res = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                res.append(json.loads(line))
            except ValueError:
                pass
    return res


def tail(text, n=6):
    return " | ".join(text.strip().splitlines()[-n:])


# ------------------------------------------------------------ torch worker

def torch_worker(a):
    """--torch-worker CASE: one recurrent case in PyTorch (compare_torch.py's
    mirror of rnn_bench), one JSON line like rnn_bench --json."""
    sys.path.insert(0, HERE)
    import torch
    from compare_torch import torch_case
    torch.set_num_threads(a.threads_one)
    torch.set_num_interop_threads(1)
    times = torch_case(torch, {"case": a.torch_worker}, a.runs, a.warmup)
    print(json.dumps({"case": a.torch_worker, "threads": torch.get_num_threads(),
                      "runs": len(times), "median_ms": statistics.median(times),
                      "min_ms": min(times), "max_ms": max(times), "torch": torch.__version__}))
    return 0


# ------------------------------------------------------------ machine and versions

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine_info():
    cpu = read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.*)$", cpu, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", cpu, re.M)
    flags = set(flags.group(1).split()) if flags else set()
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    cores = {(m.group(1), m.group(2)) for m in re.finditer(
        r"^physical id\s*:\s*(\d+)$.*?^core id\s*:\s*(\d+)$", cpu, re.M | re.S)}
    mem = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo"), re.M)
    osr = re.search(r'^PRETTY_NAME="?([^"\n]*)', read("/etc/os-release"), re.M)
    return {
        "cpu_model": model.group(1).strip() if model else platform.processor() or "unknown",
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "physical_cores": len(cores) or None,
        "isa": isa,
        "memory_gib": round(int(mem.group(1)) / 1048576, 1) if mem else None,
        "os": osr.group(1) if osr else platform.platform(),
        "kernel": platform.release(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "(unset)"),
    }


def dpkg_version(*names):
    for n in names:
        try:
            v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", n], capture_output=True,
                               text=True).stdout.strip()
        except OSError:
            return None
        if v:
            return f"{v} ({n})"
    return None


def build_info(build):
    info = {}
    try:
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
            opts = {o["name"]: o["value"] for o in json.load(f)}
        info["buildtype"] = opts.get("buildtype")
        info["optimization"] = opts.get("optimization")
    except (OSError, ValueError):
        pass
    m = re.search(r'RNN_VERSION_STRING\s+"([^"]+)"',
                  read(os.path.join(build, "include", "rnn", "version.h")))
    info["librnn_header"] = m.group(1) if m else None
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        info["git"] = rev + (" + local changes" if dirty else "") if rev else None
    except OSError:
        info["git"] = None
    info["onednn"] = dpkg_version("libdnnl-dev", "libdnnl3", "libdnnl2")
    info["cc"] = None
    try:
        cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout
        info["cc"] = cc.splitlines()[0] if cc else None
    except OSError:
        pass
    return info


TORCH_PROBE = r"""
import json, torch, numpy, os
print(json.dumps({"torch": torch.__version__, "numpy": numpy.__version__,
                  "torch_default_threads": torch.get_num_threads(),
                  "mkldnn": torch.backends.mkldnn.is_available()}))
"""


def torch_info(python):
    r = run_measured([python, "-c", TORCH_PROBE])
    if r["rc"] != 0:
        return None
    info = json_lines(r["out"])[0]
    info["import_rss_kib"] = r["rss_kib"]  # python + import torch, numpy: in every PyTorch RSS
    info["python"] = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True).stdout.strip()
    info["deb"] = dpkg_version("python3-torch")
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    info["blas"] = blas if os.path.exists(blas) else None
    return info


PEERS_PROBE = r"""
import json, os, sys, platform
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
v = {"python": platform.python_version()}
for m in ("numpy", "torch", "onnx", "onnxruntime", "tensorflow", "keras"):
    try:
        v[m] = __import__(m).__version__
    except Exception as e:
        v[m] = None
print(json.dumps(v))
"""


def peers_info(python):
    """The versions in the peers' environment, or None (with a message) without it."""
    if not python or not os.access(python, os.X_OK):
        log(f"run_all: no peers' environment ({python or 'none given'}): the PyTorch 2, Keras "
            "and ONNX Runtime columns are skipped (bench/README.md says how to create it)")
        return None
    r = run_measured([python, "-c", PEERS_PROBE])
    js = json_lines(r["out"])
    if r["rc"] != 0 or not js:
        log(f"run_all: {python} failed to import the peers ({tail(r['err'], 2)}): skipped")
        return None
    info = js[0]
    missing = [m for m in ("torch", "keras", "tensorflow", "onnxruntime", "onnx") if not info[m]]
    if missing:
        log(f"run_all: {python} lacks {', '.join(missing)}: those columns are skipped")
    info["path"] = python
    return info


# ------------------------------------------------------------ statistics

def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt(x):
    if x is None:
        return "n/a"
    if x >= 100:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_s(s):
    if not s:
        return "n/a"
    if s["n"] == 1:
        return fmt(s["median"])
    return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])})"


def fmt_pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.0f}"


def ratio(t, l):
    if not t or not l or not l["median"]:
        return "n/a"
    return f"{t['median'] / l['median']:.2f}x"


# ------------------------------------------------------------ the suite

class Suite:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.bin = {
            "rnn_bench": os.path.join(self.build, "bench", "rnn_bench"),
            "kernel_bench": os.path.join(self.build, "bench", "kernel_bench"),
            "decode_bench": os.path.join(self.build, "bench", "decode_bench"),
            "pos_tagger": os.path.join(self.build, "examples", "pos_tagger"),
            "sentiment": os.path.join(self.build, "examples", "sentiment"),
        }
        self.records = []  # every measurement
        self.dumps = {}  # e2e: the encoded data of each example
        self.rerendered = False  # the page of a recorded run (--from-json)
        self.failures = []
        self.env = dict(os.environ)
        self.peers = None  # peers_info() of the virtual environment
        self.onnx = {}  # case: exported model
        self.ort_c = None  # prepare_ort_c(): the trixie root's ort_step, its version
        self.bf16 = False  # rnn_bench --precision bf16 runs here (AVX512-BF16 or AMX)
        self.contention = None  # bench/contention.py's result
        self.host_check = None  # measure_host() at the start and at the end of the run

    def has(self, lib):
        """Whether this run measures lib."""
        p = self.peers or {}
        return {"librnn": True, "kernels": True, "torch": bool(self.torch),
                "torch_padded": bool(self.torch) and self.a.torch_padded,
                "torch2": bool(p.get("torch")), "keras": bool(p.get("keras")),
                "keras_xla": bool(p.get("keras")), "ort": bool(p.get("onnxruntime")),
                "ort_c": bool(self.ort_c), "librnn_trixie": bool(self.ort_c),
                "librnn_bf16": bool(self.bf16),
                "librnn_capped": bool(getattr(self.a, "e2e_workspace_limit", 0))}[lib]

    def label(self, lib):
        p, t = self.peers or {}, self.torch or {}
        v = {"torch": t.get("torch", "").split("a0")[0], "torch2": p.get("torch"),
             "torch_padded": t.get("torch", "").split("a0")[0],
             "keras": p.get("keras"), "keras_xla": p.get("keras"), "ort": p.get("onnxruntime"),
             "ort_c": (self.ort_c or {}).get("version"),
             "librnn_trixie": (self.ort_c or {}).get("dnnl")}
        name = dict(LIBS)[lib]
        if lib == "librnn_trixie":
            return f"{name} (oneDNN {v[lib]})" if v.get(lib) else name
        if lib == "librnn_capped":
            return f"librnn --workspace-limit {getattr(self.a, 'e2e_workspace_limit', 0)}"
        return f"{name} {v[lib]}" if v.get(lib) else name

    def worker(self, lib, case, threads, runs, warm):
        """The command of one peer's measurement of a recurrent case."""
        common = ["--threads", str(threads), "--runs", str(runs), "--warmup", str(warm)]
        if lib == "torch":
            return [self.a.python, os.path.join(HERE, "run_all.py"), "--torch-worker", case,
                    "--threads-one", str(threads), "--runs", str(runs), "--warmup", str(warm)]
        if lib == "torch2":
            return [self.peers["path"], os.path.join(HERE, "run_all.py"), "--torch-worker", case,
                    "--threads-one", str(threads), "--runs", str(runs), "--warmup", str(warm)]
        if lib in ("keras", "keras_xla"):
            return ([self.peers["path"], os.path.join(HERE, "keras_cases.py"), "--case", case]
                    + common + (["--jit"] if lib == "keras_xla" else []))
        if lib == "ort_c":  # inside the trixie root: its paths are relative to the root
            inside = "/" + os.path.relpath(self.onnx[case], self.ort_c["root"])
            return [self.ort_c["run"], self.ort_c["bin"], inside] + common
        if lib == "librnn_trixie":
            return [self.ort_c["run"], self.ort_c["rnn_bench"], "--json", "--case", case] + common
        return ([self.peers["path"], os.path.join(HERE, "ort_cases.py"), "--case", case,
                 "--onnx", self.onnx[case]] + common)

    def prepare_ort_c(self):
        """bench/ort_step.c built in the Debian trixie root against its libonnxruntime-dev
        (ONNX Runtime's C API; not a package of bookworm), for the infer_step cases, and
        rnn_bench built there against trixie's oneDNN 3.x from a copy of this tree, so that the
        one-step cases compare both on the same system. Sets self.ort_c, or leaves it None with
        a message."""
        root = self.a.trixie_root
        run = os.path.join(ROOT, "tools", "trixie-run.sh")
        if not root or not os.path.isdir(os.path.join(root, "src", "librnn")):
            log(f"run_all: no trixie root with tools/trixie-test.sh's tree at {root}: no ONNX "
                "Runtime C API column (bench/README.md)")
            return
        if not os.path.exists(os.path.join(root, "usr", "include", "onnxruntime",
                                           "onnxruntime_c_api.h")):
            log(f"run_all: {root} has no libonnxruntime-dev: no ONNX Runtime C API column "
                "(tools/trixie-run.sh apt-get install -y libonnxruntime-dev)")
            return
        d = tempfile.mkdtemp(prefix="librnn-bench-", dir=os.path.join(root, "tmp"))
        shutil.copy(os.path.join(HERE, "ort_step.c"), d)
        inside = "/" + os.path.relpath(d, root)
        files = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard"],
                               capture_output=True, text=True, check=True).stdout.split("\n")
        for f in files:
            if f and os.path.isfile(os.path.join(ROOT, f)):
                os.makedirs(os.path.dirname(os.path.join(d, "src", f)), exist_ok=True)
                shutil.copy2(os.path.join(ROOT, f), os.path.join(d, "src", f))
        env = dict(self.env, LIBRNN_TRIXIE_ROOT=root)
        r = run_measured([run, "sh", "-c", f"cc -O2 {inside}/ort_step.c "
                          f"-I/usr/include/onnxruntime -lonnxruntime -o {inside}/ort_step && "
                          f"meson setup {inside}/build {inside}/src >/dev/null && "
                          f"ninja -C {inside}/build bench/rnn_bench >/dev/null && "
                          "dpkg-query -W -f '${Package} ${Version}\\n' libonnxruntime-dev "
                          "libdnnl-dev"], env)
        if r["rc"] != 0:
            self.failures.append(f"ort_step build in {root}: {tail(r['err'])[:400]}")
            log(f"  FAILED to build ort_step in {root}: {tail(r['err'], 3)[:300]}")
            shutil.rmtree(d, ignore_errors=True)
            return
        vers = dict((ln.split() + [""])[:2] for ln in r["out"].splitlines() if ln.strip())
        vers = {k: v.split("+")[0].split("-")[0] for k, v in vers.items()}
        self.ort_c = {"root": root, "run": run, "dir": d, "bin": inside + "/ort_step",
                      "rnn_bench": inside + "/build/bench/rnn_bench",
                      "version": vers.get("libonnxruntime-dev"),
                      "dnnl": vers.get("libdnnl-dev")}
        self.env["LIBRNN_TRIXIE_ROOT"] = root
        log(f"  ONNX Runtime C API {self.ort_c['version']}: {d}/ort_step")

    def prepare_onnx(self):
        """torch.onnx.export of each inference case, once, before the rounds."""
        for case in self.cases:
            if not case.startswith("infer"):
                continue
            # Inside the trixie root when its C API runs the one-step cases too.
            where = self.ort_c["dir"] if self.ort_c else self.workdir
            path = os.path.join(where, case + ".onnx")
            r = run_measured([self.peers["path"], os.path.join(HERE, "ort_cases.py"),
                              "--export", case, "--onnx", path], self.env)
            if r["rc"] == 0 and os.path.exists(path):
                self.onnx[case] = path
                log(f"  {case}: exported {path}")
            else:
                self.failures.append(f"onnx export {case}: exit {r['rc']}: {tail(r['err'])}")
                log(f"  FAILED onnx export {case}: {tail(r['err'], 3)[:300]}")

    def record(self, section, case, lib, threads, rnd, res, value, extra=None):
        rec = {"section": section, "case": case, "lib": lib, "threads": threads, "round": rnd,
               "value": value, "rss_kib": res["rss_kib"], "wall_s": round(res["wall_s"], 3),
               "cpu_s": round(res["cpu_s"], 3), "rc": res["rc"]}
        if extra:
            rec.update(extra)
        self.records.append(rec)
        if value is None:
            self.failures.append(f"{section} {case} {lib} {threads} thr round {rnd + 1}: "
                                 f"exit {res['rc']}: {tail(res['err'])[:400]}")
            log(f"  FAILED {case} [{lib}, {threads} thr]: {tail(res['err'], 3)[:300]}")
        else:
            log(f"  {case} [{lib}, {threads} thr] {value:.4g} ({res['rss_kib'] / 1024:.0f} MiB, "
                f"{res['wall_s']:.1f} s)")
        return rec

    def records_of(self, section, case, lib, threads):
        """The measured records (value not None) of one case, library and thread count."""
        return [r for r in self.records if r["section"] == section and r["case"] == case
                and r["lib"] == lib and r["threads"] == threads and r["value"] is not None]

    def values(self, section, case, lib, threads, key="value"):
        return [r[key] for r in self.records_of(section, case, lib, threads)]

    def rss(self, section, case, lib, threads):
        v = self.values(section, case, lib, threads, "rss_kib")
        return max(v) if v else None

    def last(self, section, case, lib, threads):
        rs = self.records_of(section, case, lib, threads)
        return rs[-1] if rs else None

    # -------------------------------------------------------- recurrent (issue 2)

    def recurrent_cases(self):
        out = subprocess.run([self.bin["rnn_bench"], "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
        if self.a.case:
            out = [c for c in out if self.a.case in c]
        return out

    def steps(self, case):
        a = self.a
        if case.startswith("infer_step"):
            return a.step_runs, a.step_warmup
        return a.train_runs, a.train_warmup  # training steps and batch inference

    def c_case(self, prog, case, threads, runs, warm, extra=(), env=None):
        """One case of rnn_bench or kernel_bench (prog) in a process of its own: the process's
        result and the case's JSON object ({} when it failed)."""
        r = run_measured([self.bin[prog], "--json", "--threads", str(threads), "--runs",
                          str(runs), "--warmup", str(warm), "--case", case, *extra],
                         self.env if env is None else env)
        js = [j for j in json_lines(r["out"]) if j.get("case") == case]
        return r, js[0] if r["rc"] == 0 and js else {}

    def run_recurrent(self, rnd, threads):
        for case in self.cases:
            runs, warm = self.steps(case)
            # the public API, in f32 and (where it runs) mixed bf16, then the raw kernels
            for lib, prog, extra in (("librnn", "rnn_bench", ()),
                                     ("librnn_bf16", "rnn_bench", ("--precision", "bf16")),
                                     ("kernels", "kernel_bench", ())):
                if lib == "librnn_bf16" and not self.bf16:
                    continue
                r, j = self.c_case(prog, case, threads, runs, warm, extra)
                if lib == "librnn" and j.get("librnn"):
                    self.librnn_version = j["librnn"]
                self.record("recurrent", case, lib, threads, rnd, r, j.get("median_ms"),
                            {"min_ms": j.get("min_ms"), "max_ms": j.get("max_ms"),
                             "runs": j.get("runs"), "gflops": j.get("gflops")})
            for lib in PEERS + ("librnn_trixie",):
                if not self.has(lib) or (lib in ("ort", "ort_c") and case not in self.onnx) \
                        or (lib in ("ort_c", "librnn_trixie")
                            and not case.startswith("infer_step")):
                    continue
                r = run_measured(self.worker(lib, case, threads, runs, warm), self.env)
                js = json_lines(r["out"])
                j = js[0] if r["rc"] == 0 and js else {}
                self.record("recurrent", case, lib, threads, rnd, r, j.get("median_ms"),
                            {"min_ms": j.get("min_ms"), "max_ms": j.get("max_ms"),
                             "runs": j.get("runs"), "params": j.get("params")})

    # -------------------------------------------------------- decode (librnn only)

    DECODE = [("decode_greedy_N1_L20_V10000", []), ("decode_beam4_N1_L20_V10000", ["--beam", "4"])]

    def run_decode(self, rnd, threads):
        for case, extra in self.DECODE:
            r = run_measured([self.bin["decode_bench"], "--runs", str(self.a.decode_runs),
                              "--threads", str(threads)] + extra, self.env)
            step = re.search(r"step-wise.*?median ([\d.]+) ms \(min ([\d.]+)\), ([\d.]+) us",
                             r["out"])
            naive = re.search(r"naive re-run.*?median ([\d.]+) ms \(min ([\d.]+)\)", r["out"])
            ok = r["rc"] == 0 and step and naive
            self.record("decode", case, "librnn", threads, rnd, r,
                        float(step.group(1)) if ok else None,
                        {"naive_ms": float(naive.group(1)) if ok else None,
                         "us_per_token": float(step.group(3)) if ok else None})

    # -------------------------------------------------------- end-to-end epochs

    EPOCH_LINE = re.compile(r"epoch 1/\d+\s+\S+\s+loss ([\d.naif-]+)\s+accuracy ([\d.naif-]+)"
                            r"\s+val_loss ([\d.naif-]+)\s+val_accuracy ([\d.naif-]+)")

    def e2e_cmd(self, which, threads, dump=None, ws_limit=0):
        a = self.a
        if which == "pos_tagger":
            cmd = [self.bin["pos_tagger"], "--seed", str(a.seed)]
            if a.pos_limit:
                cmd += ["--limit", str(a.pos_limit)]
        else:
            cmd = [self.bin["sentiment"], "--dataset", "imdb", "--seed", str(a.seed)]
            if a.imdb_limit:
                cmd += ["--limit", str(a.imdb_limit)]
        data = a.data or (None if os.environ.get("LIBRNN_DATA") else SHARED_DATA)
        if data:
            cmd += ["--data", data]
        if dump:
            return cmd + ["--dump-encoded", dump]
        if ws_limit:
            cmd += ["--workspace-limit", str(ws_limit)]
        return cmd + ["--epochs", "1", "--json", "--threads", str(threads)]

    def prepare_dumps(self):
        self.dumps = {}
        for which in ("pos_tagger", "sentiment"):
            path = os.path.join(self.workdir, which + ".dump")
            r = run_measured(self.e2e_cmd(which, 0, path), self.env)
            if r["rc"] != 0:
                self.failures.append(f"{which} --dump-encoded: exit {r['rc']}: {tail(r['err'])}")
                log(f"  FAILED {which} --dump-encoded: {tail(r['err'], 3)}")
                continue
            with open(path, "rb") as f:
                f.readline()
                head = json.loads(f.readline())
            self.dumps[which] = {"path": path, "meta": head["meta"], "tensors": head["tensors"]}
            log(f"  {which}: wrote {path} ({os.path.getsize(path) / 1048576:.0f} MiB)")

    def e2e_peer(self, lib, which, case, script, threads, rnd):
        """One epoch of a peer on the example's dump; a parameter count that differs from
        the example's fails the measurement."""
        py = self.a.python if lib in ("torch", "torch_padded") else self.peers["path"]
        cmd = [py, os.path.join(HERE, script), "--dump", self.dumps[which]["path"],
               "--threads", str(threads), "--json"]
        cmd += {"torch_padded": ["--padded"], "keras_xla": ["--jit"]}.get(lib, [])
        r = run_measured(cmd, self.env)
        js = json_lines(r["out"])
        j = js[-1] if r["rc"] == 0 and js else {}
        figs = {k: j[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in j}
        want = self.dumps[which]["meta"].get("params")
        value = j.get("train_seconds")
        if j and j.get("params") != want:
            r = dict(r, err=f"parameter count {j.get('params')} differs from the example's {want}")
            value = None
        elif j:
            log(f"  {case} [{lib}]: parameters {j.get('params'):,}, the example's {want:,}")
        self.record("e2e", case, lib, threads, rnd, r, value,
                    {"figures": figs, "params": j.get("params"), "batches": j.get("batches"),
                     "samples": j.get("samples"), "rss": rss_of(j)})

    def run_e2e(self, rnd, threads):
        for which, case, script in (("pos_tagger", "pos_tagger_epoch", "torch_pos_tagger.py"),
                                    ("sentiment", "imdb_epoch", "torch_imdb.py")):
            for lib in ("librnn", "librnn_capped"):
                if not self.has(lib):
                    continue
                cap = self.a.e2e_workspace_limit if lib == "librnn_capped" else 0
                r = run_measured(self.e2e_cmd(which, threads, ws_limit=cap), self.env)
                js = json_lines(r["out"])
                j = js[-1] if r["rc"] == 0 and js else {}
                if which == "sentiment" and j:
                    j = j.get("datasets", [{}])[0]
                m = self.EPOCH_LINE.search(r["err"])
                figs = dict(zip(("loss", "accuracy", "val_loss", "val_accuracy"),
                                map(float, m.groups()))) if m else {}
                self.record("e2e", case, lib, threads, rnd, r, j.get("train_seconds"),
                            {"figures": figs, "params": j.get("params"), "rss": rss_of(j)})
            if which not in self.dumps:
                continue
            for lib in ("torch", "torch2", "keras", "keras_xla", "torch_padded"):
                if not self.has(lib) or (lib == "keras_xla" and not self.a.e2e_keras_xla):
                    continue
                self.e2e_peer(lib, which, case, "keras_e2e.py" if lib.startswith("keras")
                              else script, threads, rnd)

    # -------------------------------------------------------- shared machine

    def run_contention(self):
        """bench/contention.py in its own process (it starts and kills the busy process)."""
        a = self.a
        out = os.path.join(self.workdir, "contention.json")
        cmd = [sys.executable, os.path.join(HERE, "contention.py"), "--build", self.build,
               "--json-out", out, "--threads", str(a.e2e_threads[-1])]
        if a.quick:
            cmd.append("--quick")
        if a.data:
            cmd += ["--data", a.data]
        if self.peers:
            cmd += ["--peers-python", self.peers["path"]]
        else:
            cmd.append("--no-peers")
        if self.torch and not a.quick:
            cmd += ["--torch113", a.python]
        r = subprocess.run(cmd, env=self.env, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=sys.stderr, text=True)
        if not os.path.exists(out):
            self.failures.append(f"contention.py: exit {r.returncode}")
            return
        with open(out) as f:
            self.contention = json.load(f)
        self.failures += [f"contention: {x}" for x in self.contention.get("failures", [])]

    # -------------------------------------------------------- driver

    def measure_host(self):
        """The machine's vector speed: one case on 1 thread at oneDNN's own ISA and capped at
        AVX2 (ONEDNN_MAX_CPU_ISA). A core with full-rate AVX-512 runs it about 2x faster than
        at AVX2; a VM whose host shares or throttles those units, barely faster, and librnn's
        kernels (AVX-512 on such CPUs) then slow more than peers built for AVX2: such a run
        does not compare with earlier ones. Returns {"case", "default_ms", "avx2_ms"}."""
        res = {"case": HOST_CHECK_CASE}
        for key, isa in (("default_ms", None), ("avx2_ms", "AVX2")):
            env = dict(self.env)
            if isa:
                env["ONEDNN_MAX_CPU_ISA"] = env["DNNL_MAX_CPU_ISA"] = isa
            _, j = self.c_case("rnn_bench", HOST_CHECK_CASE, 1, 1 if self.a.quick else 3, 1,
                               env=env)
            res[key] = j.get("median_ms")
        return res

    def host_check_gains(self):
        """AVX2 time over the default time, at each host check that measured both."""
        return [h["avx2_ms"] / h["default_ms"] for h in (self.host_check or {}).values()
                if h and h.get("avx2_ms") and h.get("default_ms")]

    def run(self):
        a = self.a
        for k, p in self.bin.items():
            if not os.access(p, os.X_OK):
                sys.exit(f"run_all: {p} is missing: build first (meson compile -C {a.build})")
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load_start = os.getloadavg()
        self.machine = machine_info()
        self.buildinfo = build_info(self.build)
        self.librnn_version = self.buildinfo.get("librnn_header")
        self.torch = None if a.no_torch else torch_info(a.python)
        if not a.no_torch and not self.torch:
            log(f"run_all: no PyTorch for {a.python}: no PyTorch 1.13 column "
                "(use /usr/bin/python3 with Debian's python3-torch)")
        self.peers = None if a.no_peers else peers_info(a.peers_python)
        self.cases = self.recurrent_cases() if "recurrent" in a.only else []
        self.workdir = tempfile.mkdtemp(prefix="librnn-bench-", dir=a.workdir)
        t0 = time.time()
        busy0, own0 = busy_cpu_seconds(), os.times()
        try:
            log("host check: " + HOST_CHECK_CASE + " on 1 thread, at oneDNN's ISA and at AVX2")
            self.host_check = {"start": self.measure_host(), "end": None}
            if self.cases and not a.no_bf16:
                r = run_measured([self.bin["rnn_bench"], "--case", self.cases[0], "--runs", "1",
                                  "--warmup", "0", "--precision", "bf16"], self.env)
                self.bf16 = r["rc"] == 0
                log("mixed bf16: " + ("measured" if self.bf16 else
                                      f"not on this machine ({tail(r['err'], 1)[:200]})"))
            if self.has("ort") and self.cases:
                if any(c.startswith("infer_step") for c in self.cases):
                    log("ONNX Runtime C API: building bench/ort_step.c in the trixie root")
                    self.prepare_ort_c()
                log("ONNX Runtime: exporting the inference cases' models (torch.onnx.export)")
                self.prepare_onnx()
            if "e2e" in a.only:
                log("end-to-end: encoding the data once (--dump-encoded)")
                self.prepare_dumps()
            for rnd in range(max(a.rounds, a.e2e_rounds)):
                if rnd < a.rounds:
                    for th in a.threads:
                        if self.cases:
                            log(f"round {rnd + 1}/{a.rounds}: recurrent cases, {th} thread(s)")
                            self.run_recurrent(rnd, th)
                        if "decode" in a.only:
                            log(f"round {rnd + 1}/{a.rounds}: decoding, {th} thread(s)")
                            self.run_decode(rnd, th)
                if rnd < a.e2e_rounds and "e2e" in a.only:
                    for th in a.e2e_threads:
                        log(f"round {rnd + 1}/{a.e2e_rounds}: end-to-end epochs, {th} thread(s)")
                        self.run_e2e(rnd, th)
            if "contention" in a.only:
                log("contention: bench/contention.py (idle and beside a busy process)")
                self.run_contention()
            self.host_check["end"] = self.measure_host()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
            if self.ort_c:
                shutil.rmtree(self.ort_c["dir"], ignore_errors=True)
        self.seconds = time.time() - t0
        self.load_end = os.getloadavg()
        # CPU time that other processes took during the run: the machine's busy time less
        # this script's and its children's (every measurement and helper process).
        busy1, own1 = busy_cpu_seconds(), os.times()
        self.foreign = None
        if busy0 is not None and busy1 is not None:
            ours = (own1.user + own1.system + own1.children_user + own1.children_system
                    - own0.user - own0.system - own0.children_user - own0.children_system)
            avail = self.seconds * self.machine["usable_cpus"]
            self.foreign = max(0.0, (busy1 - busy0 - ours) / avail) if avail > 0 else None

    # -------------------------------------------------------- the page

    def measured(self, section, threads, libs):
        """The libraries of libs with at least one measurement in section at threads."""
        return [lib for lib in libs if any(
            r["section"] == section and r["lib"] == lib and r["threads"] == threads
            and r["value"] is not None for r in self.records)]

    def winner_sentence(self, rows):
        """A plain sentence on who wins, from rows [(name, {lib: median})] (lower is better):
        how often librnn is fastest and by how much over the fastest peer, and where a peer
        beats it."""
        wins, losses, n = [], [], 0
        for name, med in rows:
            l = med.get("librnn")
            peers = {k: v for k, v in med.items() if k in PEERS and v}
            if not l or not peers:
                continue
            n += 1
            best = min(peers, key=peers.get)
            if peers[best] >= l:
                wins.append((peers[best] / l, best))
            else:
                losses.append((name, best, l / peers[best]))
        if not n:
            return "No peer was measured beside librnn here."
        out = []
        if wins:
            by = sorted(x for x, _ in wins)
            who = {}
            for _, b in wins:
                who[self.label(b)] = who.get(self.label(b), 0) + 1
            span = f"{by[0]:.2f}x" if len(by) == 1 else f"{by[0]:.2f}x to {by[-1]:.2f}x"
            out.append(f"librnn is fastest in {len(wins)} of {n} "
                       f"{'case' if n == 1 else 'cases'}, by {span} over the fastest peer ("
                       + ", ".join(f"{k} in {v}" for k, v in who.items()) + ")")
        else:
            out.append(f"librnn is fastest in none of the {n} cases")
        by_peer = {}
        for c, b, x in losses:
            by_peer.setdefault(self.label(b), []).append(f"{c} ({x:.2f}x faster)")
        if by_peer:
            out.append("; " + "; ".join(f"{p} beats it in " + ", ".join(cs)
                                        for p, cs in by_peer.items()))
        return "".join(out) + "."

    def compare_table(self, w, section, names, threads, unit):
        """librnn against every peer measured: medians (ranges), the fastest peer's ratio,
        peak RSS; then the winner sentence."""
        libs = self.measured(section, threads,
                             ("librnn", "librnn_bf16", "librnn_trixie") + PEERS)
        peers = [lib for lib in libs if lib in PEERS]
        w("| case | " + " | ".join(f"{self.label(lib)} {unit}" for lib in libs)
          + " | fastest peer / librnn | peak RSS MiB " + " / ".join(
              self.label(lib) for lib in libs) + " |")
        w("|---" * (len(libs) + 3) + "|")
        rows = []
        for c, name in names:
            s = {lib: summary(self.values(section, c, lib, threads)) for lib in libs}
            med = {lib: v["median"] for lib, v in s.items() if v}
            rows.append((name, med))
            pm = {lib: med[lib] for lib in peers if lib in med}
            best = min(pm, key=pm.get) if pm else None
            w(f"| {name} | " + " | ".join(fmt_s(s[lib]) for lib in libs) + " | "
              + (f"{pm[best] / med['librnn']:.3g}x ({self.label(best)})"
                 if best and med.get("librnn") else "n/a") + " | "
              + " / ".join(mib(self.rss(section, c, lib, threads)) for lib in libs) + " |")
        w("")
        w(self.winner_sentence(rows))
        w("")

    def page(self):
        a = self.a
        tmax = max(a.threads)
        L = []
        w = L.append
        w("# Benchmarks")
        w("")
        w("<!-- Generated by bench/run_all.py: do not edit by hand. The two hand-written sections "
          "at the end come from bench/onednn_versions.md and bench/static_analysis.md. -->")
        w("")
        w(f"Generated {self.started:%Y-%m-%d %H:%M} UTC in {self.seconds / 60:.0f} min by "
          f"`{self.command}`"
          + (f"; page written again from its record by `bench/run_all.py --from-json "
             f"{os.path.relpath(a.json_output, ROOT)}`" if self.rerendered
             else "") + ".")
        if a.quick:
            w("")
            w("**`--quick` smoke run: tiny settings (one round, few steps, data subsets); these "
              "numbers only show that the suite runs, they measure nothing.**")
        # Other processes' CPU share over the whole run decides; the load average at the start
        # (a decaying one-minute mean, raised by the compile just before) only when that
        # share is unknown.
        if (self.foreign > 0.05 if self.foreign is not None else self.load_start[0] > 1.0):
            w("")
            w("**Warning: the machine was not idle**: other processes took "
              f"{100 * (self.foreign or 0):.0f}% of the CPU time during the run (load average "
              f"{self.load_start[0]:.2f} at the start): they shared the cores, and these timings "
              "are not trustworthy.")
        gains = self.host_check_gains()
        if gains and min(gains) < HOST_CHECK_MIN_GAIN:
            w("")
            w(f"**Warning: the host's vector units were slow**: capped at AVX2, oneDNN's "
              f"kernels took only {min(gains):.2f}x the time of its default (AVX-512) ones on "
              f"{HOST_CHECK_CASE}, 1 thread (about 2x on a host with full-rate AVX-512; the "
              "host check in the machine table). librnn's kernels then lose more than peers "
              "built for AVX2, and these ratios do not compare with runs on a full-speed host.")
        if self.failures:
            w("")
            w("**Some measurements failed** (listed at the end); their cells say n/a.")
        w("")
        w("Every number below comes from one run of the suite: each measurement is a fresh "
          "process, the libraries one after the other, case by case, round after round, so "
          "they all saw the same machine conditions. \"median (min-max)\" is over the rounds; "
          "\"fastest peer / librnn\" is the median of the fastest other library over librnn's "
          "(above 1: librnn is faster). Peak RSS is the largest resident set of each process "
          "over the rounds (`ru_maxrss` from `os.wait4`); a Python process's includes the "
          "interpreter and its imports"
          + (f" (PyTorch 1.13 with numpy: {mib(self.torch['import_rss_kib'])} MiB before any "
             "work)" if self.torch else "")
          + ".")
        w("")

        # machine
        m, b, t = self.machine, self.buildinfo, self.torch
        w("## Machine and versions")
        w("")
        w("| | |")
        w("|---|---|")
        cores = f"{m['logical_cpus']} logical CPUs"
        if m["physical_cores"]:
            cores += f", {m['physical_cores']} physical cores"
        if m["usable_cpus"] != m["logical_cpus"]:
            cores += f", {m['usable_cpus']} usable by this process"
        w(f"| CPU | {m['cpu_model']} ({', '.join(m['isa']) or 'no AVX2'}) |")
        w(f"| cores | {cores}; {m['memory_gib']} GiB RAM |")
        w(f"| threads used | recurrent and decoding cases: {', '.join(map(str, a.threads))}; "
          f"end-to-end epochs: {', '.join(map(str, a.e2e_threads))} |")
        w(f"| system | {m['os']}, Linux {m['kernel']} |")
        w(f"| other processes | took {fmt_pct(self.foreign)} of the CPU time during the run; "
          f"load average {self.load_start[0]:.2f} at the start |")
        if self.host_check:
            w(f"| host check | `rnn_bench --threads 1 --case {HOST_CHECK_CASE}`: "
              + "; ".join(f"{when} of the run {fmt(h.get('default_ms'))} ms, capped at AVX2 "
                          f"(ONEDNN_MAX_CPU_ISA) {fmt(h.get('avx2_ms'))} ms"
                          for when, h in self.host_check.items() if h)
              + " (a host with full-rate AVX-512: about 2x faster than AVX2) |")
        w(f"| OpenMP environment | OMP_WAIT_POLICY={m['omp_wait_policy']}, "
          f"OMP_NUM_THREADS={m['omp_num_threads']} (both libraries use libgomp) |")
        w(f"| librnn | {self.librnn_version or '?'}, git {b.get('git') or '?'}, meson buildtype "
          f"{b.get('buildtype')} (-O{b.get('optimization')}), {b.get('cc') or '?'} |")
        w(f"| oneDNN | {b.get('onednn') or '?'} |")
        if t:
            w(f"| PyTorch | {t['torch']} ({t['deb'] or 'not a Debian package'}), its own "
              f"oneDNN {'enabled' if t['mkldnn'] else 'disabled'}; BLAS {t['blas'] or '?'} |")
            w(f"| Python, numpy | {t['python']}, numpy {t['numpy']} |")
        else:
            w("| PyTorch 1.13 | not installed (or --no-torch) |")
        p = self.peers
        if p:
            w(f"| peers' environment | `{p['path']}` (bench/requirements.txt), Python "
              f"{p['python']}: PyTorch {p.get('torch') or '-'}, Keras {p.get('keras') or '-'} on "
              f"TensorFlow {p.get('tensorflow') or '-'}, ONNX Runtime "
              f"{p.get('onnxruntime') or '-'} (models from torch.onnx.export, onnx "
              f"{p.get('onnx') or '-'}), numpy {p.get('numpy') or '-'} |")
        else:
            w("| peers' environment | not found (or --no-peers): no PyTorch 2, Keras or ONNX "
              "Runtime columns |")
        if self.ort_c:
            w(f"| ONNX Runtime's C API, librnn on trixie | Debian trixie root "
              f"`{self.ort_c['root']}`: libonnxruntime-dev {self.ort_c['version']} "
              f"(`bench/ort_step.c`), librnn's "
              f"`rnn_bench` built there against libdnnl-dev {self.ort_c['dnnl']} |")
        else:
            w("| ONNX Runtime's C API | not measured (no trixie root with libonnxruntime-dev; "
              "bench/README.md) |")
        w("")

        # recurrent
        if self.cases:
            self.page_recurrent(w, tmax)
        if "decode" in a.only:
            self.page_decode(w)
        if "e2e" in a.only:
            self.page_e2e(w)
        if "contention" in a.only and self.contention:
            w(contention.markdown(self.contention))
        if self.cases and self.torch:
            self.page_targets(w, tmax)
        self.page_method(w)
        w("## Reproduce")
        w("")
        w("On an idle machine, from the project root, after `meson setup build` (the script "
          "compiles what it runs):")
        w("")
        w("```sh")
        w("/usr/bin/python3 bench/run_all.py")
        w("```")
        w("")
        w("`--quick` is a smoke run of a few minutes (it writes `build/benchmarks-quick.md`); "
          "`--help` lists the knobs (rounds, steps per process, thread counts, data subsets, "
          "sections). The raw measurements of the run go to "
          f"`{os.path.relpath(a.json_output, ROOT)}`; `--from-json FILE` writes the page of a "
          "recorded run again without measuring. `bench/README.md` describes the pieces.")
        w("")
        if self.failures:
            w("## Failed measurements")
            w("")
            for f in self.failures:
                w(f"- `{f}`")
            w("")
        versions = read(os.path.join(HERE, "onednn_versions.md")).strip()
        if versions:
            w(versions)
            w("")
        static = read(os.path.join(HERE, "static_analysis.md")).strip()
        if static:
            w(static)
            w("")
        return "\n".join(L)

    def page_recurrent(self, w, tmax):
        a = self.a
        w(f"## Recurrent layers (the cases of issue 2 and batch inference), {tmax} threads")
        w("")
        w(f"Milliseconds per training step, per inference step or per batch inference. Each "
          f"process runs {a.train_warmup} + {a.train_runs} training steps or batch inferences "
          f"({a.step_warmup} + {a.step_runs} inference steps), warm-up first, and reports its median; the table gives the median "
          f"and the range of those per-process medians over {a.rounds} round(s).")
        w("")
        self.compare_table(w, "recurrent", [(c, c) for c in self.cases], tmax, "ms")
        self.c_api_sentence(w, tmax)
        for th in a.threads[:-1]:
            w(f"### The same at {th} thread(s)")
            w("")
            self.compare_table(w, "recurrent", [(c, c) for c in self.cases], th, "ms")
        kc = [c for c in self.cases if self.values("recurrent", c, "kernels", tmax)]
        if kc:
            w("### librnn's overhead over its own kernels")
            w("")
            w("The same cases again on the raw backend kernels (`build/bench/kernel_bench`: "
              "`rnn__rnn_forward` + `rnn__rnn_backward` of `lib/backend/backend.h`, one kernel per "
              "layer and direction, time-major buffers, weights re-imported every training step "
              "as after an update; inference steps feed each call's final state to the next), in "
              "the same rounds. The difference is what the public API adds: "
              "layout changes between batch-major tensors and the kernels' time-major buffers, "
              "gradient zeroing, the SGD update, direction merging, graph bookkeeping, state "
              "carrying and argument checks. Medians over the rounds, in ms.")
            w("")
            w("| case | threads | public API | raw kernels | overhead |")
            w("|---|---|---|---|---|")
            for c in kc:
                for th in a.threads:
                    l = summary(self.values("recurrent", c, "librnn", th))
                    k = summary(self.values("recurrent", c, "kernels", th))
                    ov = (f"{100 * (l['median'] / k['median'] - 1):+.1f}%" if l and k
                          else "n/a")
                    w(f"| {c} | {th} | {fmt_s(l)} | {fmt_s(k)} | {ov} |")
            w("")
        if len(a.threads) > 1:
            t0, t1 = a.threads[0], a.threads[-1]
            w(f"### Thread scaling, {t0} to {t1} threads")
            w("")
            w(f"Speed-up = median time at {t0} thread(s) / median time at {t1} (the two "
              "medians in ms in brackets).")
            w("")
            libs = [lib for lib in ("librnn",) + PEERS
                    if self.measured("recurrent", t0, [lib]) or lib == "librnn"]
            w("| case | " + " | ".join(f"{self.label(lib)} speed-up" for lib in libs) + " |")
            w("|---" * (len(libs) + 1) + "|")
            rows = [(c, "recurrent") for c in self.cases]
            if "decode" in a.only:
                rows += [(c, "decode") for c, _ in self.DECODE]
            for c, sec in rows:
                cells = []
                for lib in libs:
                    s0 = summary(self.values(sec, c, lib, t0))
                    s1 = summary(self.values(sec, c, lib, t1))
                    cells.append(f"{s0['median'] / s1['median']:.2f}x ({fmt(s0['median'])} -> "
                                 f"{fmt(s1['median'])})" if s0 and s1 else "n/a")
                w(f"| {c} | " + " | ".join(cells) + " |")
            w("")
            if "decode" in a.only:
                w("The decoding rows are librnn's step-wise decoding only (no peer "
                  "counterpart).")
                w("")

    def c_api_sentence(self, w, threads):
        """The one-step cases against ONNX Runtime's C API, both on trixie."""
        out = []
        for c in self.cases:
            o = summary(self.values("recurrent", c, "ort_c", threads))
            if not o:
                continue
            for lib in ("librnn", "librnn_trixie", "librnn_bf16"):
                v = summary(self.values("recurrent", c, lib, threads))
                if v:
                    out.append(f"{c}: {self.label(lib)} {fmt(v['median'])} ms, "
                               f"{o['median'] / v['median']:.2f}x ONNX Runtime's C API")
        if out:
            w("ONNX Runtime's C API (`bench/ort_step.c`, Debian trixie's libonnxruntime-dev) "
              "runs the one-step cases in the trixie root; librnn is timed there too, built "
              "against trixie's oneDNN: " + "; ".join(out) + ".")
            w("")

    def page_decode(self, w):
        a = self.a
        w("## Step-wise decoding (librnn only)")
        w("")
        w("`build/bench/decode_bench`: an attentional LSTM encoder-decoder of the fra-eng "
          "example's size (embedding 128, LSTM 256, general attention, Dense 256 tanh, Dense "
          "10,000 softmax), batch 1, 12 source tokens, 20 generated tokens. Step-wise: "
          "`rnn_model_decode()` (the encoder once, then one decoder step per token on carried "
          "states). Naive: the whole model re-run on the growing prefix, greedy (also in the beam "
          "row, whose ratio therefore sets beam search against greedy re-runs). "
          f"Each process times {a.decode_runs} decodes after one warm-up and reports medians; "
          f"the table gives the median and range of those over {a.rounds} round(s).")
        w("")
        w("| case | threads | step-wise ms | us per generated token | naive re-run ms | "
          "naive / step-wise | peak RSS MiB |")
        w("|---|---|---|---|---|---|---|")
        for c, _ in self.DECODE:
            for th in a.threads:
                s = summary(self.values("decode", c, "librnn", th))
                n = summary(self.values("decode", c, "librnn", th, "naive_ms"))
                u = summary(self.values("decode", c, "librnn", th, "us_per_token"))
                w(f"| {c} | {th} | {fmt_s(s)} | {fmt(u['median']) if u else 'n/a'} | "
                  f"{fmt_s(n)} | {ratio(n, s)} | {mib(self.rss('decode', c, 'librnn', th))} |")
        w("")

    def page_e2e(self, w):
        a = self.a
        w("## End-to-end: one training epoch of the example programs")
        w("")
        pos = self.dumps.get("pos_tagger", {}).get("meta", {})
        imdb = self.dumps.get("sentiment", {}).get("meta", {})
        w("Seconds for one epoch: every training batch (forward, loss, backward, Adam update, "
          "batch loss and accuracy) plus the validation pass over the held-out tenth, on the "
          "real data. librnn: the example program itself, `--epochs 1 --json`, its "
          "`train_seconds` (the time of `rnn_model_fit()`, printed to 0.1 s; loading and "
          "encoding the data and the test evaluation are outside). PyTorch: "
          "`bench/torch_pos_tagger.py` and `bench/torch_imdb.py` on the tensors the example "
          "wrote with `--dump-encoded` (the same token ids and lengths), in the same batches "
          "and batch order (a port of librnn's seeded shuffle and length bucketing, "
          "`bench/e2e_common.py`), with the same architecture (parameter counts checked), "
          "loss, optimizer and batch size. Keras: `bench/keras_e2e.py`, the same models as "
          "the examples' Keras notebooks (Embedding with `mask_zero`, Bidirectional GRU), "
          "on the same dumps and batches through `model.fit` (its clock includes tracing "
          "the train and test functions); \"Keras XLA\" compiles with `jit_compile=True`, "
          "once per distinct batch shape"
          + ("" if a.e2e_keras_xla else " (not timed in this run: `--e2e-keras-xla`)")
          + f"; {a.e2e_rounds} round(s). Every peer's parameter count must equal the "
          "example's, or its measurement fails.")
        w("")
        names = {"pos_tagger_epoch": "POS tagger (Brown)", "imdb_epoch": "IMDB classifier"}
        for th in a.e2e_threads:
            if len(a.e2e_threads) > 1:
                w(f"{th} thread(s):")
                w("")
            self.compare_table(w, "e2e", list(names.items()), th, "s")
        counts = []
        for c, name in names.items():
            libs = self.measured("e2e", a.e2e_threads[-1], ("librnn",) + PEERS)
            got = [(self.label(lib), (self.last("e2e", c, lib, a.e2e_threads[-1]) or {})
                    .get("params")) for lib in libs]
            counts.append(f"{name}: " + ", ".join(f"{n} {v:,}" for n, v in got if v))
        w("Parameter counts (each checked against the example's): " + "; ".join(counts) + ".")
        w("")
        pad = self.has("torch_padded") and self.measured("e2e", a.e2e_threads[-1],
                                                         ["torch_padded"])
        if pad:
            w("| example | threads | PyTorch padded s (not the same model) | padded / librnn |")
            w("|---|---|---|---|")
            for c, name in names.items():
                for th in a.e2e_threads:
                    l = summary(self.values("e2e", c, "librnn", th))
                    p = summary(self.values("e2e", c, "torch_padded", th))
                    w(f"| {name} | {th} | {fmt_s(p)} | {ratio(p, l)} |")
            w("")
        if pad:
            w("\"PyTorch padded\" (skip with `--no-torch-padded`) runs the GRU on the padded "
              "batch instead of packed sequences: not the example's model (the reverse "
              "direction reads the padding before the real tokens), shown only to separate "
              "the cost of PyTorch's packed-sequence path (on CPU its backward pass runs step "
              "by step) from the rest.")
            w("")
        w("What the epoch computed (last round; the libraries start from different random "
          "weights and dropout masks, so the figures agree only roughly; they show that all "
          "train the same model on the same data):")
        w("")
        w("| example | threads | library | loss | accuracy | val_loss | val_accuracy |")
        w("|---|---|---|---|---|---|---|")
        for c, name in names.items():
            for th in a.e2e_threads:
                for lib in ("librnn", "librnn_capped") + PEERS + ("torch_padded",):
                    ln = self.label(lib)
                    r = self.last("e2e", c, lib, th)
                    if not r:
                        continue
                    f = r.get("figures") or {}
                    w(f"| {name} | {th} | {ln} | "
                      + " | ".join(f"{f[k]:.4f}" if f.get(k) is not None else "n/a"
                                   for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
                      + " |")
        w("")

        rows, added = [], {}
        for c, name in names.items():
            th = a.e2e_threads[-1]
            for lib in ("librnn", "librnn_capped") + PEERS:
                rs = [x for x in self.records_of("e2e", c, lib, th) if x.get("rss")]
                if rs:
                    before = [x["rss"][0] for x in rs]
                    peak = [x["rss"][1] for x in rs]
                    added[c, lib] = max(p - b for b, p in zip(before, peak))
                    rows.append(f"| {name} | {self.label(lib)} | {max(before):.0f} | "
                                f"{max(peak):.0f} | {added[c, lib]:.0f} |")
        if rows:
            w("Memory around the epoch (MiB; the largest over the rounds): the process's resident "
              "set just before training (data loaded and encoded, model built; for the peers "
              "also the Python runtime and the framework), its peak during the training "
              "(`/proc/self/clear_refs` resets the kernel's peak counter before, `VmHWM` after), "
              "and what the training added to it, which is what the library itself holds for "
              "the model apart from the corpus. librnn's examples hold their corpus as parsed "
              "text beside the encoded tensors; the peers read only the encoded dump.")
            w("")
            w("| example | library | resident before MiB | peak during training MiB | "
              "added by training MiB |")
            w("|---|---|---|---|---|")
            for row in rows:
                w(row)
            w("")
            self.page_e2e_memory_target(w, names, added)

        def desc(which):
            d = self.dumps[which]
            S = d["tensors"][0]["shape"][0]
            m = d["meta"]
            n_val = int(S * m["validation_split"])
            B = m["batch_size"]
            return (f"{S - n_val:,} training samples in {(S - n_val + B - 1) // B} batches "
                    f"of at most {B}, then {n_val:,} validation samples")

        if pos:
            w(f"- POS tagger: `build/examples/pos_tagger --epochs 1 --seed {a.seed}"
              f"{' --limit ' + str(a.pos_limit) if a.pos_limit else ''}`: "
              f"{desc('pos_tagger')} (sentences; length bucketing over runs of "
              f"{pos.get('bucket_batches')} batches, each batch cut to its longest sentence). "
              "Embedding("
              f"{pos.get('vocab_size'):,}, {pos.get('embedding')}) -> SpatialDropout1D("
              f"{pos.get('spatial_dropout')}) -> bidirectional GRU({pos.get('units')}) -> "
              f"Dense({pos.get('classes')}, softmax) per token, {pos.get('params'):,} parameters, "
              "cross-entropy averaged over the real tokens, Adam "
              f"{pos.get('learning_rate')}.")
        if imdb:
            w(f"- IMDB: `build/examples/sentiment --dataset imdb --epochs 1 --seed {a.seed}"
              f"{' --limit ' + str(a.imdb_limit) if a.imdb_limit else ''}`: "
              f"{desc('sentiment')} (reviews, their last {imdb.get('maxlen')} tokens; "
              f"bucketing over runs of {imdb.get('bucket_batches')} batches, each batch cut to "
              "its longest review). "
              f"Embedding({imdb.get('vocab_size'):,}, {imdb.get('embedding')}) -> "
              f"SpatialDropout1D({imdb.get('spatial_dropout'):.2g}) -> bidirectional "
              f"GRU({imdb.get('units')}) -> global max and average pooling over the real steps, "
              f"concatenated -> Dropout({imdb.get('dropout'):.2g}) -> Dense(1, sigmoid), "
              f"{imdb.get('params'):,} parameters, binary cross-entropy, Adam "
              f"{imdb.get('learning_rate'):.3g}.")
        w("- Keras: the POS tagger's per-token Dense is applied to the sequence directly (what "
          "`TimeDistributed(Dense)` computes, same weights: Keras 3's TimeDistributed fails on "
          "masked batches of varying length), and its GlobalMaxPooling1D ignores the mask (max "
          "over the padded steps too, where the masked GRU outputs 0): the same work.")
        w("- Differences that remain: PyTorch runs the GRU on packed sequences "
          "(`pack_padded_sequence`), and the POS tagger's Dense layer and loss on the packed "
          "real tokens only, which is how one writes it in PyTorch; librnn runs its layers on "
          "the batch cut to its longest sequence with per-sample lengths. Weight "
          "initialization differs (PyTorch's defaults against Keras' Glorot/orthogonal), "
          "which does not change the amount of work. The PyTorch batch plan is computed "
          "before its clock starts (pure Python; librnn's takes microseconds inside its "
          "clock). For these small GRUs PyTorch's packed-sequence path costs much of its time "
          "(its backward pass runs step by step on CPU): see the \"PyTorch padded\" column. "
          "Peak RSS: the librnn process also holds the raw corpus, the test split "
          "and the vocabulary (it is the whole example program), the PyTorch process the "
          "encoded training tensors and the Python runtime.")
        w("")

    def page_e2e_memory_target(self, w, names, added):
        """Issue 16's memory target: what training adds, librnn against the lowest peer;
        with the capped run, its time against the uncapped one's."""
        th = self.a.e2e_threads[-1]
        out = []
        for c, name in names.items():
            peers = [(v, lib) for (cc, lib), v in added.items() if cc == c and lib in PEERS]
            if (c, "librnn") not in added or not peers:
                continue
            low, plib = min(peers)
            parts = []
            for lib in ("librnn", "librnn_capped"):
                if (c, lib) not in added:
                    continue
                v = added[c, lib]
                verdict = "met" if v <= low else f"NOT met, {v / low:.2f}x"
                txt = f"{self.label(lib)} adds {v:.0f} MiB ({verdict})"
                if lib == "librnn_capped":
                    l = summary(self.values("e2e", c, "librnn", th))
                    k = summary(self.values("e2e", c, lib, th))
                    f = summary(self.values("e2e", c, plib, th))
                    if l and k:
                        txt += f", its epoch {fmt_s(k)} s against {fmt_s(l)} s uncapped"
                        if f:
                            txt += f" and {fmt_s(f)} s for {self.label(plib)}"
                parts.append(txt)
            out.append(f"{name}: the lowest peer, {self.label(plib)}, adds {low:.0f} MiB; "
                       + "; ".join(parts) + ".")
        if not out:
            return
        w("Against the memory target of issue 16 (what training adds no more than the peer's, "
          "the lowest peer taken). `--workspace-limit` is the examples' opt-in cap on the "
          "recurrent layers' training workspaces (`rnn_set_workspace_limit()`, "
          "docs/guide/memory.md); without it every step's oneDNN workspace is kept, as the "
          "peers keep their activations. " + " ".join(out))
        w("")

    def page_targets(self, w, tmax):
        w(f"## Against the targets of issue 3 (re-derived from this run, {tmax} threads)")
        w("")

        def med(case, lib):
            s = summary(self.values("recurrent", case, lib, tmax))
            return s["median"] if s else None

        rows = []
        for case, what, need in (
                ("train_lstm_T100_N64_I512_H512_L1_uni", "LSTM 512/512 training step", 1.6),
                ("train_gru_T100_N64_I512_H512_L1_uni", "LBR-GRU 512/512 training step", 1.6),
                ("train_lstm_T50_N32_I50_H64_L1_bi", "BiLSTM T50 N32 50/64 training step", 3.5)):
            l, t = med(case, "librnn"), med(case, "torch")
            if l and t:
                rows.append((f"{what} >= {need}x PyTorch",
                             f"{t / l:.2f}x ({fmt(l)} vs {fmt(t)} ms)",
                             "met" if t / l >= need else "**not met**"))
        l = med("infer_step_lstm_N1_I256_H512", "librnn")
        if l:
            rows.append(("inference step LSTM 256->512 <= 70 us", f"{l * 1000:.0f} us",
                         "met" if l * 1000 <= 70 else "**not met** (memory-bound in f32, see the "
                         "earlier analysis below)"))
        v, u = med("train_lstm_T100_N64_I512_H512_L1_uni_varlen", "librnn"), \
            med("train_lstm_T100_N64_I512_H512_L1_uni", "librnn")
        if v and u:
            rows.append(("variable lengths no slower than uniform", f"{fmt(v)} vs {fmt(u)} ms",
                         "met" if v <= u else "**not met**"))
        ovs = []
        for case in self.cases:
            l, k = med(case, "librnn"), med(case, "kernels")
            if l and k:
                ovs.append((l / k - 1, case))
        if ovs:
            worst = max(ovs)
            rows.append(("overhead over the raw kernels <= about 10%",
                         f"{100 * worst[0]:+.1f}% at worst ({worst[1]}); "
                         + ", ".join(f"{100 * o:+.1f}%" for o, _ in ovs),
                         "met" if worst[0] <= 0.105 else "**not met**"))
        else:
            rows.append(("overhead over the raw kernels <= about 10%", "not measured in this run",
                         "see the earlier analysis below"))
        w("| target | measured here | |")
        w("|---|---|---|")
        for r in rows:
            w("| " + " | ".join(r) + " |")
        w("")

    def page_method(self, w):
        w("## What is timed")
        w("")
        w("- **Training steps** (`build/bench/rnn_bench`, PyTorch mirror in "
          "`bench/compare_torch.py`): forward in training mode + backward from a fixed output "
          "gradient (scaled like the gradient of a loss averaged over batch and time) + an SGD "
          "update of every weight + zeroing the gradients, through the public API; "
          "batch-first input; `_varlen` gives sample n the length 10 + (37 n mod 91), 64 "
          "distinct lengths in 10..100 (`bench/bench_common.h`, the same on both sides; PyTorch "
          "packs them). Case names: T steps, N batch, "
          "I inputs, H units, L layers, uni- or bidirectional.")
        w("- **Inference steps**: a stateful layer on T=1, N=1, state carried between calls "
          "(PyTorch: `no_grad`, the state passed back in; Keras: `return_state` and "
          "`initial_state` in a `tf.function`; ONNX Runtime: the state outputs fed back as "
          "inputs). **Batch inference** (`infer_batch_*`): the whole (N, T, I) batch in "
          "inference mode, every step's output, no state carried.")
        w("- **librnn mixed bf16**: the same `rnn_bench` cases with `--precision bf16` "
          "(`rnn_model_set_precision(RNN_PRECISION_MIXED_BF16)`, Keras' `mixed_bfloat16`: bf16 "
          "recurrent kernels and products, f32 master weights, loss and optimizer; "
          "docs/guide/precision.md); every other column is f32.")
        w("- **Keras** (`bench/keras_cases.py`): the same layers (Keras' LSTM, GRU with "
          "`reset_after=True`, `Bidirectional`, stacked), the training step as one "
          "`tf.function` (forward in training mode, `GradientTape` from the same scaled fixed "
          "gradient, SGD `apply_gradients`); `_varlen` passes the lengths as a mask. Plain "
          "graph mode (what Keras picks on a CPU-only machine) and, as \"Keras XLA\", "
          "`jit_compile=True`. **ONNX Runtime** (`bench/ort_cases.py`): PyTorch's layer "
          "exported by `torch.onnx.export` (TorchScript exporter, ONNX LSTM/GRU operators), "
          "run from Python by an `InferenceSession` on the CPU provider, and for the one-step "
          "cases from C (`bench/ort_step.c`: the same exported model through the C API of "
          "Debian trixie's libonnxruntime-dev, states carried as `rnn_bench` carries them, in "
          "a trixie root, where librnn's `rnn_bench` is timed too against trixie's oneDNN).")
        w("- Each case runs in its own process (`rnn_bench --case NAME`, `run_all.py "
          "--torch-worker NAME`, `keras_cases.py --case NAME`, `ort_cases.py --case NAME`), "
          "so its peak RSS is its own (plus, for the peers, the Python runtime and imports).")
        w("- Threads: `rnn_bench --threads N` (`rnn_set_num_threads`), "
          "`torch.set_num_threads(N)` with one inter-op thread, TensorFlow's "
          "`set_intra_op_parallelism_threads(N)` with one inter-op thread, ONNX Runtime's "
          "`intra_op_num_threads` N with one inter-op thread; the examples' `--threads N`.")
        w("")


# ------------------------------------------------------------ main

def parse_list(s):
    return [int(x) for x in s.split(",") if x.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 round, few steps, data subsets; writes "
                         "build/benchmarks-quick.md unless --output is given")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build directory")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run `meson compile` on the benchmark targets first")
    ap.add_argument("--output", default=None, help="page to write (default docs/benchmarks.md)")
    ap.add_argument("--json-output", default=None,
                    help="raw measurements (default docs/benchmarks.json, beside the page; "
                         "--quick: BUILD/benchmarks-quick.json)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter with torch and numpy for the PyTorch side")
    ap.add_argument("--no-torch", action="store_true", help="no PyTorch 1.13 (--python) column")
    ap.add_argument("--peers-python", default=PEERS_PYTHON if os.access(PEERS_PYTHON, os.X_OK)
                    else None,
                    help="interpreter of the peers' virtual environment (bench/requirements.txt: "
                         "PyTorch 2, Keras 3 + TensorFlow, ONNX Runtime); default "
                         f"{PEERS_PYTHON} when it exists, else those columns are skipped")
    ap.add_argument("--no-peers", action="store_true", help="skip the peers' environment")
    ap.add_argument("--no-bf16", action="store_true",
                    help="no \"librnn mixed bf16\" column (rnn_bench --precision bf16; measured "
                         "by default where the CPU has AVX512-BF16 or AMX)")
    ap.add_argument("--trixie-root", default=os.environ.get("LIBRNN_TRIXIE_ROOT",
                                                            "/var/cache/librnn/trixie"),
                    help="Debian trixie root (tools/trixie-root.sh, tools/trixie-test.sh) with "
                         "libonnxruntime-dev, where bench/ort_step.c runs the one-step cases "
                         "through ONNX Runtime's C API (default $LIBRNN_TRIXIE_ROOT or "
                         "/var/cache/librnn/trixie; skipped when missing)")
    ap.add_argument("--e2e-keras-xla", dest="e2e_keras_xla", action="store_true", default=None,
                    help="also time the Keras epochs with XLA (default: only with --quick; XLA "
                         "compiles once per distinct batch shape, which on the whole corpora "
                         "costs minutes per epoch)")
    ap.add_argument("--no-e2e-keras-xla", dest="e2e_keras_xla", action="store_false")
    ap.add_argument("--only", default="recurrent,decode,e2e,contention",
                    help="sections to run, comma-separated (recurrent, decode, e2e, "
                         "contention)")
    ap.add_argument("--case", default=None, help="recurrent cases whose name contains this")
    ap.add_argument("--threads", default="1,2",
                    help="thread counts of the recurrent and decoding cases (default 1,2); the "
                         "main tables use the last")
    ap.add_argument("--e2e-threads", default=None,
                    help="thread counts of the end-to-end epochs (default: the last of --threads)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="processes per recurrent/decoding case and library (default 5)")
    ap.add_argument("--e2e-rounds", type=int, default=None,
                    help="epochs timed per example and library, each in a new process (default 3)")
    ap.add_argument("--train-runs", type=int, default=None, help="training steps per process (7)")
    ap.add_argument("--train-warmup", type=int, default=None, help="warm-up steps (2)")
    ap.add_argument("--step-runs", type=int, default=None, help="inference steps per process (201)")
    ap.add_argument("--step-warmup", type=int, default=None, help="warm-up inference steps (20)")
    ap.add_argument("--decode-runs", type=int, default=None, help="decodes per process (7)")
    ap.add_argument("--pos-limit", type=int, default=None,
                    help="pos_tagger --limit (sentences; default 0 = the whole corpus)")
    ap.add_argument("--imdb-limit", type=int, default=None,
                    help="sentiment --limit (reviews; default 0 = all 25,000)")
    ap.add_argument("--no-torch-padded", dest="torch_padded", action="store_false",
                    help="skip the reference PyTorch epochs with the GRU on padded batches (not "
                         "the same model; timed by default to show what packed sequences cost)")
    ap.add_argument("--e2e-workspace-limit", type=int, default=16, metavar="MIB",
                    help="also time librnn's epochs with the examples' --workspace-limit MIB "
                         "(the opt-in cap on the recurrent training workspaces; default 16; "
                         "0: not timed)")
    ap.add_argument("--seed", type=int, default=1, help="examples' --seed (1)")
    ap.add_argument("--data", default=None,
                    help="examples' --data DIR (default: $LIBRNN_DATA, else ../shared/data)")
    ap.add_argument("--workdir", default=None, help="where the encoded data goes (default /tmp)")
    ap.add_argument("--from-json", default=None, metavar="FILE",
                    help="write the page (--output, default docs/benchmarks.md) of a recorded "
                         "run (its docs/benchmarks.json) without measuring anything")
    # internal: one PyTorch recurrent case in this process
    ap.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--threads-one", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=7, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, default=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_worker:
        return torch_worker(a)
    if a.from_json:
        return render_from_json(a)

    q = a.quick
    if a.e2e_keras_xla is None:
        a.e2e_keras_xla = q
    defaults = {"rounds": (5, 1), "e2e_rounds": (3, 1), "train_runs": (7, 2),
                "train_warmup": (2, 1), "step_runs": (201, 21), "step_warmup": (20, 5),
                "decode_runs": (7, 3), "pos_limit": (0, 2000), "imdb_limit": (0, 400)}
    for k, (full, quick) in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, quick if q else full)
    a.threads = parse_list(a.threads)
    a.e2e_threads = parse_list(a.e2e_threads) if a.e2e_threads else [a.threads[-1]]
    a.only = set(s.strip() for s in a.only.split(","))
    if not a.threads or min(a.threads) < 1 or not a.only <= {"recurrent", "decode", "e2e",
                                                              "contention"}:
        ap.error("bad --threads or --only")
    if a.output is None:
        a.output = os.path.join(a.build if q else os.path.join(ROOT, "docs"),
                                "benchmarks-quick.md" if q else "benchmarks.md")
    if a.json_output is None:
        a.json_output = (os.path.join(a.build, "benchmarks-quick.json") if q
                         else os.path.join(ROOT, "docs", "benchmarks.json"))

    if not a.no_build:
        r = subprocess.run(["meson", "compile", "-C", a.build, "rnn_bench", "kernel_bench",
                            "decode_bench",
                            "pos_tagger", "sentiment"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("run_all: meson compile failed:\n" + r.stdout[-3000:] + r.stderr[-2000:])

    s = Suite(a)
    s.command = " ".join([sys.executable, "bench/run_all.py"] + sys.argv[1:])
    s.run()
    write_page(s, a.output)
    with open(a.json_output, "w") as f:
        json.dump({"started": s.started.isoformat(), "seconds": s.seconds,
                   "foreign_cpu_fraction": s.foreign, "load_start": s.load_start,
                   "load_end": s.load_end, "command": s.command,
                   "machine": s.machine, "build": s.buildinfo, "librnn": s.librnn_version,
                   "torch": s.torch, "peers": s.peers, "ort_c": s.ort_c,
                   "options": {k: (sorted(v) if isinstance(v, set) else v)
                               for k, v in vars(a).items()},
                   "cases": s.cases,
                   "dumps": {k: {"meta": v["meta"], "tensors": v["tensors"]}
                             for k, v in s.dumps.items()},
                   "records": s.records, "failures": s.failures,
                   "contention": s.contention, "host_check": s.host_check}, f, indent=1)
    log(f"wrote {a.output} and {a.json_output} ({s.seconds / 60:.1f} min)")
    return 1 if s.failures else 0


def write_page(s, path):
    text = s.page()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def render_from_json(a):
    """--from-json: the page of a recorded run, measuring nothing. Runs of older versions
    of this script lack the encoded-data summaries and the start load: the former are
    re-made with --dump-encoded (deterministic for the run's --seed and limits)."""
    with open(a.from_json) as f:
        j = json.load(f)
    o = argparse.Namespace(**j["options"])
    o.only = set(o.only)
    o.json_output = os.path.abspath(a.from_json)
    o.e2e_keras_xla = getattr(o, "e2e_keras_xla", False)  # records of older versions
    o.e2e_workspace_limit = getattr(o, "e2e_workspace_limit", 0)
    s = Suite(o)
    s.rerendered = True
    s.started = datetime.datetime.fromisoformat(j["started"])
    s.seconds, s.foreign = j["seconds"], j["foreign_cpu_fraction"]
    s.load_start = tuple(j.get("load_start") or (float("nan"),) * 3)
    s.command = j.get("command") or "/usr/bin/python3 bench/run_all.py"
    s.machine, s.buildinfo, s.librnn_version = j["machine"], j["build"], j["librnn"]
    s.torch, s.records, s.failures = j["torch"], j["records"], j["failures"]
    s.peers = j.get("peers")
    s.ort_c = j.get("ort_c")
    s.bf16 = any(r["lib"] == "librnn_bf16" for r in s.records)
    s.contention = j.get("contention")
    s.host_check = j.get("host_check")  # None in records of older versions
    s.cases = j.get("cases") or list(dict.fromkeys(r["case"] for r in s.records
                                                   if r["section"] == "recurrent"))
    s.dumps = j.get("dumps")
    if s.dumps is None:
        s.dumps = {}
        if "e2e" in o.only:
            s.workdir = tempfile.mkdtemp(prefix="librnn-bench-", dir=a.workdir)
            try:
                s.prepare_dumps()
            finally:
                shutil.rmtree(s.workdir, ignore_errors=True)
    out = a.output or os.path.join(ROOT, "docs", "benchmarks.md")
    write_page(s, out)
    log(f"wrote {out} from {a.from_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
