#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""debian/librnn0.symbols lists exactly the exported symbols (meson test --suite api).

  check_debian_symbols.py --map lib/librnn.map --symbols debian/librnn0.symbols
  check_debian_symbols.py --library librnn-onnx --map lib/onnx/librnn-onnx.map \
      --symbols debian/librnn-onnx0.symbols

--library names the library (default librnn): its soname is LIBRARY.so.0, its
package LIBRARY0 and its -dev package LIBRARY-dev (the optional parts are
packaged as librnn is: docs/building.md, "Debian packages").

Every `rnn_*` name of every version node of the linker version script must be in
the symbols file as name@NODE, plus each node itself (NODE@NODE), and nothing else,
so that a function added to librnn.map without its symbols line fails here, not
only when the Debian package is built (dpkg-gensymbols -c4). The symbols file
must also name its -dev package (Build-Depends-Package). Exits 77 (skipped) when
the tree has no debian/ directory.
"""
import argparse
import os
import re
import sys


def map_entries(path):
    text = re.sub(r"/\*.*?\*/", "", open(path, encoding="utf-8").read(), flags=re.S)
    out = set()
    for m in re.finditer(r"(LIBRNN_[A-Z0-9_.]+)\s*\{(.*?)\}", text, flags=re.S):
        node = m.group(1)
        out.add("%s@%s" % (node, node))
        g = re.search(r"global:(.*?)(local:|$)", m.group(2), flags=re.S)
        if g:
            out.update("%s@%s" % (n, node) for n in re.findall(r"\b(rnn_\w+)\s*;", g.group(1)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", required=True)
    ap.add_argument("--symbols", required=True)
    ap.add_argument("--library", default="librnn")
    a = ap.parse_args()
    if not os.path.exists(a.symbols):
        print("%s absent: skipped" % a.symbols)
        return 77
    lines = open(a.symbols, encoding="utf-8").read().splitlines()
    problems = []
    first = "%s.so.0 %s0 #MINVER#" % (a.library, a.library)
    if not lines or lines[0] != first:
        problems.append("first line must be '%s'" % first)
    dev = "* Build-Depends-Package: %s-dev" % a.library
    if dev not in lines:
        problems.append("no '%s' line" % dev)
    listed = {}
    for line in lines[1:]:
        m = re.match(r"^ (\S+) (\S+)$", line)
        if m:
            listed[m.group(1)] = m.group(2)
        elif line and not line.startswith(("*", "#")):
            problems.append("unexpected line: %r" % line)
    want = map_entries(a.map)
    for s in sorted(want - set(listed)):
        problems.append("missing from %s: %s" % (a.symbols, s))
    for s in sorted(set(listed) - want):
        problems.append("not exported (not in %s): %s" % (a.map, s))
    for p in problems:
        print(p)
    if problems:
        return 1
    print("%d symbols, the same as %s" % (len(listed), a.map))
    return 0


if __name__ == "__main__":
    sys.exit(main())
