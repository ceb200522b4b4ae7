#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the Python binding's tests (python/tests/test_*.py, unittest).

    run_tests.py [--lib PATH/librnn.so.0] [--installed] [-v] [-k PATTERN]

Used by `meson test -C build --suite python`, and with --installed by the Debian
autopkgtest (debian/tests/python): the installed package (python3-librnn) is
imported instead of python/librnn, and without --lib or LIBRNN_PATH the library
is the installed librnn.so.0, found by the system's loader. Exit codes: 0 passed, 1 failed,
77 skipped (meson's code): numpy is missing, or the library is instrumented
with AddressSanitizer (the `asan` test setup), which cannot be loaded into an
uninstrumented Python. When the interpreter running this script lacks numpy
(e.g. a pyenv python3 found first on PATH), the script re-runs itself with the
system's /usr/bin/python3 (or $LIBRNN_TEST_PYTHON) if that one has numpy.
Without --lib, LIBRNN_PATH and --installed it uses build/lib/librnn.so.0 of the
source tree.
"""
import argparse
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
ROOT = os.path.dirname(PYDIR)
SKIP = 77


def other_python():
    """Another interpreter that has numpy, or None."""
    cands = [os.environ.get("LIBRNN_TEST_PYTHON"), "/usr/bin/python3"]
    for c in cands:
        if not c or not os.path.exists(c):
            continue
        if os.path.realpath(c) == os.path.realpath(sys.executable):
            continue
        ok = subprocess.run([c, "-c", "import numpy"], capture_output=True).returncode == 0
        if ok:
            return c
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", help="librnn shared library to test (sets LIBRNN_PATH)")
    ap.add_argument("--installed", action="store_true",
                    help="test the installed librnn package (not python/librnn) and, "
                         "without --lib or LIBRNN_PATH, the installed librnn.so.0")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("-k", dest="pattern", help="only tests whose id contains this")
    a = ap.parse_args()

    if os.environ.get("RNN_EXPECT_SANITIZERS") == "1":
        print("skipped: an AddressSanitizer build cannot be loaded into Python")
        return SKIP
    try:
        import numpy  # noqa: F401
    except ImportError:
        alt = None if os.environ.get("LIBRNN_TEST_REEXEC") else other_python()
        if alt:
            print("%s has no numpy: running the tests with %s" % (sys.executable, alt),
                  flush=True)
            env = dict(os.environ, LIBRNN_TEST_REEXEC="1")
            return subprocess.run([alt, os.path.abspath(__file__)] + sys.argv[1:],
                                  env=env).returncode
        print("skipped: numpy is not installed for %s (apt-get install python3-numpy)"
              % sys.executable)
        return SKIP

    if a.lib:
        os.environ["LIBRNN_PATH"] = os.path.abspath(a.lib)
    elif os.environ.get("LIBRNN_PATH"):
        os.environ["LIBRNN_PATH"] = os.path.abspath(os.environ["LIBRNN_PATH"])
    elif not a.installed:
        built = os.path.join(ROOT, "build", "lib", "librnn.so.0")
        if os.path.exists(built):
            os.environ["LIBRNN_PATH"] = built
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    if not a.installed:
        sys.path.insert(0, PYDIR)
    sys.path.insert(0, HERE)

    import librnn
    if a.installed:
        where = os.path.realpath(librnn.__file__)
        if where.startswith(os.path.realpath(PYDIR) + os.sep):
            print("--installed, but librnn was imported from the source tree: %s" % where)
            return 1
        print("installed package: %s" % os.path.dirname(librnn.__file__))
    print("librnn %s from %s, Python %s, numpy %s" % (
        librnn.version(), librnn._lib.loaded_from, sys.version.split()[0], numpy.__version__))

    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    if a.pattern:
        def keep(s):
            out = unittest.TestSuite()
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    out.addTests(keep(t))
                elif a.pattern in t.id():
                    out.addTest(t)
            return out
        suite = keep(suite)
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
