#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs an example program on a small subset of the real data and checks the
one-line JSON summary it prints with --json.

  run_example.py DATA_DIR KEY MIN -- PROGRAM ARGS...

MIN written as "<=MAX" bounds the figure from above instead (a loss).
DATA_DIR "-" runs a program that needs no data (generated tasks).
Exits 77 (meson: skipped) when DATA_DIR is absent, 1 when the program fails,
prints nothing useful or the figure KEY is below MIN (above MAX)."""
import json
import os
import subprocess
import sys


def main():
    sep = sys.argv.index("--")
    data, key, bound = sys.argv[1], sys.argv[2], sys.argv[3]
    upper = bound.startswith("<=")
    limit = float(bound[2:] if upper else bound)
    cmd = sys.argv[sep + 1:]
    if data != "-" and not os.path.isdir(data):
        print(f"{data} is absent: skipped")
        return 77
    extra = ["--json"] if data == "-" else ["--data", data, "--json"]
    p = subprocess.run(cmd + extra, capture_output=True, text=True)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        print(f"{' '.join(cmd)} exited with {p.returncode}")
        return 1
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        print("no JSON summary on stdout")
        return 1
    summary = json.loads(lines[-1])
    value = summary
    for part in key.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    print(f"{key} = {value} (must be {'<=' if upper else '>='} {limit}); summary: {lines[-1]}")
    return 0 if (value <= limit if upper else value >= limit) else 1


if __name__ == "__main__":
    sys.exit(main())
