#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The version number is written once, in meson.build's project(); this checks
every other place that states it (meson test --suite api):

  check_version.py --version X.Y.Z --source SRCDIR --header BUILD/include/rnn/version.h

- python/librnn/_version.py (kept as a literal so that `pip install ./python` works
  without meson; configure also refuses a mismatch) and the Python build backend,
  which reads it;
- the generated <rnn/version.h> (RNN_VERSION_STRING and the three numbers);
- debian/changelog's latest entry: its upstream part (no epoch, no Debian revision)
  and its source name, when the file exists (a tarball without debian/ skips it).
Exits 0 when all agree, 1 with the differences otherwise.
"""
import argparse
import importlib.util
import os
import re
import sys


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def upstream_of(debian_version):
    """'1:0.1.0-1' -> '0.1.0': without epoch and Debian revision (dpkg's rules)."""
    v = debian_version.split(":", 1)[1] if re.match(r"^\d+:", debian_version) else debian_version
    return v.rsplit("-", 1)[0] if "-" in v else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True, help="meson.project_version()")
    ap.add_argument("--source", required=True, help="the source tree")
    ap.add_argument("--header", required=True, help="the generated rnn/version.h")
    a = ap.parse_args()
    want = a.version
    problems, seen = [], []

    def agree(where, got):
        seen.append("%s %s" % (where, got))
        if got != want:
            problems.append("%s says %s, meson.build's project version is %s" % (where, got, want))

    py = os.path.join(a.source, "python", "librnn", "_version.py")
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', read(py), re.M)
    agree("python/librnn/_version.py", m.group(1) if m else None)

    backend = os.path.join(a.source, "python", "backend", "librnn_backend.py")
    spec = importlib.util.spec_from_file_location("librnn_backend_version_check", backend)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    agree("python/backend (wheel and sdist)", mod.version())

    h = read(a.header)
    m = re.search(r'#define\s+RNN_VERSION_STRING\s+"([^"]+)"', h)
    agree("rnn/version.h RNN_VERSION_STRING", m.group(1) if m else None)
    nums = [re.search(r"#define\s+RNN_VERSION_%s\s+(\d+)" % p, h) for p in ("MAJOR", "MINOR", "PATCH")]
    agree("rnn/version.h RNN_VERSION_MAJOR.MINOR.PATCH",
          ".".join(n.group(1) for n in nums) if all(nums) else None)

    changelog = os.path.join(a.source, "debian", "changelog")
    if os.path.exists(changelog):
        first = read(changelog).splitlines()[0]
        m = re.match(r"^(\S+) \(([^)]+)\) ", first)
        if not m:
            problems.append("debian/changelog: cannot read its first line: %r" % first)
        else:
            if m.group(1) != "librnn":
                problems.append("debian/changelog: source %s, expected librnn" % m.group(1))
            agree("debian/changelog (%s, upstream part)" % m.group(2), upstream_of(m.group(2)))
    else:
        seen.append("no debian/changelog: not checked")

    for s in seen:
        print(s)
    for p in problems:
        print("MISMATCH: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
