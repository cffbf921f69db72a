#!/usr/bin/env python3
"""What else ran while a call was slow: joins a latency trace (call,start_ms,ms,clock_ms from `conta bench latency
--trace`, OrtLatency's ORT_TRACE or stall_floor's FLOOR_TRACE) with a scheduler trace of the whole machine taken at the
same time, and names for every slow call (over p50 + STALL ms) the task that held a core the longest during it: a JIT
compiler thread, another JVM thread, kdamond (the VM's DAMON scan), another process, or "nothing in the guest" (then
the vCPU itself was away, or the engine waited on memory). Works for any engine and for the plan's C loop, where
bench/latency_stalls.py needs the Java loop's per-op profile.

Record both at once (perf on the monotonic clock, the clock of clock_ms):
  perf record -k CLOCK_MONOTONIC -e sched:sched_switch -a -o sched.data -- sleep 25 &
  ./conta bench latency --arch resnet50 --size 224 --impl plan --weights out/latency/resnet50.pth --iters 600 \\
      --trace calls.csv; wait
  perf script -i sched.data -F cpu,time,trace > sched.txt
Usage: bench/latency_join.py sched.txt[.gz] calls.csv [--stall 2.5] [--threads 2] [--held 0.5] [-v]
The engine's threads are the --threads tasks that ran longest during the calls.
"""
import argparse
import bisect
import collections
import gzip
import re
import statistics

from latency_tail import columns, refuse  # the same trace reading and refusals

SWITCH = re.compile(r"\[(\d+)\]\s+([\d.]+):\s+(?:sched:sched_switch:\s+)?prev_comm=(.*?) prev_pid=(\d+) .*?"
                    r"==> next_comm=(.*?) next_pid=(\d+)")
JIT = ("C1 CompilerThre", "C2 CompilerThre")
JVM = ("G1 ", "GC Thread", "VM Thread", "VM Periodic", "Monitor Deflati", "Service Thread", "Common-Cleaner",
       "Reference Handl", "Finalizer", "Notification Th", "JavaCPP Dealloc")


def spans(path):
    """(from_ms, to_ms, cpu, comm, tid) for every stretch a task ran, from the sched_switch lines."""
    try:
        f = gzip.open(path, "rt") if path.endswith(".gz") else open(path)
    except OSError as e:
        refuse(f"{path}: cannot read it ({e.strerror or e})")
    out, running = [], {}
    with f:
        for line in f:
            m = SWITCH.search(line)
            if not m:
                continue
            cpu, t = int(m.group(1)), float(m.group(2)) * 1e3
            if cpu in running:
                comm, tid, since = running[cpu]
                out.append((since, t, cpu, comm, tid))
            running[cpu] = (m.group(5), int(m.group(6)), t)
    if not out:
        refuse(f"{path}: no sched_switch lines: is it `perf script -F cpu,time,trace` of a sched:sched_switch record?")
    out.sort()
    return out


def calls(path):
    """(clock_ms, ms) of every call of the trace."""
    starts, ms = columns(path, "clock_ms")
    return list(zip(starts, ms))


def kind(comm):
    if comm in JIT:
        return "JIT compiler"
    if comm.startswith(JVM):
        return "other JVM thread"
    if comm.startswith("kdamond"):
        return "kdamond"
    return "process " + comm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sched")
    ap.add_argument("calls")
    ap.add_argument("--stall", type=float, default=2.5, help="slow: over p50 + this many ms")
    ap.add_argument("--threads", type=int, default=2, help="the engine's compute threads")
    ap.add_argument("--held", type=float, default=0.5, help="ms another task must run during a call to be named")
    ap.add_argument("-v", action="store_true", help="one line per slow call")
    a = ap.parse_args()
    runs, cs = spans(a.sched), calls(a.calls)
    starts = [s[0] for s in runs]
    if cs[0][0] < runs[0][0] or cs[-1][0] > runs[-1][1]:
        refuse(f"{a.calls}: its calls ({cs[0][0] / 1e3:.1f}-{cs[-1][0] / 1e3:.1f} s) are not inside {a.sched}'s record "
               f"({runs[0][0] / 1e3:.1f}-{runs[-1][1] / 1e3:.1f} s): record both at once, perf with -k CLOCK_MONOTONIC")

    def during(t0, t1):
        """ms each (comm, tid) ran between t0 and t1."""
        ran = collections.Counter()
        i = max(0, bisect.bisect_left(starts, t0 - 1000))
        while i < len(runs) and runs[i][0] < t1:
            f, t, _, comm, tid = runs[i]
            ov = min(t, t1) - max(f, t0)
            if ov > 0 and tid != 0:
                ran[(comm, tid)] += ov
            i += 1
        return ran

    total = collections.Counter()
    for t0, ms in cs:
        total.update(during(t0, t0 + ms))
    engine = {k for k, _ in total.most_common(a.threads)}
    p50 = statistics.median(ms for _, ms in cs)
    holders = collections.Counter()
    slow = [(i, t0, ms) for i, (t0, ms) in enumerate(cs) if ms > p50 + a.stall]
    print(f"{a.calls}: {len(cs)} calls, p50 {p50:.2f} ms, {len(slow)} over p50 + {a.stall} ms; engine threads "
          + ", ".join(f"{c} {t}" for c, t in sorted(engine)))
    for i, t0, ms in slow:
        others = collections.Counter()
        for (comm, tid), v in during(t0, t0 + ms).items():
            if (comm, tid) not in engine:
                others[comm] += v
        top = others.most_common(1)
        holder = kind(top[0][0]) if top and top[0][1] >= a.held else "nothing in the guest"
        holders[holder] += 1
        if a.v:
            print(f"  call {i:4d}  +{ms - p50:5.2f} ms  {holder:24s} " + ", ".join(f"{c} {v:.2f}" for c, v in others.most_common(3)))
    norm = [(t0, ms) for t0, ms in cs if ms <= p50 + 1]
    base = collections.Counter()
    for t0, ms in norm:
        for (comm, tid), v in during(t0, t0 + ms).items():
            if (comm, tid) not in engine:
                base[kind(comm)] += v
    print("| held by | slow calls |\n|---|---|")
    for h, n in holders.most_common():
        print(f"| {h} | {n} |")
    if norm:
        print("other tasks in a call within p50 + 1 ms, ms per call: "
              + ", ".join(f"{k} {v / len(norm):.3f}" for k, v in base.most_common(5)))


if __name__ == "__main__":
    main()
