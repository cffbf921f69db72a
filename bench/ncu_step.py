"""Where one training step's GPU time goes, from an ncu kernel trace (bench/gpu-convapi.sh: ncu --metrics
gpu__time_duration.sum --csv over a warm-up step and a timed step). The step is the trace's repeating tail: the
shortest period P >= MIN_PERIOD whose last two P-kernel runs have the same kernel names and which holds some kernel
exactly once (the loss, the stem's pooling: a run of 161 sgd_step kernels repeats too, but is no step). Prints the GPU
busy time of one step and a table by category (cuDNN/cuBLAS convolution and GEMM kernels, cuDNN's layout transposes,
cuDNN batch norm, each of conta's own kernels by name, other library kernels) and optionally the top kernels.
Usage: python3 bench/ncu_step.py TRACE.csv[.gz] [--top N]"""
import collections
import csv
import glob
import gzip
import os
import re
import sys

MIN_PERIOD = 100


def kernels(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        lines = [line for line in f if line.startswith('"')]  # ncu's own ==PROF== lines are not CSV
    rows = [r for r in csv.DictReader(lines) if r["Metric Name"] == "gpu__time_duration.sum"]
    units = {r["Metric Unit"] for r in rows}
    if units - {"ns"}:
        raise SystemExit("expected gpu__time_duration.sum in ns, got %s" % sorted(units))
    return [(r["Kernel Name"], float(r["Metric Value"].replace(",", "")) / 1e3) for r in rows]  # us


def step(rows):
    names = [k for k, _ in rows]
    n = len(names)
    for p in range(MIN_PERIOD, n // 2 + 1):
        if names[n - p:] == names[n - 2 * p:n - p] and 1 in collections.Counter(names[n - p:]).values():
            return rows[n - p:]
    raise SystemExit("no repeating step found in %d kernels (trace two steps or more)" % n)


def conta_kernels():
    """The names of conta's own kernels: every extern "C" __global__ function in kernels/*.cu."""
    names = set()
    for f in glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels", "*.cu")):
        with open(f) as src:
            names.update(re.findall(r'extern\s+"C"\s+__global__\s+void\s+(\w+)', src.read()))
    return names


CONTA = conta_kernels()


def category(name):
    base = name.split("(")[0].strip()
    if base in CONTA:
        return "conta: " + base
    if "nchwToNhwc" in name or "nhwcToNchw" in name:
        return "cuDNN layout transposes"
    if "cudnn::bn_" in name:
        return "cuDNN batch norm"
    if any(s in name.lower() for s in ("xmma", "cutlass", "implicit", "gemm", "conv", "wgrad", "dgrad", "cublas")):
        return "cuDNN/cuBLAS convolution and GEMM kernels"
    return "other library kernels"


def main(argv):
    top = int(argv[argv.index("--top") + 1]) if "--top" in argv else 0
    paths = [a for i, a in enumerate(argv[1:], 1) if a != "--top" and argv[i - 1] != "--top"]
    if len(paths) != 1:
        raise SystemExit(__doc__)
    path = paths[0]
    one = step(kernels(path))
    total = sum(t for _, t in one)
    print("%s: %d kernels a step, GPU busy %.2f ms a step" % (path, len(one), total / 1e3))
    groups = {}
    for name, t in one:
        g = groups.setdefault(category(name), [0, 0.0])
        g[0] += 1
        g[1] += t
    print("| category | kernels | ms | % |")
    print("|---|---|---|---|")
    for c, (k, t) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print("| %s | %d | %.3f | %.1f |" % (c, k, t / 1e3, 100 * t / total))
    if top:
        per = {}
        for name, t in one:
            g = per.setdefault(name[:100], [0, 0.0])
            g[0] += 1
            g[1] += t
        print("\ntop %d kernels:" % top)
        for name, (k, t) in sorted(per.items(), key=lambda kv: -kv[1][1])[:top]:
            print("%8.3f ms %4d  %s" % (t / 1e3, k, name))


if __name__ == "__main__":
    main(sys.argv)
