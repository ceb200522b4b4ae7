#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints each test's Check summary line from a meson test log, then a
closing line "N passed, N failed, N skipped".
usage: tools/test-summary.py BUILD_DIR [LOG_NAME]   (LOG_NAME: testlog, testlog-asan, ...)"""
import json
import os
import re
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
name = sys.argv[2] if len(sys.argv) > 2 else "testlog"
path = os.path.join(build, "meson-logs", name + ".json")
passed = failed = skipped = 0
with open(path, encoding="utf-8") as f:
    for line in f:
        t = json.loads(line)
        res = t.get("result")
        checks = re.findall(r"^\d+%: Checks: .*$", t.get("stdout", "") or "", flags=re.M)
        detail = f"  [{checks[-1]}]" if checks else ""
        print(f"{res:5} {t.get('name')}{detail}")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
