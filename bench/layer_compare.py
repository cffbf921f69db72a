#!/usr/bin/env python3
"""Convolution by convolution: conta's inference plan (oneDNN) beside ONNX Runtime (MLAS) on the same network.
It reads oneDNN's verbose log, so it sees only the convolutions oneDNN runs: with the plan's own kernels (Winograd,
the small-map GEMM) on, use bench/plan_vs_ort.py, which reads the plan's per-op profile instead.

  ORT_PROFILE=/tmp/ortprof java ... conta.bench.OrtLatency out/latency/resnet50-224.onnx resnet50 224 40 10 2
  ONEDNN_VERBOSE=1 ./conta bench latency --arch resnet50 --size 224 --weights out/latency/resnet50.pth \\
      --iters 40 --warmup 10 > /tmp/dnnl.log 2>&1
  bench/layer_compare.py /tmp/ortprof_*.json /tmp/dnnl.log SKIP

Both lists are the convolutions in execution order (ORT's fused Conv nodes, oneDNN's convolution execs); each row
is the median over the calls after the first SKIP (warm-up) of the plan, ORT's mean over its profiled calls. The
two orders differ where a block's shortcut convolution runs first in one and later in the other; the totals do not
depend on the pairing. MACs per convolution come from oneDNN's shape string."""
import collections
import json
import re
import statistics
import sys

prof, log, skip = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10
ort, order, runs = collections.Counter(), [], collections.Counter()
for e in json.load(open(prof)):
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["args"].get("op_name") == "Conv":
        if e["name"] not in ort:
            order.append(e["name"])
        ort[e["name"]] += e["dur"] / 1000.0
        runs[e["name"]] += 1
execs = [l for l in open(log) if ",primitive,exec," in l and ",convolution," in l]
n = len(order)
if n == 0 or len(execs) % n:
    sys.exit("%d oneDNN convolution execs are not a multiple of ORT's %d Conv nodes" % (len(execs), n))


def macs(shape):
    d = dict((k, int(v)) for k, v in re.findall(r"([a-z]+)(\d+)", shape))
    return d["mb"] * d["ic"] * d["oc"] * d["oh"] * d["ow"] * d["kh"] * d["kw"] / d.get("g", 1)


print("| # | convolution (oneDNN shape) | oneDNN kernel | conta ms | ORT ms | conta / ORT |")
print("|---|---|---|---|---|---|")
tc = to = tm = 0.0
for k in range(n):
    f = execs[k].rstrip().split(",")
    times = [float(l.rstrip().split(",")[-1]) for l in execs[k::n]][skip:]
    c, o = statistics.median(times), ort[order[k]] / runs[order[k]]
    tc, to, tm = tc + c, to + o, tm + macs(f[-2])
    print("| %d | %s | %s | %.3f | %.3f | %.2f |" % (k, f[-2], f[6], c, o, c / o))
print("| | all %d convolutions, %.2f GMAC | | %.2f | %.2f | %.2f |" % (n, tm / 1e9, tc, to, tc / to))
print("\nconta %.0f GMAC/s, ONNX Runtime %.0f GMAC/s (convolutions only)" % (tm / tc / 1e6, tm / to / 1e6))
