#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every public function has a bad-argument probe (issue 15).

  check_probes.py PROGRAM -I INCLUDE_DIR

Compares the RNN_API functions declared in the public headers (parsed as
tests/api/check_api.py does) with the probes `PROGRAM --list` prints
(tests/hostile/test_bad_args.c). Exits 1 naming each function without a
probe, and each probe of a function that no longer exists.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
from check_api import header_declarations  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("program")
    p.add_argument("--include", "-I", action="append", default=[])
    a = p.parse_args()
    declared = header_declarations(a.include)
    out = subprocess.run([a.program, "--list"], check=True, capture_output=True, text=True)
    probed = set(out.stdout.split())
    missing = sorted(declared - probed)
    stale = sorted(probed - declared)
    print(f"{len(declared)} public functions, {len(probed)} probes")
    for name in missing:
        print(f"PROBLEM: {name} is public but has no probe in tests/hostile/test_bad_args.c",
              file=sys.stderr)
    for name in stale:
        print(f"PROBLEM: probe {name} names no public function", file=sys.stderr)
    if not declared:
        print("PROBLEM: no RNN_API declaration found", file=sys.stderr)
        return 1
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
