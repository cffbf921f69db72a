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

# Which kernels PyTorch's step runs (TORCH_PROFILE=1, after the line above so that a failure here cannot lose it):
# three steps under torch.profiler, the CUDA kernels by total time, to set beside conta's cuDNN algorithms
# (bench.log's "algorithm:" lines) and its --profile tables.
import os
if os.environ.get("TORCH_PROFILE") == "1":
    try:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(3):
                step()
            torch.cuda.synchronize()
        print("torch kernels over 3 steps (TF32 %s):" % ("on" if tf32 else "off"))
        table = None
        for key in ("device_time_total", "cuda_time_total"):  # the newer name first
            try:
                table = prof.key_averages().table(sort_by=key, row_limit=25, max_name_column_width=90)
                break
            except Exception:
                continue
        print(table if table is not None else "torch profile: no sort key worked")
    except Exception as e:  # the profile is extra information: say why it is missing and go on
        print("torch profile failed: %r" % (e,))
