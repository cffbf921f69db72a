#!/usr/bin/python3
"""Generate conta's PyTorch reference fixtures.

    /usr/bin/python3 test-data/make_fixtures.py

Writes test-data/fixtures/<case>/... and test-data/fixtures/manifest.json.
Deterministic: a rerun rewrites byte-identical .npy files (and, with torch
1.13, byte-identical .pth files and manifest).

Full-size "formula" fixtures (resnet50_formula, resnet101_formula)
-------------------------------------------------------------------
Weights are not stored; Java recomputes them from this formula.

  splitmix64(x):  z = (x + 0x9E3779B97F4A7C15)               mod 2^64
                  z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) mod 2^64
                  z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) mod 2^64
                  return z ^ (z >> 31)
  u(k, i) = (splitmix64(k * 2^32 + i) >> 40) / 2^24          (in [0, 1))

  k = index of the tensor in torchvision resnet{50,101}().state_dict() order,
      skipping (and not counting) the *.num_batches_tracked buffers;
  i = flat C-order element index inside that tensor.
  conv / fc weight : (2u - 1) * sqrt(3 / fan_in), fan_in = in_ch * kh * kw
                     (fc: in_features = 2048)
  fc bias          : 0.1 * (2u - 1)
  BN weight        : 0.5 + 0.5u
  BN bias          : 0.2 * (2u - 1)
  BN running_mean  : 0.2 * (2u - 1)
  BN running_var   : 0.5 + u
  (num_batches_tracked stays 0; it does not matter in eval.)
  Input 1x3x64x64  : 2u - 1 with k = 1000.
  Everything is computed in float64 and then cast to float32 (round to
  nearest).  The formula is exactly as specified in the brief; nothing was
  adjusted (logit std is checked to lie in [0.01, 100]).
"""
import hashlib
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import twin  # noqa: E402

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

OUT = os.path.join(HERE, "fixtures")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def save_npy(path, arr):
    arr = np.ascontiguousarray(np.asarray(arr, dtype=np.float32))
    np.save(path, arr)


def to_np(t):
    return t.detach().cpu().numpy().astype(np.float32)


def randomize_bn(model, gen):
    """Non-trivial BN affine params and running stats, so BN is really tested."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))
                m.bias.copy_(0.4 * torch.rand(c, generator=gen) - 0.2)
                m.running_mean.copy_(0.4 * torch.rand(c, generator=gen) - 0.2)
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))


def clone_sd(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def final_output(out):
    """train-mode DeepLab returns a list; its 'train_out' is the max (last)."""
    return out[-1] if isinstance(out, list) else out


def loss_fn(name, out, labels, deeplab):
    if deeplab:
        assert name == "ce"
        total = 0.0
        for o in out:  # [logits, scale-0.5, scale-0.75, max]
            lab = F.interpolate(labels[:, None].float(), size=o.shape[2:], mode="nearest")
            total = total + F.cross_entropy(o, lab[:, 0].long(), ignore_index=255)
        return total
    if name == "ce":
        return F.cross_entropy(out, labels.long(), ignore_index=255)
    if name == "multilabel-soft-margin":
        return F.multilabel_soft_margin_loss(out, labels)
    if name == "bce":
        return F.binary_cross_entropy_with_logits(out, labels)
    raise ValueError(name)


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------
# NOTE: the brief asked for width 8 everywhere; at w0=8 the bottleneck cases
# hold ~140-180K parameters each, and init + step1 + step3 (+ grads) came to
# 12 MB, over the 6 MB budget. The bottleneck-based cases therefore use w0=4
# (and are named *_w4); the basic-block cases keep w0=8.
CASES = [
    dict(name="resnet18_w8", arch="resnet18", seed=1001,
         cfg=dict(width=8, blocks=(1, 1, 1, 1), classes=10), input=(2, 3, 64, 64),
         loss="ce", lr=0.1, momentum=0.9, wd=1e-4),
    dict(name="resnet50_w4", arch="resnet50", seed=1002,
         cfg=dict(width=4, blocks=(1, 2, 1, 1), classes=6), input=(2, 3, 64, 64),
         loss="multilabel-soft-margin", lr=0.05, momentum=0.9, wd=5e-4),
    dict(name="resnet50os16_w4", arch="resnet50-os16", seed=1003,
         cfg=dict(width=4, blocks=(1, 1, 2, 1), classes=5), input=(2, 3, 64, 64),
         loss="bce", lr=0.1, momentum=0.9, wd=1e-4),
    dict(name="resnet50caffe_w4", arch="resnet50-caffe", seed=1004,
         cfg=dict(width=4, blocks=(1, 1, 1, 1), classes=7), input=(2, 3, 64, 64),
         loss="multilabel-soft-margin", lr=0.02, momentum=0.9, wd=0.0),
    dict(name="deeplab_w4", arch="deeplabv2-resnet101", seed=1005,
         cfg=dict(width=4, blocks=(1, 1, 1, 1), classes=5), input=(2, 3, 32, 32),
         loss="ce", lr=0.01, momentum=0.9, wd=5e-4),
    # forward only, larger input: at 32x32 the scale-1 logits are 5x5, so every
    # ASPP tap except the centre falls into the zero padding (rates 6..24). At
    # 160x160 the logits are 21x21 and rates 6, 12, 18 reach real pixels.
    dict(name="deeplab_w4_160", arch="deeplabv2-resnet101", seed=1007,
         cfg=dict(width=4, blocks=(1, 1, 1, 1), classes=5), input=(1, 3, 160, 160), loss=None),
    dict(name="resnet18_os8_dil", arch="resnet18", seed=1006,
         cfg=dict(width=8, blocks=(1, 1, 1, 1), classes=4, strides=(1, 2, 1, 1),
                  dilations=(1, 1, 2, 4)), input=(2, 3, 64, 64), loss=None),
]


def cli_args(cfg):
    a = ["--width", str(cfg["width"]), "--blocks", ",".join(map(str, cfg["blocks"])),
         "--classes", str(cfg["classes"])]
    if "strides" in cfg and tuple(cfg["strides"]) != (1, 2, 2, 2):
        a += ["--strides", ",".join(map(str, cfg["strides"]))]
    if "dilations" in cfg and tuple(cfg["dilations"]) != (1, 1, 1, 1):
        a += ["--dilations", ",".join(map(str, cfg["dilations"]))]
    return a


def resolved_config(model, arch):
    c = dict(model.cfg)
    for k, v in c.items():
        if isinstance(v, tuple):
            c[k] = list(v)
    if arch in twin.DEEPLAB_NAMED:
        c.update(stem="7x7/2 pad 3 conv (no bias) + frozen BN eps 1e-5 + ReLU + maxpool 3/2 pad 1 ceil_mode",
                 strides=[1, 2, 1, 1], dilations=[1, 1, 2, 4], stride_on_1x1=True,
                 conv_bias=False, bn_eps=1e-5, frozen_bn=True, ceil_mode=True,
                 head="aspp-sum", msc="eval: max(logits, up(out0.5), up(out0.75)); "
                 "train: [logits, out0.5, out0.75, max]")
    return c


def make_labels(case, gen, out_eval):
    n = case["input"][0]
    if case["arch"] in twin.DEEPLAB_NAMED:
        h, w = out_eval.shape[2:]
        lab = torch.randint(0, case["cfg"]["classes"], (n, h, w), generator=gen)
        ign = torch.rand(n, h, w, generator=gen) < 0.2
        lab[ign] = 255
        # keep a valid pixel at every position that survives nearest resizing
        lab[:, 0, 0] = torch.tensor([1, 3])[:n]
        return {"labels_ce.npy": lab.float()}
    c = case["cfg"]["classes"]
    ml = (torch.rand(n, c, generator=gen) < 0.4).float()
    ml[torch.arange(n), torch.randint(0, c, (n,), generator=gen)] = 1.0
    ce = torch.randint(0, c, (n,), generator=gen).float()
    return {"labels_ml.npy": ml, "labels_ce.npy": ce}


def build_case(case, init_sd=None):
    m = twin.build(case["arch"], **case["cfg"])
    if init_sd is not None:
        m.load_state_dict(init_sd, strict=True)
    return m


def build64(case, init_sd):
    # Reference values are computed in float64 from the float32 initial weights and input, then cast to float32:
    # with train-mode BN on tiny feature maps a float32 reference differs from the exact result by ~1e-4 itself.
    return build_case(case, init_sd).double()


def sd32(sd):
    return {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}


def run_case(case, manifest_cases):
    name = case["name"]
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    deeplab = case["arch"] in twin.DEEPLAB_NAMED

    torch.manual_seed(case["seed"])
    model = build_case(case)
    gen = torch.Generator().manual_seed(case["seed"] + 7)
    randomize_bn(model, gen)
    init = clone_sd(model)
    torch.save(init, os.path.join(d, "init.pth"))

    x = torch.randn(*case["input"], generator=gen)
    save_npy(os.path.join(d, "input.npy"), x)

    x64 = x.double()
    m = build64(case, init)
    m.eval()
    with torch.no_grad():
        eval_out = m(x64)
    save_npy(os.path.join(d, "eval_out.npy"), eval_out)

    m = build64(case, init)
    m.train()
    with torch.no_grad():
        tout = m(x64)
    save_npy(os.path.join(d, "train_out.npy"), final_output(tout))
    entry = dict(name=name, arch=case["arch"], args=cli_args(case["cfg"]),
                 config=resolved_config(m, case["arch"]),
                 input="input.npy", input_shape=list(x.shape),
                 weights="init.pth", eval_out="eval_out.npy",
                 eval_out_shape=list(eval_out.shape), train_out="train_out.npy",
                 train_out_shape=list(final_output(tout).shape))
    if deeplab:
        names = []
        for i, o in enumerate(tout):
            fn = "train_out_%d.npy" % i
            save_npy(os.path.join(d, fn), o)
            names.append(fn)
        entry["train_outs"] = names
        entry["train_outs_shapes"] = [list(o.shape) for o in tout]
        entry["train_outs_meaning"] = ["logits (scale 1)", "scale 0.5 (not resized)",
                                       "scale 0.75 (not resized)", "elementwise max"]
        assert torch.equal(tout[-1], eval_out), "frozen BN: train max == eval"

    # sanity: init.pth from disk reproduces eval_out
    torch.manual_seed(999)
    chk = build_case(case)
    chk.load_state_dict(torch.load(os.path.join(d, "init.pth")), strict=True)
    chk = chk.double()
    chk.eval()
    with torch.no_grad():
        assert torch.equal(chk(x64), eval_out), name + ": init.pth does not reproduce eval_out"

    steps = []
    if case["loss"] is not None:
        labels = make_labels(case, gen, eval_out)
        for fn, t in labels.items():
            save_npy(os.path.join(d, fn), t)
        lab_file = "labels_ml.npy" if case["loss"] in ("bce", "multilabel-soft-margin") \
            else "labels_ce.npy"
        lab = labels[lab_file]
        if lab_file == "labels_ml.npy":
            lab = lab.double()
        # gradients of the first step (at init, train mode) for debugging backward
        m = build64(case, init)
        m.train()
        loss = loss_fn(case["loss"], m(x64), lab, deeplab)
        loss.backward()
        torch.save({k: p.grad.detach().float().clone() for k, p in m.named_parameters()},
                   os.path.join(d, "grad0.pth"))
        entry["grads_at_init"] = "grad0.pth"
        for K in (1, 3):
            m = build64(case, init)
            m.train()
            opt = torch.optim.SGD(m.parameters(), lr=case["lr"], momentum=case["momentum"],
                                  weight_decay=case["wd"])
            losses = []
            for _ in range(K):
                opt.zero_grad()
                loss = loss_fn(case["loss"], m(x64), lab, deeplab)
                loss.backward()
                opt.step()
                losses.append(float(loss.item()))
            sd = sd32(clone_sd(m))
            if m.cfg.get("frozen_bn", deeplab):
                for k, v in sd.items():
                    if "running_" in k or "num_batches_tracked" in k:
                        assert torch.equal(v, init[k]), (name, k, "frozen buffer changed")
            torch.save(sd, os.path.join(d, "step%d.pth" % K))
            st = dict(k=K, loss=case["loss"], labels=lab_file, lr=case["lr"],
                      momentum=case["momentum"], weight_decay=case["wd"], dampening=0.0,
                      nesterov=False, expected="step%d.pth" % K, losses=losses)
            if deeplab:
                st["loss_detail"] = ("sum over the 4 train outputs [logits, out0.5, out0.75, max] "
                                     "of F.cross_entropy(o, nearest(labels, o.size), "
                                     "ignore_index=255, mean over valid pixels)")
            steps.append(st)
        assert steps[0]["losses"][0] == steps[1]["losses"][0]
    entry["steps"] = steps
    manifest_cases.append(entry)
    print("%-18s in %s eval_out %s losses %s" % (
        name, list(x.shape), list(eval_out.shape),
        [s["losses"] for s in steps][-1:] if steps else "-"), flush=True)


# ----------------------------------------------------------------------------
# full-size: torchvision equivalence + formula weights
# ----------------------------------------------------------------------------
def check_torchvision():
    g = torch.Generator().manual_seed(4242)
    x = torch.randn(2, 3, 64, 64, generator=g)
    for arch in ("resnet18", "resnet50", "resnet101"):
        torch.manual_seed(7)
        tv = getattr(torchvision.models, arch)()
        randomize_bn(tv, g)
        m = twin.build(arch)
        assert list(m.state_dict()) == list(tv.state_dict()), arch + ": key order differs"
        m.load_state_dict(tv.state_dict(), strict=True)
        for mode in ("eval", "train"):
            getattr(tv, mode)()
            getattr(m, mode)()
            with torch.no_grad():
                a, b = tv(x), m(x)
            assert torch.equal(a, b), (arch, mode, (a - b).abs().max().item())
        for (k, v), (k2, v2) in zip(tv.state_dict().items(), m.state_dict().items()):
            assert k == k2 and torch.equal(v, v2), (arch, k, "train() buffers differ")
        print("twin == torchvision.%s (eval + train, bit-exact)" % arch, flush=True)


M1 = np.uint64(0x9E3779B97F4A7C15)
M2 = np.uint64(0xBF58476D1CE4E5B9)
M3 = np.uint64(0x94D049BB133111EB)


def splitmix64(x):
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = x + M1
        z = (z ^ (z >> np.uint64(30))) * M2
        z = (z ^ (z >> np.uint64(27))) * M3
        return z ^ (z >> np.uint64(31))


def splitmix64_ref(x):
    mask = (1 << 64) - 1
    z = (x + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def formula_u(k, n):
    x = (np.uint64(k) << np.uint64(32)) + np.arange(n, dtype=np.uint64)
    return (splitmix64(x) >> np.uint64(40)).astype(np.float64) / float(2 ** 24)


def formula_tensor(k, name, shape):
    n = int(np.prod(shape))
    u = formula_u(k, n)
    if name.endswith("running_mean"):
        v = 0.2 * (2 * u - 1)
    elif name.endswith("running_var"):
        v = 0.5 + u
    elif len(shape) == 4 or (len(shape) == 2 and name.endswith("weight")):
        fan_in = int(np.prod(shape[1:]))
        v = (2 * u - 1) * math.sqrt(3.0 / fan_in)
    elif name == "fc.bias":
        v = 0.1 * (2 * u - 1)
    elif name.endswith("weight"):  # BN
        v = 0.5 + 0.5 * u
    elif name.endswith("bias"):  # BN
        v = 0.2 * (2 * u - 1)
    else:
        raise ValueError(name)
    return v.astype(np.float32).reshape(shape)


FORMULA_DOC = {
    "splitmix64": ["z = (x + 0x9E3779B97F4A7C15) mod 2^64",
                   "z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) mod 2^64",
                   "z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) mod 2^64",
                   "return z ^ (z >> 31)"],
    "u": "u(k, i) = (splitmix64(k * 2^32 + i) >> 40) / 2^24, computed in float64",
    "k": "index of the tensor in torchvision resnet50()/resnet101() state_dict order, "
         "skipping (not counting) *.num_batches_tracked",
    "i": "flat C-order element index within the tensor",
    "values": {
        "conv weight (4-D) and fc.weight": "(2u-1)*sqrt(3/fan_in), fan_in = in_ch*kh*kw (fc: 2048)",
        "fc.bias": "0.1*(2u-1)",
        "bn weight": "0.5+0.5u",
        "bn bias": "0.2*(2u-1)",
        "bn running_mean": "0.2*(2u-1)",
        "bn running_var": "0.5+u",
        "num_batches_tracked": "0 (unused in eval)",
    },
    "input": "shape 1x3x64x64, k = 1000, value 2u-1",
    "cast": "compute in float64, then cast to float32 (round to nearest even)",
    "model_mode": "eval()",
    "adjustments": "none",
}


def run_formula(arch, manifest_cases):
    name = arch + "_formula"
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    tv = getattr(torchvision.models, arch)()
    sd = tv.state_dict()
    new = {}
    k = 0
    checks = []
    for key, v in sd.items():
        if key.endswith("num_batches_tracked"):
            new[key] = v.clone()
            continue
        t = formula_tensor(k, key, tuple(v.shape))
        new[key] = torch.from_numpy(t)
        if k in (0, 1, 3, 4) or key.startswith("fc."):
            checks.append(dict(k=k, key=key, first=[float(z) for z in t.reshape(-1)[:4]]))
        k += 1
    tv.load_state_dict(new, strict=True)
    x = torch.from_numpy((2 * formula_u(1000, 3 * 64 * 64) - 1).astype(np.float32)
                         .reshape(1, 3, 64, 64))
    tv.eval()
    with torch.no_grad():
        out = tv(x)
    m = twin.build(arch)
    m.load_state_dict(new, strict=True)
    m.eval()
    with torch.no_grad():
        assert torch.equal(m(x), out), name + ": twin != torchvision"
    std = float(out.std())
    assert torch.isfinite(out).all() and 0.01 <= std <= 100, (name, std)
    save_npy(os.path.join(d, "input.npy"), x)
    save_npy(os.path.join(d, "eval_out.npy"), out)
    manifest_cases.append(dict(
        name=name, arch=arch, args=[], formula=True, num_tensors=k,
        input="input.npy", input_shape=list(x.shape), weights=None,
        eval_out="eval_out.npy", eval_out_shape=list(out.shape),
        eval_out_std=std, eval_out_first=[float(z) for z in out.reshape(-1)[:4]],
        check_values=checks, input_first=[float(z) for z in x.reshape(-1)[:4]],
        steps=[]))
    print("%-18s %d tensors, logits std %.4g, mean %.4g" % (name, k, std, float(out.mean())),
          flush=True)


def main():
    # splitmix64 vectorised == reference (incl. wrap-around)
    xs = [0, 1, 2 ** 32, 5 * 2 ** 32 + 123, 1000 * 2 ** 32 + 12287, 2 ** 64 - 1]
    got = splitmix64(np.array(xs, dtype=np.uint64))
    assert [int(v) for v in got] == [splitmix64_ref(v) for v in xs]

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    check_torchvision()
    cases = []
    for c in CASES:
        run_case(c, cases)
    for arch in ("resnet50", "resnet101"):
        run_formula(arch, cases)

    manifest = dict(
        version=1, torch=torch.__version__, torchvision=torchvision.__version__,
        numpy=np.__version__, generator="test-data/make_fixtures.py",
        formula=FORMULA_DOC,
        splitmix64_checks=[dict(x=str(v), out=str(splitmix64_ref(v))) for v in xs],
        notes=[
            "All paths are relative to fixtures/<case>/.",
            "*.npy are float32 C-order; CE labels are stored as float32 (class index or 255).",
            "*.pth are torch.save(state_dict) zip archives (torch 1.13 legacy-free format), "
            "including BN num_batches_tracked (int64).",
            "SGD: one group with all parameters (model.parameters() order), dampening 0, "
            "nesterov False; weight decay applies to every parameter (incl. BN, biases).",
            "Steps run in train() mode on the same batch: zero_grad, loss, backward, step.",
        ],
        cases=cases)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    total = 0
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(OUT)):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            total += os.path.getsize(p)
            with open(p, "rb") as fh:
                h.update(os.path.relpath(p, OUT).encode() + b"\0" + fh.read())
    print("total fixture bytes %d, sha256 %s" % (total, h.hexdigest()))
    assert total < 7 * 1000 * 1000


if __name__ == "__main__":
    main()
