"""GPU twin of bench/torch_resnet50_cpu.py: torchvision ResNet-50 training step (fwd+bwd+SGD), fp32 eager on cuda:0,
cudnn.benchmark on, TF32 as given (PyTorch's default allows it for cuDNN convs). Prints the line gpu-selftest.sh reads.
Usage: python3 bench/torch_resnet50_gpu.py BATCH SIZE ITERS TF32(0|1)"""
import sys, time
import torch, torchvision

batch, size, iters, tf32 = (int(a) for a in sys.argv[1:5])
torch.backends.cudnn.benchmark = True
torch.backends.cudnn.allow_tf32 = bool(tf32)
torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
torch.manual_seed(0)
dev = torch.device("cuda")
m = torchvision.models.resnet50().to(dev)
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
x = torch.randn(batch, 3, size, size, device=dev)
y = torch.randint(0, 1000, (batch,), device=dev)


def step():
    opt.zero_grad()
    torch.nn.functional.cross_entropy(m(x), y).backward()
    opt.step()


m.train()
for _ in range(3):
    step()
torch.cuda.synchronize()
t0 = time.perf_counter()
for _ in range(iters):
    step()
torch.cuda.synchronize()
ips = batch * iters / (time.perf_counter() - t0)
print("torch %s resnet50 train batch %d size %d on cuda (TF32 %s): %.2f images/s" % (torch.__version__, batch, size, "on" if tf32 else "off", ips))
