#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs aether-sim and checks what the run must show (the `sim` meson suite).

  sim_expect.py caught COUNTER SIM [ARGS...]
      a deliberately broken run (--break) must FAIL: exit status 1 and COUNTER > 0 on the last
      line (proof that the checkers see the bug). A Rabia without the test hook for the rule
      makes aether-sim exit 2 with a message: reported as a skip (exit 77), not a pass.
  sim_expect.py replay SIM [ARGS...]
      the same arguments twice give byte-identical output, including the trace digest.
  sim_expect.py usage SIM [ARGS...]
      bad arguments: exit status 2, exactly one line on stderr, nothing on stdout.

Prints what it saw; exit 0 when the expectation holds.
"""
import re
import subprocess
import sys

LAST = re.compile(r"^sim: seeds=(\d+) nodes=\S+ ops=(\d+) slots=(\d+) null_slots=(\d+) "
                  r"violations=(\d+) nonlinearizable=(\d+) stalls=(\d+) lost_acked=(\d+)$")
FIELDS = ["seeds", "ops", "slots", "null_slots", "violations", "nonlinearizable", "stalls",
          "lost_acked"]


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def last_line(out):
    lines = out.strip().split("\n")
    m = LAST.match(lines[-1]) if lines else None
    return dict(zip(FIELDS, map(int, m.groups()))) if m else None


def caught(counter, cmd):
    rc, out, err = run(cmd)
    if rc == 2 and "no test hook" in err:
        print(err.strip())
        print("SKIP: Rabia has no test hook for this rule yet")
        return 77
    counts = last_line(out)
    print(out.strip().split("\n")[-1] if out.strip() else "(no output)")
    if rc != 1 or counts is None or counts[counter] == 0:
        print(f"FAIL: expected exit 1 and {counter} > 0, got exit {rc}")
        sys.stderr.write(err[-2000:])
        return 1
    print(f"ok: the checkers caught it ({counter}={counts[counter]})")
    return 0


def replay(cmd):
    first = run(cmd)
    second = run(cmd)
    if first != second:
        print("FAIL: two runs of the same seed differ")
        print(first[1][-2000:])
        print(second[1][-2000:])
        return 1
    if "trace=" not in first[1] or last_line(first[1]) is None:
        print("FAIL: no trace digest or summary line")
        print(first[1])
        return 1
    print(first[1].strip())
    print("ok: identical output and trace digest")
    return 0


def usage(cmd):
    rc, out, err = run(cmd)
    lines = err.strip().split("\n")
    if rc != 2 or out != "" or len(lines) != 1 or not lines[0].startswith("aether-sim: "):
        print(f"FAIL: expected exit 2 and one line on stderr, got exit {rc}:\n{err}{out}")
        return 1
    print(f"ok: {lines[0]}")
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "caught":
        return caught(argv[2], argv[3:])
    if len(argv) >= 3 and argv[1] == "replay":
        return replay(argv[2:])
    if len(argv) >= 3 and argv[1] == "usage":
        return usage(argv[2:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
