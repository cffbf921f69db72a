"""Where PyTorch's CPU ResNet-50 training step spends its time: the share of convolution ops (forward + backward) in
one profiled step. If convolutions alone take more than half of PyTorch's step, an engine that runs the same oneDNN
convolutions cannot be 2x faster in fp32 whatever it does elsewhere.
Usage: /usr/bin/python3 bench/torch_resnet50_profile.py [batch=8] [size=224] [threads=nproc]"""
import os, sys, time
import torch, torchvision
from torch.profiler import profile, ProfilerActivity

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 8
size = int(sys.argv[2]) if len(sys.argv) > 2 else 224
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count())
torch.manual_seed(0)
m = torchvision.models.resnet50().train()
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
x, y = torch.randn(batch, 3, size, size), torch.randint(0, 1000, (batch,))


def step():
    opt.zero_grad()
    torch.nn.functional.cross_entropy(m(x), y).backward()
    opt.step()


step()
t0 = time.perf_counter()
with profile(activities=[ProfilerActivity.CPU]) as prof:
    step()
wall = time.perf_counter() - t0
ev = prof.key_averages()
conv_names = ("aten::mkldnn_convolution", "aten::mkldnn_convolution_backward", "aten::convolution_backward",
              "aten::_convolution", "aten::convolution")
# self time of the kernels that do the work (the wrappers have little self time)
conv = sum(e.self_cpu_time_total for e in ev if "conv" in e.key) / 1e6
total = sum(e.self_cpu_time_total for e in ev) / 1e6
print("torch %s resnet50 train step batch %d size %d: wall %.2f s (profiled), op self time %.2f s, "
      "convolution ops %.2f s = %.0f%% of op time" % (torch.__version__, batch, size, wall, total, conv, 100 * conv / total))
for e in sorted(ev, key=lambda e: -e.self_cpu_time_total)[:8]:
    print("  %-45s %7.3f s" % (e.key, e.self_cpu_time_total / 1e6))
