#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""API hygiene checks for librnn, run by `meson test --suite api`.

  check_api.py headers  --cc CC... --cxx CXX... -I DIR...   each public header alone, C99
                                                           -pedantic -Werror and C++11; each
                                                           one in rnn.h and installed
  check_api.py symbols  --lib librnn.so --map librnn.map --include DIR
                                                           nm -D == headers == version script
  check_api.py static   --archive librnn_internal.a         no global outside rnn_ / rnn__
  check_api.py argnames --src lib -I DIR                     NULL-argument errors name the
                                                           parameter as the header does

Exits 0 on success, 1 with a list of problems otherwise.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile


# Headers of the optional parts, separate libraries with their own version
# scripts (not part of librnn.so, not in <rnn.h>): rnn/keras.h is librnn-keras's
# (lib/keras/librnn-keras.map, checked by the keras suite).
OPTIONAL_HEADERS = {"keras.h"}


def public_headers(include_dir):
    out = [os.path.join(include_dir, "rnn.h")]
    sub = os.path.join(include_dir, "rnn")
    for name in sorted(os.listdir(sub)):
        if name.endswith(".h") and name not in OPTIONAL_HEADERS:
            out.append(os.path.join(sub, name))
    return out


# A header of an optional part (a library of its own, built by a meson
# feature: librnn-onnx) says so in a comment, "librnn optional part: NAME";
# it is installed by that part, not included by rnn.h, and its functions are
# in that part's version script, not in librnn.map.
PART_RE = re.compile(r"librnn optional part:\s*([\w-]+)")


def header_part(path):
    m = PART_RE.search(open(path, encoding="utf-8").read())
    return m.group(1) if m else None


def header_declarations(include_dirs, part=None):
    """Names of functions declared with RNN_API in the public headers (of the
    core library, or of the optional part @p part)."""
    names = set()
    for d in include_dirs:
        if not os.path.isdir(os.path.join(d, "rnn")):
            continue
        for h in public_headers(d):
            if header_part(h) != part:
                continue
            text = open(h, encoding="utf-8").read()
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
            for m in re.finditer(r"RNN_API\b([^;{]*?)\b(rnn_\w+)\s*\(", text):
                names.add(m.group(2))
    return names


def map_symbols(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names, versions = set(), set()
    for m in re.finditer(r"(LIBRNN_[A-Z0-9_.]+)\s*\{(.*?)\}", text, flags=re.S):
        versions.add(m.group(1))
        body = m.group(2)
        g = re.search(r"global:(.*?)(local:|$)", body, flags=re.S)
        if g:
            names.update(re.findall(r"\b(rnn_\w+)\s*;", g.group(1)))
    return names, versions


def nm(args):
    return subprocess.run(["nm"] + args, check=True, capture_output=True, text=True).stdout


def umbrella_and_install(include_dir):
    """Every include/rnn/*.h is included by the umbrella rnn.h and installed
    (listed in include/rnn/meson.build)."""
    problems = []
    sub = os.path.join(include_dir, "rnn")
    build = os.path.join(sub, "meson.build")
    if not os.path.exists(build):  # an installed tree: nothing to compare
        return problems
    umbrella = open(os.path.join(include_dir, "rnn.h"), encoding="utf-8").read()
    included = set(re.findall(r'#include\s+"rnn/(\w+\.h)"', umbrella))
    m = re.search(r"public_headers\s*=\s*files\((.*?)\)", open(build, encoding="utf-8").read(),
                  flags=re.S)
    installed = set(re.findall(r"'(\w+\.h)'", m.group(1))) if m else set()
    for name in sorted(os.listdir(sub)):
        if not name.endswith(".h") or name in OPTIONAL_HEADERS or \
                header_part(os.path.join(sub, name)):
            continue
        if name not in included:
            problems.append(f"rnn/{name} is not included by the umbrella rnn.h")
        if name not in installed:
            problems.append(f"rnn/{name} is not installed (public_headers in {build})")
        print(f"{'ok' if name in included and name in installed else 'FAILED'}: rnn/{name} "
              f"in rnn.h and installed")
    return problems


def cmd_headers(a):
    problems = []
    for inc in a.include:
        if os.path.exists(os.path.join(inc, "rnn.h")):
            problems += umbrella_and_install(inc)
    with tempfile.TemporaryDirectory() as tmp:
        for inc in a.include:
            if not os.path.isdir(os.path.join(inc, "rnn")) or not os.path.exists(
                    os.path.join(inc, "rnn.h")):
                continue
            for h in public_headers(inc):
                rel = os.path.relpath(h, inc)
                for lang, compiler, flags, ext in (
                    ("C99", a.cc, ["-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra",
                                   "-Wstrict-prototypes"], "c"),
                    ("C++11", a.cxx, ["-std=c++11", "-pedantic", "-Werror", "-Wall", "-Wextra"],
                     "cpp"),
                ):
                    if not compiler:
                        continue
                    src = os.path.join(tmp, "one." + ext)
                    with open(src, "w") as f:
                        # Included twice: include guards must work.
                        f.write(f"#include <{rel}>\n#include <{rel}>\nint main(void) {{ return 0; }}\n"
                                if ext == "c" else
                                f"#include <{rel}>\n#include <{rel}>\nint main() {{ return 0; }}\n")
                    cmd = compiler + flags + [f"-I{d}" for d in a.include] + [
                        "-fsyntax-only", src]
                    r = subprocess.run(cmd, capture_output=True, text=True)
                    status = "ok" if r.returncode == 0 else "FAILED"
                    print(f"{status}: {rel} as {lang}")
                    if r.returncode != 0:
                        problems.append(f"{rel} does not compile alone as {lang}:\n{r.stderr}")
    return problems


def cmd_symbols(a):
    problems = []
    declared = header_declarations(a.include, a.part)
    mapped, versions = map_symbols(a.map)
    exported, unversioned = set(), []
    for line in nm(["-D", "--defined-only", a.lib]).splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[1], parts[2]
        if kind == "A":  # version node definitions
            continue
        base, _, ver = name.partition("@@")
        if not ver:
            base, _, ver = name.partition("@")
        if not ver or ver not in versions:
            unversioned.append(name)
        exported.add(base)
    bad = sorted(n for n in exported if not n.startswith("rnn_") or n.startswith("rnn__"))
    if bad:
        problems.append("exported symbols outside the public rnn_ namespace: " + ", ".join(bad))
    if unversioned:
        problems.append("exported symbols without a LIBRNN_ version: " + ", ".join(unversioned))
    for label, x, y in (("declared in headers but not exported", declared, exported),
                        ("exported but not declared in a header", exported, declared),
                        ("declared in headers but missing from librnn.map", declared, mapped),
                        ("in librnn.map but not declared in a header", mapped, declared)):
        diff = sorted(x - y)
        if diff:
            problems.append(f"{label}: " + ", ".join(diff))
    print(f"{len(declared)} declared, {len(mapped)} in the version script, "
          f"{len(exported)} exported ({', '.join(sorted(versions))})")
    return problems


def header_parameters(include_dirs):
    """{function: [parameter names]} of the RNN_API declarations."""
    out = {}
    for d in include_dirs:
        if not os.path.isdir(os.path.join(d, "rnn")):
            continue
        for h in public_headers(d):
            text = re.sub(r"/\*.*?\*/", "", open(h, encoding="utf-8").read(), flags=re.S)
            for m in re.finditer(r"RNN_API\b[^;{]*?\b(rnn_\w+)\s*\(([^)]*)\)", text):
                names = []
                for p in m.group(2).split(","):
                    w = re.findall(r"(\w+)\s*(?:\[\s*\])?\s*$", p.strip())
                    names.append(w[0] if w else "")
                out[m.group(1)] = names
    return out


def cmd_argnames(a):
    """rnn_last_error() must name the argument the caller knows: every
    RNN__CHECK_ARG(x) in a public function's body checks a parameter named x in
    the header (RNN__CHECK_ARG_AS(p, "name") names it explicitly)."""
    params = header_parameters(a.include)
    problems, checked = [], 0
    for root, _, files in os.walk(a.src):
        for f in sorted(files):
            if not f.endswith(".c"):
                continue
            path = os.path.join(root, f)
            text = open(path, encoding="utf-8").read()
            for m in re.finditer(r"^rnn_status (rnn_\w+)\(([^)]*)\)\n\{", text, flags=re.M):
                fn = m.group(1)
                if fn not in params:
                    continue
                body = text[m.end():text.index("\n}\n", m.end())]
                for arg in re.findall(r"RNN__CHECK_ARG\((\w+)\)", body):
                    checked += 1
                    if arg not in params[fn]:
                        problems.append(f"{os.path.relpath(path, a.src)}: {fn} checks '{arg}', "
                                        f"but the header calls its parameters "
                                        f"{', '.join(params[fn])}")
                for arg in re.findall(r"RNN__CHECK_ARG_AS\(\w+,\s*\"(\w+)\"\)", body):
                    checked += 1
                    if arg not in params[fn]:
                        problems.append(f"{os.path.relpath(path, a.src)}: {fn} names '{arg}', "
                                        f"not a parameter in the header ({', '.join(params[fn])})")
    print(f"argument checks: {checked} in public functions, {len(problems)} misnamed")
    if checked == 0:
        problems.append("no RNN__CHECK_ARG found: the pattern no longer matches the sources")
    return problems


def cmd_static(a):
    problems = []
    # Defined global symbols (T, D, B, R, ...; lower case letters are local).
    for line in nm(["-g", "--defined-only", a.archive]).splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        name = parts[2]
        if not name.startswith("rnn_"):
            problems.append(f"global symbol {name} leaks from the static library")
    print(f"static archive {os.path.basename(a.archive)}: "
          f"{'clean' if not problems else str(len(problems)) + ' leaks'}")
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("check", choices=["headers", "symbols", "static", "argnames"])
    p.add_argument("--cc", nargs="+", default=None)
    p.add_argument("--cxx", nargs="+", default=None)
    p.add_argument("--include", "-I", action="append", default=[])
    p.add_argument("--lib")
    p.add_argument("--map")
    p.add_argument("--archive")
    p.add_argument("--src")
    p.add_argument("--part", default=None,
                   help="symbols: an optional part's library (its headers say "
                        "'librnn optional part: NAME')")
    a = p.parse_args()
    problems = {"headers": cmd_headers, "symbols": cmd_symbols, "static": cmd_static,
                "argnames": cmd_argnames}[a.check](a)
    for pr in problems:
        print("PROBLEM:", pr, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
