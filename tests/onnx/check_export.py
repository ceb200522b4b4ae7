#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ONNX Runtime runs librnn's exports and reproduces librnn's outputs (1e-5).

  check_export.py EXPORT_CASES_PROGRAM

Runs the program (tests/onnx/export_cases.c) into a temporary directory,
then each <name>.onnx with onnxruntime on the inputs of <name>.io and
compares with librnn's outputs there. Needs numpy and onnxruntime: when
this Python lacks them, the Python of $RNN_ORT_PYTHON (or the peers venv
/var/cache/librnn/peers/bin/python, where the project's CI keeps one) is
used; if none has them the test is skipped (exit 77) with a message.
"""
import os
import struct
import subprocess
import sys
import tempfile


def have_ort():
    try:
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        return True
    except ImportError:
        return False


def read_io(path):
    import numpy as np
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"RNNT"
    _, count, n_in = struct.unpack_from("<III", data, 4)
    at, out = 16, []
    for _ in range(count):
        dt, rank = struct.unpack_from("<II", data, at)
        at += 8
        dims = struct.unpack_from("<%dq" % rank, data, at)
        at += 8 * rank
        n = 1
        for d in dims:
            n *= d
        a = np.frombuffer(data, dtype="<f4" if dt == 1 else "<i4", count=n, offset=at)
        at += 4 * n
        out.append(a.reshape(dims))
    return out[:n_in], out[n_in:]


def main():
    if os.environ.get("RNN_UNDER_VALGRIND"):
        # Under valgrind this would check CPython's, numpy's and ONNX Runtime's loading
        # (glibc's ld.so reports in their dlopen), not librnn: the export itself runs under
        # valgrind in the onnx-export test.
        print("SKIP: ONNX Runtime's comparison is not run under valgrind (onnx-export is)")
        return 77
    if not have_ort():
        for py in (os.environ.get("RNN_ORT_PYTHON"), "/var/cache/librnn/peers/bin/python"):
            if py and os.path.exists(py) and os.path.realpath(py) != os.path.realpath(
                    sys.executable):
                r = subprocess.run([py, "-c", "import numpy, onnxruntime"],
                                   capture_output=True)
                if r.returncode == 0:
                    os.execv(py, [py] + sys.argv)
        print("SKIP: onnxruntime is not installed (pip install onnxruntime, or set "
              "RNN_ORT_PYTHON to a Python that has it)")
        return 77
    import numpy as np
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([sys.argv[1], d])
        if r.returncode != 0:
            print("FAILED: %s exited with %d" % (sys.argv[1], r.returncode))
            return 1
        bad = 0
        names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".onnx") and
                       os.path.exists(os.path.join(d, f[:-5] + ".io")))
        for name in names:
            ins, outs = read_io(os.path.join(d, name + ".io"))
            sess = ort.InferenceSession(os.path.join(d, name + ".onnx"),
                                        providers=["CPUExecutionProvider"])
            feeds = {i.name: x for i, x in zip(sess.get_inputs(), ins)}
            got = sess.run(None, feeds)
            for k, (g, want) in enumerate(zip(got, outs)):
                diff = float(np.max(np.abs(g - want))) if g.shape == want.shape else float("inf")
                ok = diff <= 1e-5
                bad += not ok
                print("%s: %s output %d, max |ONNX Runtime - librnn| = %.3g" %
                      ("ok" if ok else "FAILED", name, k, diff))
        print("onnxruntime %s, %d models" % (ort.__version__, len(names)))
        return 1 if bad or not names else 0


if __name__ == "__main__":
    sys.exit(main())
