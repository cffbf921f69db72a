"""Writes conv / batch-norm / GEMM cases computed by PyTorch on the GPU to DIR/*.npz for conta.tensor.cuda.TorchCompare.
Cases without TF32 use allow_tf32=False (cuDNN FMA math, as conta's TF32-off mode); *_tf32 cases allow TF32.
Usage: python3 bench/torch_gpu_compare.py DIR"""
import os, sys
import numpy as np
import torch
import torch.nn.functional as F

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
dev = torch.device("cuda")
g = torch.Generator().manual_seed(0)


def rnd(*shape):
    return torch.randn(*shape, generator=g)


def save(name, **arrays):
    np.savez(os.path.join(out, name + ".npz"), **{k: v.detach().cpu().float().numpy() for k, v in arrays.items()})


for tf32 in (False, True):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    sfx = "_tf32" if tf32 else ""
    # ResNet-50 / DeepLab shapes, batch 8: stem 7x7/2, 3x3, 1x1, strided 1x1, dilated 3x3 (ASPP rate 12)
    for i, (n, cin, cout, hw, k, s, p, d) in enumerate([(8, 3, 64, 224, 7, 2, 3, 1), (8, 64, 64, 56, 3, 1, 1, 1),
                                                        (8, 256, 64, 56, 1, 1, 0, 1), (8, 512, 1024, 28, 1, 2, 0, 1),
                                                        (4, 256, 64, 33, 3, 1, 12, 12)]):
        x = rnd(n, cin, hw, hw).to(dev).requires_grad_()
        w = (rnd(cout, cin, k, k) * (2.0 / (cin * k * k)) ** 0.5).to(dev).requires_grad_()
        b = rnd(cout).to(dev).requires_grad_()
        y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d)
        dy = torch.randn(y.shape, generator=g).to(dev)
        y.backward(dy)
        save(f"conv{i}_k{k}s{s}p{p}d{d}{sfx}", x=x, w=w, b=b, dy=dy, y=y, dx=x.grad, dw=w.grad, db=b.grad,
             geom=torch.tensor([k, s, p, d], dtype=torch.float32))
    for i, (n, c, hw) in enumerate([(8, 64, 56), (8, 2048, 7)]):
        x = (rnd(n, c, hw, hw) * 2 + 1).to(dev).requires_grad_()
        gamma = rnd(c).to(dev).requires_grad_()
        beta = rnd(c).to(dev).requires_grad_()
        rm, rv = torch.zeros(c, device=dev), torch.ones(c, device=dev)
        y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5)
        dy = torch.randn(y.shape, generator=g).to(dev)
        y.backward(dy)
        save(f"bn{i}_{c}x{hw}{sfx}", x=x, gamma=gamma, beta=beta, dy=dy, y=y, rm=rm, rv=rv, dx=x.grad, dgamma=gamma.grad,
             dbeta=beta.grad)
    for ta in (0, 1):
        for tb in (0, 1):
            m, n, k = 256, 1000, 2048
            a = rnd(k, m) if ta else rnd(m, k)
            b = rnd(n, k) if tb else rnd(k, n)
            c = (a.to(dev).T if ta else a.to(dev)) @ (b.to(dev).T if tb else b.to(dev))
            save(f"gemm_t{ta}{tb}{sfx}", a=a, b=b, c=c, flags=torch.tensor([ta, tb], dtype=torch.float32))
print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version(), "on", torch.cuda.get_device_name(0), "->", out)
