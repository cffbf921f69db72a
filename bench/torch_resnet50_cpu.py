"""PyTorch CPU twin of `conta bench`: ResNet-50 training step (fwd+bwd+SGD) and inference, images/s.
Run by bench/resnet50_cpu.sh with Debian's torch (/usr/bin/python3); same batch, size and thread count as conta."""
import sys, time
import torch, torchvision

batch, size, iters, threads = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)
m = torchvision.models.resnet50()
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
x = torch.randn(batch, 3, size, size)
y = torch.randint(0, 1000, (batch,))


def timed(fn):
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return batch * iters / (time.perf_counter() - t0)


def train_step():
    opt.zero_grad()
    torch.nn.functional.cross_entropy(m(x), y).backward()
    opt.step()


m.train()
tr = timed(train_step)
m.eval()
with torch.no_grad():
    inf = timed(lambda: m(x))
print("torch %s resnet50 train batch %d size %d: %.2f images/s" % (torch.__version__, batch, size, tr))
print("torch %s resnet50 infer batch %d size %d: %.2f images/s" % (torch.__version__, batch, size, inf))
