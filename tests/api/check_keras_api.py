#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""librnn-keras's interface: the RNN_API names of include/rnn/keras.h ==
lib/keras/librnn-keras.map == what `nm -D` finds in librnn-keras.so, each
versioned LIBRNN_KERAS_*; and the header compiles alone as C99 -pedantic
and (when a C++ compiler is given) as C++11.

  check_keras_api.py LIB MAP INCLUDE_DIR GENERATED_INCLUDE_DIR CC [CXX]
"""
import os
import re
import subprocess
import sys
import tempfile


def main():
    lib, mapfile, inc, gen, cc = sys.argv[1:6]
    cxx = sys.argv[6] if len(sys.argv) > 6 else None
    hdr = os.path.join(inc, "rnn", "keras.h")
    text = re.sub(r"/\*.*?\*/", "", open(hdr, encoding="utf-8").read(), flags=re.S)
    declared = set(re.findall(r"RNN_API\b[^;{]*?\b(rnn_\w+)\s*\(", text))
    m = re.sub(r"/\*.*?\*/", "", open(mapfile, encoding="utf-8").read(), flags=re.S)
    g = re.search(r"LIBRNN_KERAS_0\s*\{\s*global:(.*?)local:", m, flags=re.S)
    mapped = set(re.findall(r"\b(rnn_\w+)\s*;", g.group(1))) if g else set()
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                         text=True).stdout
    problems = []
    exported = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":
            continue
        name, _, ver = parts[2].partition("@@")
        exported.add(name)
        if not name.startswith("rnn_") or not ver.startswith("LIBRNN_KERAS_"):
            problems.append(f"unexpected export {parts[2]}")
    for what, s in (("lib/keras/librnn-keras.map", mapped), ("nm -D", exported)):
        if s != declared:
            problems.append(f"rnn/keras.h and {what} differ: {sorted(declared ^ s)}")
    body = "#include <rnn/keras.h>\n#include <rnn/keras.h>\nint main(void) { return 0; }\n"
    with tempfile.TemporaryDirectory() as tmp:
        cmds = []
        for ext, comp, std in ((".c", cc, "-std=c99"), (".cpp", cxx, "-std=c++11")):
            if not comp:
                continue
            src = os.path.join(tmp, "h" + ext)
            with open(src, "w") as f:
                f.write(body)
            cmds.append([comp, std, "-pedantic", "-Werror", "-Wall", "-Wextra", "-I", inc,
                         "-I", gen, "-c", src, "-o", src + ".o"])
        for c in cmds:
            r = subprocess.run(c, capture_output=True, text=True)
            if r.returncode:
                problems.append(f"rnn/keras.h does not compile alone: {' '.join(c)}\n{r.stderr}")
    for p in problems:
        print("PROBLEM:", p)
    print(f"librnn-keras: {len(declared)} functions declared, {len(mapped)} in the map, "
          f"{len(exported)} exported")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
