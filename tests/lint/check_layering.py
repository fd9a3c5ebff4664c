#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Layering and banned-API check (STYLE.md sections 1 and 9).

Pure modules (state machines and codecs that must run the same way in the simulator) may not
use clocks, sockets, threads, process randomness, the environment or DPDK. Every module may use
only the project headers of the modules below it (ARCHITECTURE.md section 3); meson's per-module
dependencies already enforce most of that, this check catches what include paths cannot (for
example consensus/ reaching past slices/coord.h). A few libc functions are banned everywhere.

Prints one line per finding ("path:line: what") and exits 1 if there is any.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))

# Directories (relative to ROOT) whose C files must be pure.
PURE = ["base", "consensus", "slices/src/coord.c", "slices/include/slices/coord.h",
        "slices/src/manifest.c", "slices/src/resolver.c", "slices/src/lifecycle.c",
        "slices/include/slices/manifest.h", "slices/include/slices/resolver.h",
        "slices/include/slices/lifecycle.h",
        "cluster", "sim", "control/rules", "ctl/codec", "numa/src/planner", "numa/include"]

PURE_BANS = [
    (re.compile(r"#\s*include\s*<rte_"), "DPDK header in a pure module"),
    (re.compile(r"#\s*include\s*<pthread\.h>"), "threads in a pure module"),
    (re.compile(r"#\s*include\s*<sys/socket\.h>"), "sockets in a pure module"),
    (re.compile(r"#\s*include\s*<(dlfcn|liburing|hwloc)\.h>"), "platform library in a pure module"),
    (re.compile(r"\bclock_gettime\s*\("), "clock in a pure module (time arrives as now_ns)"),
    (re.compile(r"\b(gettimeofday|time)\s*\("), "clock in a pure module (time arrives as now_ns)"),
    (re.compile(r"\b(rand|random|srand|srandom|drand48)\s*\("), "process randomness in a pure module (use base_prng)"),
    (re.compile(r"\b(secure_)?getenv\s*\("), "environment in a pure module"),
    (re.compile(r"\b(u|nano)?sleep\s*\("), "sleeping in a pure module"),
]

GLOBAL_BANS = [
    (re.compile(r"\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|alloca|gets)\s*\("),
     "banned libc function (use the bounded variant)"),
]

# Project headers each module may include, by include prefix.
ALLOWED_INCLUDES = {
    "base": {"base/"},
    "env": {"base/", "env/"},
    "slices/src/coord.c": {"base/", "slices/coord.h"},
    # The pure slice core: base, the coordinate grammar and each other, nothing with IO.
    "slices/src/manifest.c": {"base/", "slices/coord.h", "slices/manifest.h"},
    "slices/src/resolver.c": {"base/", "slices/coord.h", "slices/manifest.h", "slices/resolver.h"},
    "slices/src/lifecycle.c": {"base/", "slices/lifecycle.h"},
    "consensus": {"base/", "consensus/", "slices/coord.h"},
    "numa/src/planner": {"base/", "numa/topology.h", "numa/plan.h"},
    "numa": {"base/", "numa/"},
}
PROJECT_PREFIXES = ("base/", "env/", "consensus/", "slices/", "numa/", "dataplane/", "cluster/",
                    "control/", "ctl/", "node/", "sim/", "aether/")

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
INCLUDE = re.compile(r'#\s*include\s*"([^"]+)"')


def c_files(rel):
    path = os.path.join(ROOT, rel)
    if os.path.isfile(path):
        yield path
        return
    for dirpath, _, names in os.walk(path):
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                yield os.path.join(dirpath, name)


def strip(text):
    """Blank out comments and string literals, keeping line numbers."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return STRING.sub(blank, COMMENT.sub(blank, text))


def scan(path, bans, findings):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    code = strip(raw)
    for lineno, line in enumerate(code.split("\n"), 1):
        for pattern, what in bans:
            if pattern.search(line):
                findings.append(f"{os.path.relpath(path, ROOT)}:{lineno}: {what}")
    return raw


def check_includes(module, allowed, findings):
    for path in c_files(module):
        with open(path, encoding="utf-8") as f:
            raw = COMMENT.sub("", f.read())
        for m in INCLUDE.finditer(raw):
            inc = m.group(1)
            if not inc.startswith(PROJECT_PREFIXES):
                continue
            if not any(inc.startswith(a) for a in allowed):
                findings.append(f"{os.path.relpath(path, ROOT)}: includes \"{inc}\", "
                                f"which {module}/ may not use")


def main():
    findings = []
    for rel in PURE:
        if os.path.exists(os.path.join(ROOT, rel)):
            for path in c_files(rel):
                scan(path, PURE_BANS, findings)
    for top in sorted(os.listdir(ROOT)):
        if top.startswith((".", "build")) or not os.path.isdir(os.path.join(ROOT, top)):
            continue
        for path in c_files(top):
            scan(path, GLOBAL_BANS, findings)
    for module, allowed in ALLOWED_INCLUDES.items():
        if os.path.exists(os.path.join(ROOT, module)):
            check_includes(module, allowed, findings)
    for line in findings:
        print(line)
    print(f"layering: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
