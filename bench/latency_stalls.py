#!/usr/bin/env python3
"""Who held the core while an inference-plan op stalled: joins a per-call per-op profile with a scheduler trace taken
at the same time, and names, for every one-op stall (an op >= STALL ms over its median), the guest task that ran
during it (kdamond, another process) or "nothing in the guest": then the vCPU itself was away (the host ran something
else; this VM reports no steal time).

Record both at once (perf with the monotonic clock, the clock System.nanoTime reads):
  CONTA_JAVA_OPTS="-Dconta.plan.profile=true -Dconta.plan.profile.calls=ops.csv" ./conta bench latency --arch resnet50 \
      --size 224 --impl plan --weights out/latency/resnet50.pth --iters 400 --warmup 20 &
  sleep 3; perf record -k CLOCK_MONOTONIC -e sched:sched_switch -a -o sched.data -- sleep 8; wait
  perf script -i sched.data -F time,cpu,event,trace > sched.txt
Usage: bench/latency_stalls.py sched.txt[.gz] ops.csv[.gz] [--stall 2.5] [--skip 20] [-v]
"""
import argparse
import collections
import gzip
import re

from latency_ops import excess, load, refuse  # the same profile reading and stall rule


def opener(path):
    try:
        return gzip.open(path, "rt") if path.endswith(".gz") else open(path)
    except OSError as e:
        refuse(f"{path}: cannot read it ({e.strerror or e})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sched")
    ap.add_argument("ops")
    ap.add_argument("--stall", type=float, default=2.5)
    ap.add_argument("--skip", type=int, default=20)
    ap.add_argument("-v", action="store_true", help="one line per stall")
    a = ap.parse_args()
    switch = re.compile(r"\s*\[(\d+)\]\s+([\d.]+):\s+(?:sched:sched_switch:\s+)?prev_comm=(.*?) prev_pid=\d+ .*?"
                        r"==> next_comm=(.*?) next_pid=\d+")
    running, spans = {}, collections.defaultdict(list)  # cpu -> (comm, since); comm -> [(from, to)] in ms
    first = last = None
    with opener(a.sched) as f:
        for line in f:
            m = switch.match(line)
            if not m:
                continue
            cpu, t, nxt = int(m.group(1)), float(m.group(2)) * 1e3, m.group(4)
            first = t if first is None else first
            last = t
            if cpu in running:
                spans[running[cpu][0]].append((running[cpu][1], t))
            running[cpu] = (nxt, t)
    names, calls, med = load(a.ops, a.skip)
    ours = ("java", "swapper", "C1 ", "C2 ", "G1", "GC")  # the JVM's own threads and the idle task
    who = collections.Counter()
    for c in calls:
        if not first < c[0] < last:
            continue
        ex, k = excess(c, med)
        if ex[k] < a.stall:
            continue
        s = c[0] + sum(c[1:k + 1])
        e = s + c[k + 1]
        held = collections.Counter()
        for comm, ss in spans.items():
            if not comm.startswith(ours):
                held[comm] += sum(max(0.0, min(to, e) - max(fr, s)) for fr, to in ss)
        top = held.most_common(1)
        name = top[0][0] if top and top[0][1] >= 0.5 * ex[k] else "nothing in the guest (the vCPU was away)"
        who[name] += 1
        if a.v:
            print(f"  +{ex[k]:.2f} ms in {names[k][:50]}: {name} ({top[0][1]:.2f} ms)" if top else f"  +{ex[k]:.2f} ms: {name}")
    print(f"stalls (one op >= +{a.stall} ms) inside the trace: {sum(who.values())}; held by: {dict(who.most_common())}")


if __name__ == "__main__":
    main()
