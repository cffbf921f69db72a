#!/usr/bin/env python3
"""Medians over rounds of bench/latency.sh's log: one row per (condition, model, engine)."""
import collections
import statistics
import sys

if len(sys.argv) != 2:
    print("usage: bench/latency_summary.py LOG (a bench/latency.sh log)", file=sys.stderr)
    sys.exit(2)
try:
    lines = open(sys.argv[1], errors="replace").readlines()
except OSError as e:
    print(f"{sys.argv[1]}: cannot read it ({e.strerror or e})", file=sys.stderr)
    sys.exit(2)
rows = collections.defaultdict(list)
for line in lines:
    f = line.split()
    if "LATENCY" not in f:
        continue
    try:
        cond, load = f[2], float(f[4])
        i = f.index("LATENCY")
        impl, arch, size = f[i + 1], f[i + 2], f[i + 3]
        v = dict(zip(f[i + 4::2], f[i + 5::2]))
        rows[(arch, size, cond, impl)].append((float(v["p50"]), float(v["p90"]), float(v["p99"]), load))
    except (IndexError, KeyError, ValueError):
        print(f"{sys.argv[1]}: not a bench/latency.sh record, left out: {line.strip()[:120]}", file=sys.stderr)
if not rows:
    print(f"{sys.argv[1]}: no LATENCY lines: is it a bench/latency.sh log?", file=sys.stderr)
    sys.exit(2)
# p99 / p50 is taken per round (the quiet-tail target is about each run's own p50), then its range and median
print("| model | condition | engine | rounds | p50 ms | p90 ms | p99 ms | p99 / p50 per round: range (median) | load1 |")
print("|---|---|---|---|---|---|---|---|---|")
for (arch, size, cond, impl), vs in sorted(rows.items()):
    med = [statistics.median(x[k] for x in vs) for k in range(4)]
    tail = [x[2] / x[0] for x in vs if x[0] > 0]
    span = "%.2f-%.2f (%.2f)" % (min(tail), max(tail), statistics.median(tail)) if tail else "-"
    print("| %s @%s | %s | %s | %d | %.1f | %.1f | %.1f | %s | %.1f |" % (arch, size, cond, impl, len(vs), *med[:3], span, med[3]))
