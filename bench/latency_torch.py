#!/usr/bin/env python3
"""Batch-1 latency helpers for bench/latency.sh (PyTorch 1.13 CPU, test-data/twin.py models).

  export ARCH SIZE DIR   seeded random weights (torch.manual_seed(0), BN running stats drawn too) saved as
                         DIR/ARCH.pth for conta (--weights) and exported with torch.onnx to DIR/ARCH-SIZE.onnx for
                         ONNX Runtime, so all three engines run the same numbers.
  time ARCH SIZE DIR [iters] [warmup] [threads]
                         PyTorch eager (torch.inference_mode) on those weights and the same image as conta's bench;
                         prints the LATENCY line format of conta.cli.LatencyStats.
"""
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test-data"))
import twin  # noqa: E402

CLASSES = {"resnet50": 1000, "resnet50-os16": 20, "deeplabv2-resnet101": 21}


def build(arch):
    if arch.startswith("deeplab"):
        return twin.build(arch, classes=CLASSES[arch])
    return twin.build(arch, classes=CLASSES[arch])


def image(size):
    """A seeded normal image. conta and ONNX Runtime use java.util.SplittableRandom(1) Gaussians, which numpy cannot
    reproduce; the values do not change the work done (dense convolutions), so latencies stay comparable."""
    g = torch.Generator().manual_seed(1)
    return torch.randn(1, 3, size, size, generator=g)


def export(arch, size, out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    m = build(arch).eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d) or hasattr(mod, "running_var"):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    pth = os.path.join(out, arch + ".pth")
    if not os.path.exists(pth):
        torch.save(m.state_dict(), pth)
    else:
        m.load_state_dict(torch.load(pth))
    onnx = os.path.join(out, "%s-%d.onnx" % (arch, size))
    torch.onnx.export(m, image(size), onnx, opset_version=13, input_names=["x"], output_names=["y"],
                      do_constant_folding=True)
    print("wrote", pth, onnx)


def rank(s, q):
    return s[max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))]


def time_it(arch, size, out, iters=50, warmup=10, threads=2):
    torch.set_num_threads(threads)
    m = build(arch).eval()
    m.load_state_dict(torch.load(os.path.join(out, arch + ".pth")))
    x = image(size)
    ms = []
    with torch.inference_mode():
        for it in range(warmup + iters):
            t0 = time.perf_counter()
            m(x)
            if it >= warmup:
                ms.append((time.perf_counter() - t0) * 1e3)
    s = sorted(ms)
    print("LATENCY torch-eager %s %d p50 %.1f p90 %.1f p99 %.1f min %.1f mean %.1f n %d"
          % (arch, size, rank(s, .5), rank(s, .9), rank(s, .99), s[0], float(np.mean(s)), len(s)))
    if rank(s, .5) > 2 * s[0]:  # PyTorch's OpenMP threads collapse when the cores are shared (README, bench/RESULTS.md)
        print("torch-eager %s @%d: p50 %.1f ms is over twice its min %.1f ms: PyTorch's OpenMP threads stalled (other processes on the "
              "cores, or calls too short for its thread pool); compare its min, or rerun on a quiet machine" % (arch, size, rank(s, .5), s[0]),
              file=sys.stderr)


if __name__ == "__main__":
    cmd, arch, size, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if cmd == "export":
        export(arch, size, out)
    else:
        rest = [int(v) for v in sys.argv[5:]]
        time_it(arch, size, out, *rest)
