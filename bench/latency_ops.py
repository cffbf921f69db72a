#!/usr/bin/env python3
"""Where a slow call's extra time goes: reads the per-call per-op profile of an inference plan
(`CONTA_JAVA_OPTS="-Dconta.plan.profile=true -Dconta.plan.profile.calls=F.csv" ./conta bench latency --impl plan ...`)
and, for every call slower than TAIL x the median call, splits its excess over the median call into the ops' excesses
over their own medians. A preempted thread shows as one op holding most of a call's excess (the other thread waits for
it at the op's end); cold caches or a slower clock show as an excess spread over many ops.

Usage: bench/latency_ops.py F.csv[.gz] [--tail 1.15] [--skip 20] [--stall 2.5] [--quiet]
  --skip: calls to leave out at the start (the bench's warm-up calls are in the file), --stall: ms one op must exceed
  its median by to count as a stall. Prints each tail call (unless --quiet), then: the calls with a one-op stall, their
  median stall and spacing, and p99 / p50 of the calls without one.
"""
import argparse
import csv
import gzip
import statistics
import sys


def refuse(line):
    """Bad input: one line on stderr, exit 2."""
    print(line, file=sys.stderr)
    sys.exit(2)


def load(path, skip):
    """The profile's op names, its calls after the first skip (start ms, then per-op ms) and each op's median ms."""
    try:
        with (gzip.open if path.endswith(".gz") else open)(path, "rt") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        refuse(f"{path}: cannot read it ({e.strerror or e})")
    except (UnicodeDecodeError, csv.Error):
        refuse(f"{path}: not a text CSV: is it a -Dconta.plan.profile.calls file?")
    if not rows:
        refuse(f"{path}: empty (no header row): is it a -Dconta.plan.profile.calls file?")
    names = rows[0][1:]
    try:
        all_calls = [[float(x) for x in r] for r in rows[1:] if r]
    except ValueError as e:
        refuse(f"{path}: a row that is not numbers ({e}): is it a -Dconta.plan.profile.calls file?")
    if len(all_calls) <= skip:
        refuse(f"{path}: {len(all_calls)} calls, none after the first {skip} left out: pass a smaller --skip")
    calls = all_calls[skip:]
    return names, calls, [statistics.median(c[i + 1] for c in calls) for i in range(len(names))]


def excess(call, op_med):
    """Each op's ms over its median in this call, and the index of the largest."""
    ex = [call[i + 1] - m for i, m in enumerate(op_med)]
    return ex, max(range(len(ex)), key=lambda i: ex[i])


def pct(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(round(q * (len(sorted_values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--tail", type=float, default=1.15)
    ap.add_argument("--skip", type=int, default=20)
    ap.add_argument("--stall", type=float, default=2.5)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    names, calls, op_med = load(a.file, a.skip)
    totals = [sum(c[1:]) for c in calls]
    p50 = statistics.median(totals)
    print(f"{a.file}: {len(calls)} calls (first {a.skip} left out), {len(names)} ops, p50 {p50:.2f} ms, "
          f"p99 {pct(sorted(totals), 0.99):.2f} ms (p99/p50 {pct(sorted(totals), 0.99) / p50:.2f})")
    t0 = calls[0][0]
    stalls, others, shares = [], [], []
    for c, tot in zip(calls, totals):
        ex, top = excess(c, op_med)
        if ex[top] >= a.stall:
            stalls.append((c[0], ex[top]))
        else:
            others.append(tot)
        if tot <= a.tail * p50:
            continue
        over = tot - p50
        shares.append(ex[top] / over)
        if not a.quiet:
            print(f"  t={c[0] - t0:9.1f} ms  call {tot:6.2f}  excess {over:5.2f}  largest op {ex[top]:5.2f} "
                  f"({ex[top] / over:4.0%}) {names[top][:60]}  ops > +0.2 ms: {sum(1 for e in ex if e > 0.2)}")
    if shares:
        print(f"tail calls (> {a.tail} x p50): {len(shares)}; median share of the largest op {statistics.median(shares):.0%}")
    if stalls:
        gaps = [b[0] - s[0] for s, b in zip(stalls, stalls[1:])]
        print(f"one-op stalls (>= +{a.stall} ms): {len(stalls)} calls, stall median {statistics.median(e for _, e in stalls):.2f} ms, "
              f"spacing median {statistics.median(gaps) if gaps else float('nan'):.0f} ms")
    if others:
        p99o = pct(sorted(others), 0.99)
        print(f"the other {len(others)} calls: p99 {p99o:.2f} ms, p99/p50 {p99o / p50:.2f}")


if __name__ == "__main__":
    main()
