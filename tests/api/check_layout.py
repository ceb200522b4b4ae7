#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the shape of lib/ that docs/design.md promises:

1. One dependency direction. Each folder of lib/ is a tier and may include
   only headers of its own tier or a lower one:
     core (lib/*.c, internal.h, rng.h) < backend/ < layer/ < layers/ <
     model/ < train/, decode/, io/, optim/ (siblings)
   with one exception: a kind's file in layers/ may include model/add.h, the
   graph's single entry point for its public constructor (no model internals).
2. The registry is the only list of kinds: no file refers to another kind's
   rnn__<kind>_ops, and only the registry and the model file reader look up
   or compare kinds by name.
3. No internal header shares a basename with a public one (libabigail takes
   a header as public by its file name: an internal model.h would put
   struct rnn_model's private layout into the ABI baseline).
4. lib/keras/ (librnn-keras) is outside the tiers: it includes only public
   headers (<rnn/...>) and its own.
5. Sizes: no file over 800 lines and no function over 120 lines, unless the
   file says why near its top with a line containing "size:".
Exits 1 with one line per violation.
"""
import os
import re
import sys

TIERS = {"": 0, "backend": 1, "layer": 2, "layers": 3, "model": 4,
         "train": 5, "decode": 5, "io": 5, "optim": 5, "onnx": 6}
# Optional parts: libraries of their own built on the public API only; they
# include <rnn.h>/<rnn/...> and their own folder's headers, nothing internal.
PARTS = {"onnx"}
CORE_HEADERS = {"internal.h", "rng.h", "layer_kinds.h"}
# Folders of lib/ that are separate libraries built on the public API
# (lib/keras: librnn-keras): no tier, and no include of librnn's internals.
OPTIONAL_PARTS = {"keras", "onnx", "mpi"}
FILE_MAX, FUNC_MAX = 800, 120


def tier_of_path(rel):
    d = os.path.dirname(rel)
    return TIERS.get(d)


def tier_of_include(inc):
    if inc.startswith("rnn") or inc in CORE_HEADERS:
        return 0
    d = os.path.dirname(inc)
    return TIERS.get(d)


def functions(text):
    """(name, first line, line count) of each top-level function body."""
    lines = text.split("\n")
    out, start, name, depth = [], None, None, 0
    for i, line in enumerate(lines):
        if start is None and line.startswith("{") and i > 0:
            start = i
            j = i - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            name = m.group(1) if m else "?"
            depth = 0
        if start is not None:
            depth += line.count("{") - line.count("}")
            if depth == 0:
                out.append((name, start + 1, i - start + 1))
                start = None
    return out


def main():
    lib = sys.argv[1]
    errors = []
    public = set(os.listdir(os.path.join(lib, "..", "include", "rnn"))) | {"rnn.h"}
    kinds = set()
    for root, _, files in os.walk(lib):
        for f in files:
            if f.endswith(".c") and os.path.basename(root) == "layers":
                kinds.add(f[:-2])
    for root, _, files in os.walk(lib):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, lib)
            text = open(path, encoding="utf-8").read()
            if f in public:
                errors.append(f"{rel}: has the name of a public header (libabigail would take "
                              "its types as public)")
            if os.path.dirname(rel) in OPTIONAL_PARTS:
                # a separate library over the public API: public headers and
                # its own, nothing of librnn's internals
                for inc in re.findall(r'#include "([^"]+)"', text):
                    own_header = os.path.exists(os.path.join(root, inc))
                    if "/" in inc or inc in CORE_HEADERS or (inc.endswith("_internal.h")
                                                             and not own_header):
                        errors.append(f"{rel}: includes {inc}; an optional part uses only "
                                      "<rnn/...> and its own headers")
                    elif not os.path.exists(os.path.join(root, inc)):
                        errors.append(f"{rel}: includes {inc}, not a header of its own")
            t = tier_of_path(rel)
            if os.path.dirname(rel) in OPTIONAL_PARTS:
                pass
            elif t is None:
                errors.append(f"{rel}: folder is not a tier of lib/ (tests/api/check_layout.py)")
                continue
            for inc in re.findall(r'#include "([^"]+)"', text) if t is not None else []:
                ti = tier_of_include(inc)
                if inc == "model/add.h" and os.path.dirname(rel) == "layers":
                    continue
                if ti is None or ti > t:
                    errors.append(f"{rel}: includes {inc}, a higher tier")
            own = os.path.splitext(f)[0]
            for k in re.findall(r"\brnn__(\w+)_ops\b", text):
                if k == "layer" or rel == "layer/registry.c":
                    continue
                if not (os.path.dirname(rel) == "layers" and own.startswith(k)):
                    errors.append(f"{rel}: refers to rnn__{k}_ops (only its own file may)")
            if rel not in ("layer/registry.c", "io/load.c") and re.search(
                    r"strcmp\([^)]*->kind", text):
                errors.append(f"{rel}: compares layer kinds by name (use the registry)")
            head = "\n".join(text.split("\n")[:30])
            if "size:" in head:
                continue
            n = text.count("\n")
            if n > FILE_MAX:
                errors.append(f"{rel}: {n} lines (> {FILE_MAX}; say why with 'size:' at the top)")
            for name, line, count in functions(text):
                if count > FUNC_MAX:
                    errors.append(f"{rel}:{line}: {name} has {count} lines (> {FUNC_MAX})")
    for e in errors:
        print(e)
    print(f"check_layout: {len(errors)} problem(s) in {lib}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
