#!/usr/bin/python3
"""IRNet's own CAM code (jiwoon-ahn/irn at a2ece00) beside conta's on the CONTA benchmark (issue 17, item 4).

IRNet is not part of conta and is never committed: clone it anywhere and pass --irn. This harness imports IRNet's
modules (dataset, ResNet-50 CAM network, Pillow rescaling, poly optimiser) and changes only what a CPU and this data
set need, each named below; the driver loops of train_cam.py and make_cam.py (multi-GPU) are rewritten as single
CPU processes with the same arithmetic.

  make-cams: IRNet's multi-scale CAMs (make_cam) from a conta classifier's weights, written as conta eval --cam
             input; `agree` then compares their seeds with conta's own CAM stage pixel by pixel.
  train:     IRNet's train_cam on the benchmark (IRNet's recipe at this scale = models/conta-bench.conf) from the
             same ImageNet ResNet-50, then make-cams with the trained weights.
  agree:     share of pixels where two CAM folders give the same seed label (background threshold T).
  walk:      IRNet's make_sem_seg_labels (EdgeDisplacement + propagate_to_edge) from a boundary net (conta's
             BoundaryNet .safetensors, or train-irn's .pth) and conta's stride-4 CAMs -> label PNGs for conta eval.
  train-irn: IRNet's train_irn (AffinityDisplacementLoss, VOC12AffinityDataset) on conta's IR labels from the same
             ImageNet ResNet-50, then walk with the trained net.
  agree-masks: share of pixels where two label-PNG folders agree.

Adaptations (minimal, all in this file):
  - CPU: .cuda() is the identity; DataParallel is left out; one process; pydensecrf (used only by the IR-label
    CRF, not by these steps) is replaced by an empty module.
  - data: the synthetic set's ids are strings (IRNet parses VOC's integer ids); class labels from its masks; 7
    classes instead of 20 in the classifier;
  - weights and input: the npm ImageNet ResNet-50 conta uses (MSRA/Caffe variant: conv biases, stride on the 1x1,
    BN eps 1e-3, BGR mean-subtracted input) replaces torchvision's (IRNet: model_zoo + TorchvisionNormalize);
  - scale: train_cam's resize_long (320, 640) and crop 512 become (72, 143) and 112, the lr 0.01 (conta-bench.conf);
    train_irn's crop 512 and batch 32 become 112 and 16 (its rescale 0.5-1.5, 3 epochs, lr 0.1 stay), and
    EdgeDisplacement's crop_size 512 (the size make_sem_seg_labels pads every image to) becomes 112, the images' size,
    so nothing is padded, as in conta; the walk's 2^8 steps and background 0.25 become conta-bench's 2^4 and 0.55;
  - IR labels: conta's (its dense CRF on its CAMs; pydensecrf is not packaged), copied as 8-bit grey PNGs because
    imageio reads conta's palette PNGs as RGB; the walk reads conta's stride-4 CAMs (its npz 'cam', keys 1-based).
Usage (torch 1.13 CPU, /usr/bin/python3):
  bench/irn_side_by_side.py make-cams --irn /tmp/irn --data runs/synth-bench --weights RUN/round0/cls/model.safetensors --out OUT
  bench/irn_side_by_side.py train --irn /tmp/irn --data runs/synth-bench --imagenet ~/.cache/conta/weights/resnet50-imagenet.safetensors --seed 0 --out OUT
  bench/irn_side_by_side.py agree --a OUT/cams --b RUN/round0/cam --threshold 0.55
  bench/irn_side_by_side.py walk --irn /tmp/irn --data runs/synth-bench --edge RUN/round0/irn/model.safetensors --cams RUN/round0/cam --out OUT
  bench/irn_side_by_side.py train-irn --irn /tmp/irn --data runs/synth-bench --imagenet ... --ir-labels RUN/round0/ir --cams RUN/round0/cam --seed 0 --out OUT
  bench/irn_side_by_side.py agree-masks --a OUT/pseudo --b RUN/round0/pseudo
"""
import argparse
import json
import os
import random
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", (k, v["dtype"])
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).reshape(v["shape"]).copy())
    return out


def load_irn(irn_dir, data_dir):
    """Imports IRNet's modules from irn_dir with the adaptations of the module doc."""
    sys.path.insert(0, irn_dir)
    # misc/imutils.py imports pydensecrf (not packaged for Debian) for the IR-label CRF, which the CAM steps never
    # call: an empty stand-in module lets it import; calling the CRF would fail loudly
    import types
    for m in ("pydensecrf", "pydensecrf.densecrf", "pydensecrf.utils"):
        sys.modules.setdefault(m, types.ModuleType(m))
    sys.modules["pydensecrf"].densecrf = sys.modules["pydensecrf.densecrf"]
    sys.modules["pydensecrf"].utils = sys.modules["pydensecrf.utils"]

    def no_crf(*a, **k):
        raise RuntimeError("pydensecrf is not installed: the IR-label CRF cannot run in this harness")
    sys.modules["pydensecrf.utils"].unary_from_labels = no_crf
    cwd = os.getcwd()
    os.chdir(irn_dir)  # voc12/dataloader.py loads voc12/cls_labels.npy relative to the working directory
    import voc12.dataloader as dl
    import net.resnet50 as r50
    import net.resnet50_cam as cam
    from misc import imutils, torchutils
    os.chdir(cwd)
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self

    names = [l.strip() for l in open(os.path.join(data_dir, "classes.txt"))] if os.path.exists(os.path.join(data_dir, "classes.txt")) else None
    labels = {}
    seg = os.path.join(data_dir, "SegmentationClass")
    from PIL import Image
    n_fg = None
    for f in sorted(os.listdir(seg)):
        m = np.asarray(Image.open(os.path.join(seg, f)))
        labels[f[:-4]] = m
    n_fg = int(max(int(v[v != 255].max()) for v in labels.values()))
    dl.cls_labels_dict = {k: np.array([1.0 if (v == c + 1).any() else 0.0 for c in range(n_fg)], np.float32) for k, v in labels.items()}
    dl.decode_int_filename = lambda s: s
    dl.load_img_name_list = lambda path: [l.strip() for l in open(path) if l.strip()]

    def caffe_normalize(self, img):  # BGR, mean-subtracted, no scaling (the npm MSRA weights)
        a = np.asarray(img).astype(np.float32)
        out = np.empty_like(a, np.float32)
        for c in range(3):
            out[..., c] = a[..., 2 - c] - CAFFE_MEAN_BGR[c]
        return out
    dl.TorchvisionNormalize.__call__ = caffe_normalize
    return dl, r50, cam, imutils, torchutils, n_fg, labels


def caffe_resnet(r50, imagenet):
    """IRNet's resnet50(strides=(2, 2, 2, 1)) turned into the MSRA/Caffe variant and loaded with the npm weights."""
    def build(pretrained=True, **kw):
        m = r50.ResNet(r50.Bottleneck, [3, 4, 6, 3], **kw)
        for mod in m.modules():
            if isinstance(mod, torch.nn.Conv2d) and mod.bias is None:
                mod.bias = torch.nn.Parameter(torch.zeros(mod.out_channels))
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.eps = 1e-3
            if isinstance(mod, r50.Bottleneck) and mod.conv2.stride != (1, 1):
                mod.conv1.stride, mod.conv2.stride = mod.conv2.stride, (1, 1)
        if pretrained and imagenet is not None:  # None: the weights come from a conta or harness file afterwards
            sd = read_safetensors(imagenet)
            sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
            m.load_state_dict(sd, strict=True)
        return m
    r50.resnet50 = build


def cam_net(cam, n_fg, train):
    net = cam.Net() if train else cam.CAM()
    net.classifier = torch.nn.Conv2d(2048, n_fg, 1, bias=False)
    net.newly_added = torch.nn.ModuleList([net.classifier])
    if train:
        import misc.torchutils as tu

        def forward(x):  # Net.forward with view(-1, n_fg) for its hard-coded 20
            x = net.stage1(x)
            x = net.stage2(x).detach()
            x = net.stage3(x)
            x = net.stage4(x)
            x = net.classifier(tu.gap2d(x, keepdims=True))
            return x.view(-1, n_fg)
        net.forward = forward
    return net


def make_cams(dl, imutils, model, data_dir, split, scales, n_fg, out_dir, limit=0):
    """make_cam.py's _work on one CPU process: the same resizing, sums, flips and max-normalisation."""
    os.makedirs(out_dir, exist_ok=True)
    ds = dl.VOC12ClassificationDatasetMSF(os.path.join(data_dir, "ImageSets/Segmentation", split + ".txt"),
                                          voc12_root=data_dir, scales=scales)
    model.eval()
    with torch.no_grad():
        for i in range(min(len(ds), limit) if limit > 0 else len(ds)):
            pack = ds[i]
            name, label, size = pack["name"], pack["label"], pack["size"]
            strided_up_size = imutils.get_strided_up_size(size, 16)
            outputs = [model(torch.from_numpy(img)) for img in pack["img"]]
            highres = [F.interpolate(torch.unsqueeze(o, 1), strided_up_size, mode="bilinear", align_corners=False) for o in outputs]
            highres = torch.sum(torch.stack(highres, 0), 0)[:, 0, :size[0], :size[1]]
            valid = torch.nonzero(label)[:, 0]
            highres = highres[valid]
            highres /= F.adaptive_max_pool2d(highres, (1, 1)) + 1e-5
            full = np.zeros((n_fg, size[0], size[1]), np.float32)
            full[valid.numpy()] = highres.numpy()
            np.save(os.path.join(out_dir, name + ".npy"), full)  # conta eval --cam input: C x H x W, zeros for absent classes


def seeds(cams, threshold):
    """argmax over [threshold, cams] (0 = background, c + 1 = class c)."""
    return np.argmax(np.concatenate([np.full((1,) + cams.shape[1:], threshold, np.float32), cams]), 0)


def conta_cams(d, name, n_fg):
    z = np.load(os.path.join(d, name + ".npz"))
    full = np.zeros((n_fg,) + z["high_res"].shape[1:], np.float32)
    full[z["keys"].astype(int) - 1] = z["high_res"]
    return full


def irn_net(irn_dir, imagenet):
    """IRNet's net.resnet50_irn with the Caffe ResNet-50 of caffe_resnet (imported after load_irn)."""
    import net.resnet50 as r50
    import net.resnet50_irn as irn
    caffe_resnet(r50, imagenet)
    return irn


def load_edge_weights(model, path):
    """conta's BoundaryNet (backbone.* + fc_edge*) or a train-irn state dict into IRNet's EdgeDisplacement."""
    if path.endswith(".pth"):  # AffinityDisplacementLoss's state dict: its loss buffers are not EdgeDisplacement's
        sd = torch.load(path)
        mine = model.state_dict()
        assert all(k in sd for k in mine), [k for k in mine if k not in sd]
        model.load_state_dict({k: v for k, v in sd.items() if k in mine}, strict=True)
        return
    sd = {k: v for k, v in read_safetensors(path).items() if "#" not in k}
    model.resnet50.load_state_dict({k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")}, strict=True)
    edge = {k: v for k, v in sd.items() if k.startswith("fc_edge")}
    missing = [k for k in model.state_dict() if k.startswith("fc_edge") and k not in edge]
    assert not missing and len(edge) == 17, (missing, sorted(edge))
    model.load_state_dict(edge, strict=False)


def walk(dl, irn, edge_weights, cam_dir, data_dir, split, out_dir, crop, beta, exp_times, radius, bg, limit=0):
    """make_sem_seg_labels._work on one CPU process, with conta's stride-4 CAMs."""
    from misc import indexing
    from PIL import Image
    model = irn.EdgeDisplacement(crop_size=crop)
    load_edge_weights(model, edge_weights)
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    ds = dl.VOC12ClassificationDatasetMSF(os.path.join(data_dir, "ImageSets/Segmentation", split + ".txt"),
                                          voc12_root=data_dir, scales=(1.0,))
    with torch.no_grad():
        for i in range(min(len(ds), limit) if limit > 0 else len(ds)):
            pack = ds[i]
            name, size = pack["name"], pack["size"]
            edge, _ = model(torch.from_numpy(np.ascontiguousarray(pack["img"])))  # one scale: the (image, flip) pair itself
            z = np.load(os.path.join(cam_dir, name + ".npz"))
            cams = torch.from_numpy(z["cam"])
            keys = np.pad(z["keys"].astype(np.int64), (1, 0), mode="constant")  # conta's keys are already 1-based
            rw = indexing.propagate_to_edge(cams, edge, beta=beta, exp_times=exp_times, radius=radius)
            rw_up = F.interpolate(rw, scale_factor=4, mode="bilinear", align_corners=False)[..., 0, :size[0], :size[1]]
            rw_up = rw_up / torch.max(rw_up)
            rw_up_bg = F.pad(rw_up, (0, 0, 0, 0, 1, 0), value=bg)
            pred = keys[torch.argmax(rw_up_bg, dim=0).numpy()]
            Image.fromarray(pred.astype(np.uint8), mode="L").save(os.path.join(out_dir, name + ".png"))


def grey_labels(src, dst):
    """conta's palette PNGs as 8-bit grey PNGs (the class indices), which imageio reads as they are."""
    from PIL import Image
    os.makedirs(dst, exist_ok=True)
    for f in sorted(os.listdir(src)):
        if f.endswith(".png"):
            Image.fromarray(np.asarray(Image.open(os.path.join(src, f))).astype(np.uint8), mode="L").save(os.path.join(dst, f))


def train_irn(dl, irn, data_dir, split, label_dir, out, seed, crop, batch, epochs, lr, wd):
    """train_irn.run's loop on the CPU; returns the state dict path. The displacement mean pass is left out (it
    only serves instance segmentation)."""
    from misc import indexing, torchutils
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
    path_index = indexing.PathIndex(radius=10, default_size=(crop // 4, crop // 4))
    model = irn.AffinityDisplacementLoss(path_index)
    ds = dl.VOC12AffinityDataset(os.path.join(data_dir, "ImageSets/Segmentation", split + ".txt"), label_dir=label_dir,
                                 voc12_root=data_dir, indices_from=path_index.src_indices, indices_to=path_index.dst_indices,
                                 hor_flip=True, crop_size=crop, crop_method="random", rescale=(0.5, 1.5))
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=1, drop_last=True,
                                         generator=torch.Generator().manual_seed(seed))
    max_step = (len(ds) // batch) * epochs
    groups = model.trainable_parameters()
    opt = torchutils.PolyOptimizer([{"params": groups[0], "lr": lr, "weight_decay": wd},
                                    {"params": groups[1], "lr": 10 * lr, "weight_decay": wd}], lr=lr, weight_decay=wd, max_step=max_step)
    model.train()
    os.makedirs(out, exist_ok=True)
    log = open(os.path.join(out, "train_log.jsonl"), "w")
    for ep in range(epochs):
        losses = []
        for pack in loader:
            bg_pos, fg_pos, neg = pack["aff_bg_pos_label"], pack["aff_fg_pos_label"], pack["aff_neg_label"]
            pos_aff, neg_aff, dp_fg, dp_bg = model(pack["img"], True)
            bg_pos_l = torch.sum(bg_pos * pos_aff) / (torch.sum(bg_pos) + 1e-5)
            fg_pos_l = torch.sum(fg_pos * pos_aff) / (torch.sum(fg_pos) + 1e-5)
            pos_l = bg_pos_l / 2 + fg_pos_l / 2
            neg_l = torch.sum(neg * neg_aff) / (torch.sum(neg) + 1e-5)
            dp_fg_l = torch.sum(dp_fg * torch.unsqueeze(fg_pos, 1)) / (2 * torch.sum(fg_pos) + 1e-5)
            dp_bg_l = torch.sum(dp_bg * torch.unsqueeze(bg_pos, 1)) / (2 * torch.sum(bg_pos) + 1e-5)
            total = (pos_l + neg_l) / 2 + (dp_fg_l + dp_bg_l) / 2
            opt.zero_grad(); total.backward(); opt.step()
            aff = ((pos_l + neg_l) / 2).item()  # the affinity part: conta's boundary loss
            losses.append(aff)
            log.write(json.dumps({"step": opt.global_step, "affinity_loss": aff, "bg_pos": bg_pos_l.item(),
                                  "fg_pos": fg_pos_l.item(), "neg": neg_l.item()}) + "\n")
        print("epoch %d affinity loss %.4f" % (ep + 1, float(np.mean(losses))), flush=True)
    path = os.path.join(out, "res50_irn.pth")
    torch.save(model.state_dict(), path)
    return path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["make-cams", "train", "agree", "walk", "train-irn", "agree-masks"])
    p.add_argument("--irn"); p.add_argument("--data"); p.add_argument("--out")
    p.add_argument("--weights"); p.add_argument("--imagenet")
    p.add_argument("--seed", type=int, default=0); p.add_argument("--split", default="train")
    p.add_argument("--scales", default="1.0,0.5,1.5,2.0")
    p.add_argument("--a"); p.add_argument("--b"); p.add_argument("--threshold", type=float, default=0.55)
    p.add_argument("--lr", type=float, default=0.01); p.add_argument("--batch", type=int, default=16)
    p.add_argument("--epochs", type=int, default=5); p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="first N images only (make-cams)")
    p.add_argument("--edge"); p.add_argument("--cams"); p.add_argument("--ir-labels")
    p.add_argument("--crop", type=int, default=112); p.add_argument("--beta", type=float, default=10)
    p.add_argument("--exp-times", type=int, default=4); p.add_argument("--radius", type=int, default=5)
    p.add_argument("--bg", type=float, default=0.55)
    p.add_argument("--irn-batch", type=int, default=16); p.add_argument("--irn-epochs", type=int, default=3)
    p.add_argument("--irn-lr", type=float, default=0.1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    scales = tuple(float(s) for s in a.scales.split(","))

    if a.cmd == "agree":
        names = sorted(f[:-4] for f in os.listdir(a.a) if f.endswith(".npy"))
        same = total = 0
        per = []
        for n in names:
            x = np.load(os.path.join(a.a, n + ".npy"))
            y = conta_cams(a.b, n, x.shape[0]) if os.path.exists(os.path.join(a.b, n + ".npz")) else np.load(os.path.join(a.b, n + ".npy"))
            sx, sy = seeds(x, a.threshold), seeds(y, a.threshold)
            same += int((sx == sy).sum()); total += sx.size
            per.append(float(np.abs(x - y).max()))
        print(json.dumps({"images": len(names), "threshold": a.threshold, "seed_agreement": same / total,
                          "max_abs_cam_diff": max(per), "median_max_abs_cam_diff": float(np.median(per))}))
        return

    if a.cmd == "agree-masks":
        from PIL import Image
        names = sorted(f[:-4] for f in os.listdir(a.a) if f.endswith(".png"))
        same = total = 0
        for n in names:
            x, y = np.asarray(Image.open(os.path.join(a.a, n + ".png"))), np.asarray(Image.open(os.path.join(a.b, n + ".png")))
            same += int((x == y).sum()); total += x.size
        print(json.dumps({"images": len(names), "pixel_agreement": same / total}))
        return

    dl, r50, cam, imutils, tu, n_fg, _ = load_irn(os.path.abspath(a.irn), os.path.abspath(a.data))
    data = os.path.abspath(a.data)
    if a.cmd in ("walk", "train-irn"):
        irn = irn_net(a.irn, a.imagenet if a.cmd == "train-irn" else None)
        edge = a.edge
        if a.cmd == "train-irn":
            grey = os.path.join(a.out, "ir_grey")
            grey_labels(a.ir_labels, grey)
            edge = train_irn(dl, irn, data, a.split, grey, a.out, a.seed, a.crop, a.irn_batch, a.irn_epochs, a.irn_lr, 1e-4)
        walk(dl, irn, edge, a.cams, data, a.split, os.path.join(a.out, "pseudo"), a.crop, a.beta, a.exp_times, a.radius, a.bg, a.limit)
        return
    if a.cmd == "make-cams":
        caffe_resnet(r50, None)
        model = cam_net(cam, n_fg, train=False)
        sd = read_safetensors(a.weights)  # stage1..4 and backbone share the resnet50 submodule's parameters
        model.resnet50.load_state_dict({k: v for k, v in sd.items() if not k.startswith("classifier")}, strict=True)
        model.classifier.weight.data.copy_(sd["classifier.weight"])
        make_cams(dl, imutils, model, data, a.split, scales, n_fg, a.out, a.limit)
        return

    # train: train_cam.run's loop on the CPU, IRNet's recipe at this scale
    random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
    caffe_resnet(r50, a.imagenet)
    model = cam_net(cam, n_fg, train=True)
    ds = dl.VOC12ClassificationDataset(os.path.join(data, "ImageSets/Segmentation", a.split + ".txt"), voc12_root=data,
                                       resize_long=(72, 143), hor_flip=True, crop_size=112, crop_method="random")
    loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=1, drop_last=True,
                                         generator=torch.Generator().manual_seed(a.seed))
    max_step = (len(ds) // a.batch) * a.epochs
    groups = model.trainable_parameters()
    opt = tu.PolyOptimizer([{"params": groups[0], "lr": a.lr, "weight_decay": 1e-4},
                            {"params": groups[1], "lr": 10 * a.lr, "weight_decay": 1e-4}], lr=a.lr, weight_decay=1e-4, max_step=max_step)
    model.train()
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "train_log.jsonl"), "w")
    for ep in range(a.epochs):
        losses = []
        for pack in loader:
            loss = F.multilabel_soft_margin_loss(model(pack["img"]), pack["label"])
            opt.zero_grad(); loss.backward(); opt.step()
            losses.append(loss.item())
            log.write(json.dumps({"step": opt.global_step, "loss": loss.item()}) + "\n")
        print("epoch %d loss %.4f" % (ep + 1, float(np.mean(losses))), flush=True)
    sd = {k: v for k, v in model.state_dict().items()}
    torch.save(sd, os.path.join(a.out, "res50_cam.pth"))
    cam_model = cam_net(cam, n_fg, train=False)
    cam_model.load_state_dict(sd, strict=True)
    make_cams(dl, imutils, cam_model, data, a.split, scales, n_fg, os.path.join(a.out, "cams"))


if __name__ == "__main__":
    main()
