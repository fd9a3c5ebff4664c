#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""aether-pack end to end: exit codes, one-line errors, and the installed Maven layout.

Usage: check_pack.py AETHER_PACK GOOD_SO BAD_ABI_SO NO_SYMBOL_SO
Packs GOOD_SO into a temporary repository and checks both files and the manifest's size and
coordinate; checks that --print installs nothing, that --help exits 0, bad usage exits 2, and
that a missing file, a slice built for another ABI and a .so without a descriptor each exit 1
with exactly one line on stderr naming the reason.
"""
import os
import subprocess
import sys
import tempfile


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def expect_refusal(pack, args, code, words, failures):
    proc = run([pack] + args)
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != code or len(lines) != 1 or words not in lines[0]:
        failures.append(f"{args}: exit {proc.returncode}, stderr {proc.stderr!r}; "
                        f"want exit {code} and one line with {words!r}")


def main():
    pack, good, bad_abi, no_symbol = sys.argv[1:5]
    failures = []
    with tempfile.TemporaryDirectory(prefix="aether-pack-") as repo:
        proc = run([pack, "--repo", repo, good])
        base = os.path.join(repo, "org/aether/examples/greeter/1.0.0/greeter-1.0.0")
        if proc.returncode != 0 or not os.path.isfile(base + ".so"):
            failures.append(f"packing {good}: exit {proc.returncode} {proc.stderr!r}")
        else:
            manifest = open(base + ".manifest").read().splitlines()
            if manifest[1] != "coord org.aether.examples:greeter:1.0.0" or \
                    manifest[3] != f"size {os.path.getsize(good)}" or \
                    open(base + ".so", "rb").read() != open(good, "rb").read():
                failures.append(f"installed files differ: {manifest}")
        printed = run([pack, "--print", good])
        if printed.returncode != 0 or not printed.stdout.startswith("aether-manifest 1\n"):
            failures.append(f"--print: {printed.returncode} {printed.stdout!r}")
        if run([pack, "--help"]).returncode != 0:
            failures.append("--help does not exit 0")
        expect_refusal(pack, [], 2, "give one SLICE.so", failures)
        expect_refusal(pack, ["--repo", repo, "/nonexistent/x.so"], 1, "No such file", failures)
        expect_refusal(pack, ["--repo", repo, bad_abi], 1, "built for slice ABI 99", failures)
        expect_refusal(pack, ["--repo", repo, no_symbol], 1, "does not export aether_slice_def",
                       failures)
        if os.path.exists(os.path.join(repo, "org/aether/bad")):
            failures.append("a refused slice was installed")
    for f in failures:
        print(f)
    print(f"aether-pack: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
