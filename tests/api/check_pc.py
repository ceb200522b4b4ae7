#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the generated librnn.pc for a shared-only install (meson test --suite api).

  check_pc.py BUILD/meson-private/librnn.pc --version X.Y.Z

librnn installs only its shared library, and its public headers include nothing
but <stddef.h> and <stdint.h>, so the .pc must carry no Requires, Requires.private
or Libs.private: a Requires.private (jansson, as it once had) makes
`pkg-config --cflags librnn` fail unless jansson's -dev package is installed too,
although a program linking dynamically never needs it. Then, with pkg-config
seeing no other .pc file at all (PKG_CONFIG_LIBDIR = the file's directory), as
on a system with only librnn-dev's dependencies: --cflags, --libs and
--static --libs must work and --static must add nothing. As a check of the check,
a copy of the file with `Requires.private: jansson` must make pkg-config fail.
Exits 0 on success, 1 with a list of problems, 77 (skipped) for the pkg-config
part without pkg-config.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def parse(path):
    fields = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z][A-Za-z0-9_.]*)\s*:\s*(.*?)\s*$", line)
            if m:
                fields[m.group(1)] = m.group(2)
    return fields


def pkg_config(exe, libdir, *args):
    env = dict(os.environ, PKG_CONFIG_LIBDIR=libdir)
    env.pop("PKG_CONFIG_PATH", None)
    env.pop("PKG_CONFIG_SYSROOT_DIR", None)
    return subprocess.run([exe] + list(args) + ["librnn"], env=env, capture_output=True,
                          text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pc")
    ap.add_argument("--version", required=True)
    a = ap.parse_args()
    problems = []

    f = parse(a.pc)
    for key in ("Requires", "Requires.private", "Libs.private"):
        if f.get(key):
            problems.append("%s: %s (nothing else is needed to build against or link "
                            "the shared librnn)" % (key, f[key]))
    if f.get("Version") != a.version:
        problems.append("Version: %r, the project version is %r" % (f.get("Version"), a.version))
    if "-lrnn" not in f.get("Libs", "").split():
        problems.append("Libs lacks -lrnn: %r" % f.get("Libs"))
    if "-I${includedir}" not in f.get("Cflags", "").split():
        problems.append("Cflags lacks -I${includedir}: %r" % f.get("Cflags"))

    exe = shutil.which("pkg-config") or shutil.which("pkgconf")
    if exe is None:
        for p in problems:
            print("librnn.pc: " + p)
        if problems:
            return 1
        print("librnn.pc fields OK; pkg-config not installed: the rest skipped")
        return 77

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(a.pc, os.path.join(tmp, "librnn.pc"))
        out = {}
        for args in (("--cflags",), ("--libs",), ("--static", "--libs"), ("--modversion",)):
            r = pkg_config(exe, tmp, *args)
            what = "pkg-config " + " ".join(args) + " librnn"
            if r.returncode != 0:
                problems.append("%s failed with no other .pc installed: %s"
                                % (what, r.stderr.strip()))
            else:
                out[args] = r.stdout.split()
                print("%s: %s" % (what, r.stdout.strip()))
        if ("--libs",) in out and ("--static", "--libs") in out and \
                out[("--libs",)] != out[("--static", "--libs")]:
            problems.append("--static adds %s although no static library is installed"
                            % (set(out[("--static", "--libs")]) - set(out[("--libs",)])))
        if out.get(("--modversion",)) not in (None, [a.version]):
            problems.append("--modversion says %s" % out[("--modversion",)])

        # The check of the check: the old file's Requires.private must fail here.
        with open(a.pc, encoding="utf-8") as src:
            text = src.read()
        with open(os.path.join(tmp, "librnn.pc"), "w", encoding="utf-8") as dst:
            dst.write(text.rstrip("\n") + "\nRequires.private: jansson\n")
        if pkg_config(exe, tmp, "--cflags").returncode == 0:
            problems.append("pkg-config accepted a Requires.private on a missing package: "
                            "this check would not catch one")

    for p in problems:
        print("librnn.pc: " + p)
    if problems:
        return 1
    print("librnn.pc is correct for a shared-only install (%s)" % a.pc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
