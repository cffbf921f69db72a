"""PyTorch CPU twin of `conta bench`: ResNet-50 training step (fwd+bwd+SGD) and inference, images/s.
Run by bench/resnet50_cpu.sh with Debian's torch (/usr/bin/python3); same batch, size and thread count as conta.
Optional 5th argument: fp32 (default) or bf16 (forward under torch.autocast("cpu", torch.bfloat16), as PyTorch's
mixed precision on CPUs; weights and the SGD update stay fp32); optional 6th: untimed warm-up calls (default 1)."""
import contextlib
import sys, time
import torch, torchvision

batch, size, iters, threads = (int(a) for a in sys.argv[1:5])
prec = sys.argv[5] if len(sys.argv) > 5 else "fp32"
warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 1
cast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if prec == "bf16" else contextlib.nullcontext
torch.set_num_threads(threads)
torch.manual_seed(0)
m = torchvision.models.resnet50()
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
x = torch.randn(batch, 3, size, size)
y = torch.randint(0, 1000, (batch,))


def timed(fn):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return batch * iters / (time.perf_counter() - t0)


def train_step():
    opt.zero_grad()
    with cast():
        loss = torch.nn.functional.cross_entropy(m(x), y)
    loss.backward()
    opt.step()


m.train()
tr = timed(train_step)
m.eval()
with torch.no_grad(), cast():
    inf = timed(lambda: m(x))
tag = "" if prec == "fp32" else " (bf16 autocast)"
print("torch %s resnet50 train batch %d size %d%s: %.2f images/s" % (torch.__version__, batch, size, tag, tr))
print("torch %s resnet50 infer batch %d size %d%s: %.2f images/s" % (torch.__version__, batch, size, tag, inf))
