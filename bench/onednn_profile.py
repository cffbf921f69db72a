#!/usr/bin/env python3
"""Where a plan's time goes: sums ONEDNN_VERBOSE=1 exec lines (ms) by primitive kind and implementation.

  ONEDNN_VERBOSE=1 ./conta bench latency --arch resnet50 --size 224 --iters 20 --warmup 5 2>&1 | bench/onednn_profile.py - CALLS
CALLS = warmup + iters (the per-call averages divide by it; weight reorders at build run once and are listed apart).

A training step (conta bench train prints "iter K: ... s" after each step, step 0 the warm-up):
  ONEDNN_VERBOSE=1 ./conta bench train --arch resnet50 --batch 8 --size 224 --iters 3 2>&1 | bench/onednn_profile.py - 2 --after-iter 1
counts only the exec lines after "iter 1:" (here steps 2 and 3; CALLS = 2). The first steps' reorders write into
fresh pages and their primitives are being made: summed with them, a reorder looked 5-40x slower than in a steady
step (bench/RESULTS.md, session 13)."""
import collections
import sys

if len(sys.argv) not in (3, 5) or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1 or (len(sys.argv) == 5 and (sys.argv[3] != "--after-iter" or not sys.argv[4].isdigit())):
    print("usage: bench/onednn_profile.py LOG|- CALLS [--after-iter K]   (CALLS >= 1; see the header of this script)", file=sys.stderr)
    sys.exit(2)
try:
    if sys.argv[1] == "-":
        sys.stdin.reconfigure(errors="replace")  # a binary file's bytes do not stop it: it then finds no exec lines and says so
        src = sys.stdin
    else:
        src = open(sys.argv[1], errors="replace")
except OSError as e:
    print(f"{sys.argv[1]}: cannot read it ({e.strerror or e})", file=sys.stderr)
    sys.exit(2)
calls = int(sys.argv[2])
after = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--after-iter" else None
counting = after is None
tot = collections.Counter()
cnt = collections.Counter()
for line in src:
    # stdout (oneDNN's lines) and stderr (conta's "iter K:") may interleave within a line
    if not counting:
        counting = ("iter %d:" % after) in line
        continue
    j = line.find("onednn_verbose")
    if j < 0 or ",primitive,exec," not in line:
        continue
    line = line[j:]
    f = line.rstrip().split(",")
    try:
        kind, impl, ms = f[5], f[6], float(f[-1])
    except (IndexError, ValueError):  # a line cut by another stream's output: not one of oneDNN's whole lines
        continue
    key = (kind, impl)
    if after is None and kind == "reorder" and ":f32::blocked:abcd" in line and "x" in f[-2] and f[-2].count("x") == 3 and not f[-2].startswith("1x"):
        key = ("reorder (weights, at build)", impl)
    tot[key] += ms
    cnt[key] += 1
if not tot:
    where = "after the line \"iter %d:\"" % after if after is not None else "in it"
    print("%s: no onednn_verbose exec lines %s: run the command with ONEDNN_VERBOSE=1 (and 2>&1)" % (sys.argv[1], where), file=sys.stderr)
    sys.exit(2)
grand = sum(v for k, v in tot.items() if not k[0].startswith("reorder (weights"))
print("| primitive | implementation | execs per call | ms per call | share |")
print("|---|---|---|---|---|")
for k, v in tot.most_common():
    per = v / calls if not k[0].startswith("reorder (weights") else v
    share = "%.1f%%" % (100 * v / grand) if not k[0].startswith("reorder (weights") else "once"
    print("| %s | %s | %.1f | %.2f | %s |" % (k[0], k[1], cnt[k] / calls if share != "once" else cnt[k], per, share))
print("| total (per call) | | | %.2f | |" % (grand / calls))
