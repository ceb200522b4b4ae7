#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the librnn-mpi tests under mpirun on this machine (suite 'mpi').

    run_mpi.py [--mpirun PATH] check PROGRAM          mpirun -np 2 PROGRAM (Check suite)
    run_mpi.py [--mpirun PATH] fault MODES            a rank dies: mpirun must fail, in time
    run_mpi.py [--mpirun PATH] stall MODES            a rank stops calling: the timeout
    run_mpi.py [--mpirun PATH] resume MODES           checkpoint on 2 ranks, resume on 1 and 3
    run_mpi.py [--mpirun PATH] python SCRIPT [ARGS]   mpirun -np 2 python3 SCRIPT
    run_mpi.py [--mpirun PATH] measure MODES [STEPS]  the overlap figures (printed, not judged)
    run_mpi.py [--mpirun PATH] example DATA MIN PROGRAM ARGS...
                                  mpirun -np 2 PROGRAM ARGS --data DATA --json: one JSON line
                                  (rank 0's), test_accuracy >= MIN, "ranks": 2

Every launch is `mpirun -np N --oversubscribe` (2 cores: 3 ranks share them)
with Open MPI's shared-memory transport only (localhost), and has a hard
timeout of its own: a hang fails the test, it never blocks meson. As root,
Open MPI refuses to start without --allow-run-as-root (or the environment
variables OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1,
which this script sets when it runs as root, as in CI).

Exit: 0 passed, 1 failed, 77 skipped (no mpirun; for 'python', no numpy).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
# Shared memory only; no single-copy (CMA needs ptrace rights containers often lack).
MCA = ["--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none"]


def mpirun_cmd(mpirun, np):
    return [mpirun, "-np", str(np), "--oversubscribe"] + MCA


def env_for_mpi(extra=None):
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env.setdefault("OMP_WAIT_POLICY", "passive")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["CK_FORK"] = "no"
    # Open MPI's "no network interface" and similar notices
    env.setdefault("OMPI_MCA_btl_base_warn_component_unused", "0")
    env.update(extra or {})
    return env


def launch(cmd, env, timeout):
    """(returncode or None on timeout, output, seconds). The whole process group
    is killed when the hard timeout passes."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        rc = None
    took = time.monotonic() - t0
    print("$ %s\n%s[exit %s after %.1f s]" % (" ".join(cmd), out,
                                           "TIMEOUT" if rc is None else rc, took), flush=True)
    return rc, out, took


def do_check(a):
    rc, out, _ = launch(mpirun_cmd(a.mpirun, 2) + [a.args[0]], env_for_mpi({
        "RNN_MPI_TIMEOUT": "30"}), 600)
    if rc != 0 or not re.search(r"100%: Checks: \d+, Failures: 0, Errors: 0", out):
        return 1
    return 0


def do_fault(a):
    # librnn-mpi's own bound: 20 s; Open MPI's runtime usually ends the job first.
    bound = 20
    rc, out, took = launch(mpirun_cmd(a.mpirun, 2) + [a.args[0], "fault"],
                           env_for_mpi({"RNN_MPI_TIMEOUT": str(bound)}), 180)
    ok = True
    if rc is None:
        print("FAILED: mpirun still ran after 180 s: the survivor hung")
        return 1
    if "FAULT rank 1: killing itself" not in out:
        print("FAILED: rank 1 did not reach the batch where it kills itself")
        ok = False
    if rc == 0:
        print("FAILED: mpirun returned 0 although a rank died")
        ok = False
    if took > bound + 40:
        print("FAILED: the job took %.0f s to end, more than the timeout (%d s) + 40 s"
              % (took, bound))
        ok = False
    survivor = re.search(r"FAULT rank 0: fit returned status (\d+) after ([\d.]+) s: (.*)", out)
    if survivor:
        print("the survivor returned status %s after %s s: %s" % survivor.groups())
        if survivor.group(1) != "14":
            print("FAILED: expected status 14 (RNN_ERR_COLLECTIVE)")
            ok = False
    else:
        print("the survivor was ended by Open MPI's runtime (mpirun exit %d) %.1f s after "
              "the start, before librnn-mpi's %d s timeout" % (rc, took, bound))
    return 0 if ok else 1


def do_stall(a):
    timeout = 4
    env = env_for_mpi()
    env.pop("RNN_MPI_TIMEOUT", None)  # the program sets its own timeout
    rc, out, took = launch(mpirun_cmd(a.mpirun, 2) + [a.args[0], "stall", str(timeout)],
                           env, 120)
    ok = rc is not None
    for r in (0, 1):
        m = re.search(r"STALL rank %d: fit returned status (\d+) after ([\d.]+) s: (.*)" % r, out)
        if not m or ("STALL rank %d: ok" % r) not in out:
            print("FAILED: rank %d did not fail with the timeout error" % r)
            ok = False
            continue
        if "no answer from the other ranks within %g s" % timeout not in m.group(3):
            print("FAILED: rank %d's message does not give the timeout" % r)
            ok = False
    m0 = re.search(r"STALL rank 0: fit returned status \d+ after ([\d.]+) s", out)
    if m0 and not (float(m0.group(1)) < 3 * timeout + 5):
        print("FAILED: rank 0 took %s s to give up (timeout %d s)" % (m0.group(1), timeout))
        ok = False
    return 0 if ok else 1


def do_resume(a):
    prog = a.args[0]
    with tempfile.TemporaryDirectory(prefix="rnn-mpi-resume-") as d:
        env = env_for_mpi({"RNN_MPI_TIMEOUT": "30"})
        rc, out, _ = launch(mpirun_cmd(a.mpirun, 2) + [prog, "resume-train", d], env, 300)
        if rc != 0 or out.count("RESUME-TRAIN rank") != 2 or "exists" in out or \
                "is missing" in out:
            print("FAILED: training with checkpoints on 2 ranks")
            return 1
        outs = {}
        for np in (1, 3):
            outs[np] = os.path.join(d, "resumed-%d.rnn" % np)
            rc, out, _ = launch(mpirun_cmd(a.mpirun, np) + [prog, "resume-continue", d,
                                                           outs[np]], env, 300)
            if rc != 0 or out.count("RESUME-CONTINUE rank") != np:
                print("FAILED: resuming on %d rank(s)" % np)
                return 1
        rc, out, _ = launch([prog, "compare", outs[1], outs[3]], env, 120)
        if rc != 0:
            print("FAILED: resumed on 1 and on 3 ranks, the weights differ")
            return 1
    return 0


def do_measure(a):
    steps = a.args[1] if len(a.args) > 1 else "20"
    rc, out, _ = launch(mpirun_cmd(a.mpirun, 2) + [a.args[0], "measure", steps],
                        env_for_mpi({"RNN_MPI_TIMEOUT": "60"}), 600)
    return 0 if rc == 0 and out.count("MEASURE ") == 3 else 1


def do_example(a):
    data, least, cmd = a.args[0], float(a.args[1]), a.args[2:]
    if not os.path.isdir(data):
        print("%s is absent: skipped" % data)
        return SKIP
    rc, out, _ = launch(mpirun_cmd(a.mpirun, 2) + cmd + ["--data", data, "--json"],
                        env_for_mpi({"RNN_MPI_TIMEOUT": "60"}), 900)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if rc != 0 or len(lines) != 1:
        print("FAILED: exit %s, %d JSON lines (one expected: rank 0's)" % (rc, len(lines)))
        return 1
    summary = json.loads(lines[0])
    if summary.get("ranks") != 2 or not summary.get("test_accuracy", 0) >= least:
        print("FAILED: ranks %s, test_accuracy %s (at least %g expected)"
              % (summary.get("ranks"), summary.get("test_accuracy"), least))
        return 1
    return 0


def python_with_numpy():
    """This interpreter when it has numpy, else the system's (as
    python/tests/run_tests.py does: a pyenv python3 first on PATH may lack it)."""
    for py in (sys.executable, os.environ.get("LIBRNN_TEST_PYTHON"), "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import numpy"], capture_output=True).returncode == 0:
            return py
    return None


def do_python(a):
    py = python_with_numpy()
    if not py:
        print("skipped: no python3 with numpy (apt-get install python3-numpy)")
        return SKIP
    rc, out, _ = launch(mpirun_cmd(a.mpirun, 2) + [py] + a.args,
                        env_for_mpi({"RNN_MPI_TIMEOUT": "30"}), 600)
    if rc == SKIP or "PYTHON SKIP" in out:
        return SKIP
    return 0 if rc == 0 and out.count("PYTHON rank") == 2 and "FAIL" not in out else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mpirun", default="")
    ap.add_argument("mode", choices=["check", "fault", "stall", "resume", "python", "measure",
                                         "example"])
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    a.mpirun = a.mpirun or shutil.which("mpirun") or ""
    if not a.mpirun or not os.path.exists(a.mpirun):
        print("skipped: no mpirun (apt-get install openmpi-bin)")
        return SKIP
    return {"check": do_check, "fault": do_fault, "stall": do_stall, "resume": do_resume,
            "python": do_python, "measure": do_measure, "example": do_example}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
