#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The example programs find their data folder through --data DIR, else the
environment variable LIBRNN_DATA, else the installed default; when the file
they need is not there they exit 1 naming that file, where the folder came
from and all three ways. Needs no data: every run stops at that check.

  data_dir_message.py POS_TAGGER SENTIMENT SEQ2SEQ CHAR_LM"""
import os
import re
import subprocess
import sys
import tempfile

# program index in argv, extra arguments, the file it must look for
CASES = [
    (1, [], "brown/en-brown.map"),
    (2, ["--dataset", "imdb"], "imdb/imdb_train.tsv.gz"),
    (2, ["--dataset", "uci"], "uci-sentiment/amazon_cells_labelled.txt"),
    (3, ["--task", "fra-eng"], "fra-eng/fra.txt.gz"),
    (4, [], "shakespeare/input.txt"),
]


def run(cmd, env_data):
    env = dict(os.environ)
    env.pop("LIBRNN_DATA", None)
    if env_data is not None:
        env["LIBRNN_DATA"] = env_data
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def main():
    progs = sys.argv[1:5]
    failures = 0

    def expect(ok, what, p):
        nonlocal failures
        if not ok:
            failures += 1
            print(f"FAIL: {what}\n  exit {p.returncode}, stderr:\n{p.stderr}")

    with tempfile.TemporaryDirectory() as empty:
        for k, extra, needed in CASES:
            prog = progs[k - 1]
            name = os.path.basename(prog)
            usage = run([prog, "--help"], None).stdout
            m = re.search(r"default: \$LIBRNN_DATA, else (\S+)", usage)
            if not m:
                failures += 1
                print(f"FAIL: {name} --help names neither LIBRNN_DATA nor the installed default")
                continue
            default = m.group(1)
            ways = ["--data DIR", "LIBRNN_DATA=DIR", f"installed default {default}"]
            origins = [(["--data", empty], None, empty, "given with --data"),
                       ([], empty, empty, "environment variable LIBRNN_DATA"),
                       (["--data", empty], "/nonexistent", empty, "given with --data")]
            if not os.path.exists(default):  # else the default run would train on it
                origins.append(([], "", default, "installed default"))
            for args, env_data, folder, origin in origins:
                p = run([prog] + extra + args, env_data)
                what = f"{name} {' '.join(extra + args)} (LIBRNN_DATA={env_data!r})"
                expect(p.returncode == 1, f"{what}: exit status 1", p)
                expect(f"cannot read {folder}/{needed}" in p.stderr,
                       f"{what}: names {folder}/{needed}", p)
                expect(origin in p.stderr, f"{what}: says the folder is {origin!r}", p)
                for w in ways:
                    expect(w in p.stderr, f"{what}: names the way {w!r}", p)
                if failures == 0:
                    print(f"ok: {what}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
