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
        "cluster", "sim", "control/rules", "ctl/codec", "numa/src/planner", "numa/include",
        "dataplane/src/frame.c", "dataplane/src/fault.c", "dataplane/src/idle.c",
        "dataplane/src/eal_args.c", "dataplane/include",
        "ctl/src/codec", "ctl/include/ctl/ctl_proto.h",
        "node/src/node_config.c", "node/include/node/node_config.h"] + [
        # The shard and the leader rule: the simulator runs them, so they meet the world only
        # through struct env_ops (node_shard.h).
        "node/src/" + f for f in ("node_leader.c", "node_shard.c", "node_shard_apply.c",
                                  "node_shard_store.c", "node_shard_xfer.c",
                                  "node_shard_int.h")] + [
        "node/include/node/node_shard.h", "node/include/node/node_leader.h"]

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
    # The dataplane's pure units (codec, fault hook, idle policy, EAL argv) use only base and
    # each other; the rest of the dataplane implements env over DPDK and pins through numa.
    "dataplane/src/frame.c": {"base/", "dataplane/frame.h"},
    "dataplane/src/fault.c": {"base/", "dataplane/fault.h"},
    "dataplane/src/idle.c": {"base/", "dataplane/idle.h"},
    "dataplane/src/eal_args.c": {"base/", "dataplane/dp_eal.h"},
    "dataplane": {"base/", "env/", "numa/", "dataplane/"},
    # The ctl codec is pure and shares only the KV store's wire limits; the server and
    # aetherctl use the codec and base. Nothing in ctl reaches into nodes, slices or dataplane.
    "ctl/src/codec": {"base/", "ctl/ctl_proto.h", "consensus/kv_cmd.h"},
    "ctl": {"base/", "ctl/", "consensus/kv_cmd.h"},
    "node/src/node_config.c": {"base/", "node/node_config.h"},
    # The leader rule: base and the KV key and command codecs; nothing with a clock or a socket.
    "node/src/node_leader.c": {"base/", "consensus/kv_key.h", "consensus/kv_cmd.h",
                               "node/node_leader.h"},
}
# The shard's files: base, the env seam, consensus, and the node units the shard is made of.
for _f in ("node_shard.c", "node_shard_apply.c", "node_shard_store.c", "node_shard_xfer.c",
           "node_shard_int.h"):
    ALLOWED_INCLUDES["node/src/" + _f] = {"base/", "env/env.h", "consensus/", "node/node_shard.h",
                                          "node/node_leader.h"}
PROJECT_PREFIXES = ("base/", "env/", "consensus/", "slices/", "numa/", "dataplane/", "cluster/",
                    "control/", "ctl/", "node/", "sim/", "aether/")

# DPDK stays inside dataplane/src (ARCHITECTURE.md section 3): its public headers, its tools
# and every other module are DPDK-free, so a DPDK upgrade touches one module.
RTE_INCLUDE = [(re.compile(r"#\s*include\s*<rte_"), "DPDK header outside dataplane/src")]

# Platform libraries that only the named files may include (ARCHITECTURE.md section 3), so that
# an upgrade or a port touches few places: one per module that needs the library (liburing:
# the slice repository's artifact reads, env_posix's storage backend).
ONLY_IN = {
    "dlfcn.h": {"slices/src/loader.c"},
    "liburing.h": {"slices/src/repo.c", "env/src/env_posix_uring.c"},
}

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


def check_only_in(path, findings):
    rel = os.path.relpath(path, ROOT)
    with open(path, encoding="utf-8") as f:
        code = strip(f.read())
    for header, owners in ONLY_IN.items():
        if rel not in owners and re.search(r"#\s*include\s*<" + re.escape(header) + ">", code):
            findings.append(f"{rel}: includes <{header}>, which only "
                            f"{' and '.join(sorted(owners))} may use")


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
            check_only_in(path, findings)
            rel = os.path.relpath(path, ROOT)
            if not rel.startswith(os.path.join("dataplane", "src") + os.sep):
                scan(path, RTE_INCLUDE, findings)
    for module, allowed in ALLOWED_INCLUDES.items():
        if os.path.exists(os.path.join(ROOT, module)):
            check_includes(module, allowed, findings)
    for line in findings:
        print(line)
    print(f"layering: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
