#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every public header compiles on its own (STYLE.md section 2, after DPDK's chkincs).

Usage: check_headers.py ROOT CC [CC args...]
Compiles a translation unit containing only `#include "<header>"` for every header under
include/ and */include/, with every include directory on the path, and reports those that fail.
"""
import os
import subprocess
import sys


def main():
    root = os.path.abspath(sys.argv[1])
    cc = sys.argv[2:]
    include_dirs = []
    headers = []
    # The top-level include/ (the slice SDK, aether/slice.h) and every module's include/.
    candidates = [os.path.join(root, "include")]
    candidates += [os.path.join(root, top, "include") for top in sorted(os.listdir(root))
                   if not top.startswith((".", "build"))]
    for inc in candidates:
        if not os.path.isdir(inc):
            continue
        include_dirs.append(inc)
        for dirpath, _, names in os.walk(inc):
            for name in sorted(names):
                if name.endswith(".h"):
                    headers.append(os.path.relpath(os.path.join(dirpath, name), inc))
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
             "-fsyntax-only", "-x", "c", "-"]
    for d in include_dirs:
        flags.insert(0, "-I" + d)
    failed = 0
    for h in headers:
        src = f'#include "{h}"\n#include "{h}"\n'  # twice: the guard must work too
        proc = subprocess.run(cc + flags, input=src, text=True, capture_output=True)
        if proc.returncode != 0:
            failed += 1
            print(f"not self-contained: {h}\n{proc.stderr}")
    print(f"headers: {len(headers)} checked, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
