#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Smoke test for aether-bench: runs one subcommand and checks its JSON output.

Usage: check_bench_json.py BENCH ARGS... -- CHECK...
Runs BENCH ARGS, parses stdout as one JSON object, and fails unless every CHECK holds:
  KEY        present, a non-negative number
  KEY>0      present, a number above zero (something was measured)
  KEY=VALUE  present and equal to VALUE (compared as text, so "udp" and "3" both work)
The figures themselves are not judged beyond that (this is not a benchmark run).
"""
import json
import subprocess
import sys


def failed(data, check):
    """Why check does not hold for data, or None."""
    if "=" in check:
        key, want = check.split("=", 1)
        got = data.get(key)
        return None if got is not None and str(got) == want else f"{key}={got!r}, want {want}"
    positive = check.endswith(">0")
    key = check[:-2] if positive else check
    got = data.get(key)
    if not isinstance(got, (int, float)) or isinstance(got, bool) or got < 0:
        return f"{key}={got!r} is not a non-negative number"
    if positive and got <= 0:
        return f"{key}={got!r} is not above zero"
    return None


def main():
    sep = sys.argv.index("--")
    cmd, checks = sys.argv[1:sep], sys.argv[sep + 1:]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=170)
    if proc.returncode != 0:
        print(f"exit {proc.returncode}: {proc.stderr.strip()}")
        return 1
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        print(f"not JSON ({e}): {proc.stdout!r}")
        return 1
    if not isinstance(data, dict):
        print(f"not one JSON object: {data!r}")
        return 1
    bad = [why for why in (failed(data, c) for c in checks) if why is not None]
    if bad:
        print(f"failed checks {bad} in {data}")
        return 1
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
