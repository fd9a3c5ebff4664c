#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Smoke test for aether-bench: runs one subcommand and checks its JSON output.

Usage: check_bench_json.py BENCH ARGS... -- KEY...
Runs BENCH ARGS, parses stdout as one JSON object, and fails unless every KEY is present with
a non-negative number. The figures themselves are not judged (this is not a benchmark run).
"""
import json
import subprocess
import sys


def main():
    sep = sys.argv.index("--")
    cmd, keys = sys.argv[1:sep], sys.argv[sep + 1:]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        print(f"exit {proc.returncode}: {proc.stderr.strip()}")
        return 1
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        print(f"not JSON ({e}): {proc.stdout!r}")
        return 1
    bad = [k for k in keys if not isinstance(data.get(k), (int, float)) or data[k] < 0]
    if bad:
        print(f"missing or bad keys {bad} in {data}")
        return 1
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
