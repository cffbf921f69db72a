#!/usr/bin/env python3
"""Convolutions by shape: conta's inference plan beside ONNX Runtime on the same network, conta's own kernels
(Winograd, the small-map GEMM) included, which bench/layer_compare.py (oneDNN's verbose log) cannot see.

  CP="target/classes:target/test-classes:$(cat out/latency/cp.txt)"     (bench/latency.sh writes cp.txt)
  ORT_PROFILE=/tmp/ortprof OMP_NUM_THREADS=2 $JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED \\
      --add-modules jdk.incubator.vector -cp "$CP" conta.bench.OrtLatency out/latency/resnet50-os16-448.onnx \\
      resnet50-os16 448 30 5 2 1                            # writes /tmp/ortprof_<date>.json
  CONTA_JAVA_OPTS=-Dconta.plan.profile=true ./conta bench latency --arch resnet50-os16 --size 448 --impl plan \\
      --weights out/latency/resnet50-os16.pth --iters 30 --warmup 5 2> /tmp/plan.txt
  bench/plan_vs_ort.py /tmp/ortprof_<date>.json /tmp/plan.txt

Each row sums the convolutions of one shape (output channels x input channels, kernel, output map, residual sum or
not): the plan's per-op mean ms (its profile, the calls after warm-up) against ORT's per-node median ms. Dilation and
stride are not in the key (ORT's profile gives shapes only), so DeepLab's ASPP branches share a row. ORT pads
21-channel layers to 32 (its NCHWc blocks), so those rows do not pair up; the totals do. Rows are sorted by how much
slower the plan is. Session 30 (bench/RESULTS-latency.md) read these tables to find the Winograd blocks.
"""
import collections
import json
import re
import statistics
import sys

from latency_ops import refuse  # the same one-line refusal, exit 2


def ort_convs(path):
    """ORT's Conv nodes: shape key -> (summed median ms, count)."""
    try:
        with open(path) as f:
            events = json.load(f)
    except OSError as e:
        refuse(f"{path}: cannot read it ({e.strerror or e})")
    except (UnicodeDecodeError, ValueError):
        refuse(f"{path}: not JSON: is it the file ORT_PROFILE=... conta.bench.OrtLatency wrote?")
    if not isinstance(events, list):
        refuse(f"{path}: not a list of events: is it an ONNX Runtime profile?")
    durations, keys = collections.defaultdict(list), {}
    for e in events:
        if not isinstance(e, dict) or e.get("cat") != "Node" or not str(e.get("name", "")).endswith("_kernel_time"):
            continue
        args = e.get("args", {})
        if args.get("op_name") != "Conv":
            continue
        try:
            ins = [list(x.values())[0] for x in args["input_type_shape"]]
            out = list(args["output_type_shape"][0].values())[0]
            w = ins[1]
            keys[e["name"]] = (w[0], w[1], w[2], w[3], out[2], out[3], len(ins) > 3)  # a 4th input: the fused sum
            durations[e["name"]].append(e["dur"] / 1000.0)
        except (KeyError, IndexError, TypeError, AttributeError):
            refuse(f"{path}: a Conv event without input/output shapes: profile from an ONNX Runtime older than 1.10?")
    if not durations:
        refuse(f"{path}: no Conv node events: was it written with ORT_PROFILE set, on a convolutional network?")
    sums, counts = collections.defaultdict(float), collections.Counter()
    for name, ds in durations.items():
        sums[keys[name]] += statistics.median(ds)
        counts[keys[name]] += 1
    return sums, counts


LINE = re.compile(r"\d+ conv (\d+)x(\d+)x(\d+)x(\d+) s\d+ d\d+ (.*)-> \[1, \d+, (\d+), (\d+)\] (\S+) ([\d.]+) ms")


def plan_convs(path):
    """The plan's conv ops: shape key -> (summed ms, count), and each key's kernel (oneDNN's or conta's)."""
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        refuse(f"{path}: cannot read it ({e.strerror or e})")
    sums, counts, impl = collections.defaultdict(float), collections.Counter(), {}
    for line in lines:
        m = LINE.match(line.strip())
        if not m:
            continue
        co, ci, kh, kw, flags, oh, ow, kernel, ms = m.groups()
        key = (int(co), int(ci), int(kh), int(kw), int(oh), int(ow), "+sum" in flags)
        sums[key] += float(ms)
        counts[key] += 1
        impl[key] = kernel.split(":")[0] + (":" + kernel.split(":")[1] if kernel.startswith("conta:") else "")
    if not sums:
        refuse(f"{path}: no per-op conv lines: run conta bench latency with CONTA_JAVA_OPTS=-Dconta.plan.profile=true "
               "and keep its stderr")
    return sums, counts, impl


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        refuse("usage: bench/plan_vs_ort.py ORT_PROFILE.json PLAN_PROFILE.txt (see the header for the commands)")
    osum, ocount = ort_convs(argv[1])
    psum, pcount, impl = plan_convs(argv[2])
    keys = sorted(set(osum) | set(psum), key=lambda k: -(psum.get(k, 0.0) - osum.get(k, 0.0)))
    print("| convolution (cout x cin, kernel, output map) | plan / ORT ops | plan ms | ORT ms | plan - ORT | plan's kernel |")
    print("|---|---|---|---|---|---|")
    for k in keys:
        p, o = psum.get(k, 0.0), osum.get(k, 0.0)
        print(f"| {k[0]}x{k[1]} {k[2]}x{k[3]} @{k[4]}x{k[5]}{' +sum' if k[6] else ''} | {pcount[k]} / {ocount[k]} "
              f"| {p:.2f} | {o:.2f} | {p - o:+.2f} | {impl.get(k, '')} |")
    tp, to = sum(psum.values()), sum(osum.values())
    print(f"| all convolutions | {sum(pcount.values())} / {sum(ocount.values())} | {tp:.1f} | {to:.1f} | {tp - to:+.1f} | |")


if __name__ == "__main__":
    main(sys.argv)
