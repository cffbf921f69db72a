#!/usr/bin/env python3
"""Where the tail calls of a latency run fall: reads trace files (call,start_ms,ms) written by
`conta bench latency --trace F` or OrtLatency with ORT_TRACE=F, prints per file p50, p99, the calls slower than
1.15x p50 ("tail"), the median gap between tail calls and how strongly their start times lock to a period
(R = length of the mean phase vector, 1 = every tail call at the same phase, ~0 = spread at random; for comparison
the R of as many calls drawn at random from the same run).

    bench/latency_tail.py [--period 500] TRACE.csv ...
"""
import cmath, csv, math, random, statistics, sys


def refuse(line):
    """Bad input: one line on stderr, exit 2."""
    print(line, file=sys.stderr)
    sys.exit(2)


def columns(path, start="start_ms"):
    """The start (column `start`) and ms of every call of a trace file, or one refusal line naming the file."""
    try:
        with open(path) as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        refuse(f"{path}: cannot read it ({e.strerror or e})")
    except (UnicodeDecodeError, csv.Error):
        refuse(f"{path}: not a text CSV: is it a `conta bench latency --trace` file?")
    if not rows or not {start, "ms"} <= rows[0].keys():
        refuse(f"{path}: no calls with {start} and ms columns: is it a `conta bench latency --trace` file"
               + ("" if start == "start_ms" else " (session 32 or later)") + "?")
    try:
        return [float(r[start]) for r in rows], [float(r["ms"]) for r in rows]
    except (TypeError, ValueError) as e:
        refuse(f"{path}: a call whose {start} or ms is not a number ({e})")


def rank(sorted_ms, q):
    return sorted_ms[max(0, min(len(sorted_ms) - 1, math.ceil(q * len(sorted_ms)) - 1))]


def locking(starts, period):
    if not starts:
        return float("nan")
    return abs(sum(cmath.exp(2j * math.pi * (s % period) / period) for s in starts)) / len(starts)


def main(argv):
    period = 500.0
    if argv[:1] == ["--period"]:
        period, argv = float(argv[1]), argv[2:]
    if not argv:
        refuse("usage: bench/latency_tail.py [--period 500] TRACE.csv ...")
    traces = [(path, *columns(path)) for path in argv]  # every file read before the table starts
    print(f"| trace | calls | p50 ms | p99 ms | p99/p50 | tail calls (>1.15x p50) | median gap ms | R at {period:.0f} ms | R random |")
    print("|---|---|---|---|---|---|---|---|---|")
    rnd = random.Random(1)
    for path, start, ms in traces:
        s = sorted(ms)
        p50, p99 = rank(s, 0.5), rank(s, 0.99)
        tail = [t for t, m in zip(start, ms) if m > 1.15 * p50]
        gaps = [b - a for a, b in zip(tail, tail[1:])]
        gap = statistics.median(gaps) if gaps else float("nan")
        r_rand = statistics.median(locking(rnd.sample(start, len(tail)), period) for _ in range(200)) if tail else float("nan")
        print(f"| {path} | {len(ms)} | {p50:.1f} | {p99:.1f} | {p99 / p50:.2f} | {len(tail)} | {gap:.0f} | "
              f"{locking(tail, period):.2f} | {r_rand:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
