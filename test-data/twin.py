"""PyTorch twin of conta's architectures (reference for the Java tests).

Parameter names are EXACTLY the names conta's checkpoints use:

* ResNet family: torchvision names (conv1, bn1, layer{1..4}.{b}.conv{1,2,3},
  bn{1,2,3}, downsample.{0,1}, fc.{weight,bias} | classifier.weight).
* DeepLab-v2: kazuto1011/deeplab-pytorch names (layer1.conv1.{conv,bn},
  layer{2..5}.block{i}.{reduce,conv3x3,increase,shortcut}.{conv,bn},
  aspp.c{0..3}.{weight,bias}); the MSC wrapper adds no parameters and no
  "base." prefix.

Conventions that conta must match (see also test-data/README.md):

* Dilation: every 3x3 conv of stage i uses dilation d_i and padding d_i
  (deeplab style; for BasicBlock BOTH 3x3 convs are dilated). There is no
  torchvision "previous_dilation" quirk.
* stride_on_1x1: bottleneck stride sits on conv1 (1x1) instead of conv2 (3x3).
  BasicBlock always strides on conv1 (its first 3x3).
* Downsample (1x1 conv stride s + BN) whenever stride != 1 or in_ch != out_ch.
* frozen_bn: BN always normalises with running stats (also in train()),
  affine weight/bias get gradients, buffers (incl. num_batches_tracked) never
  change.
"""
import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------
# BatchNorm
# ----------------------------------------------------------------------------
class FrozenBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d that always uses running statistics (IRNet FixedBatchNorm,
    deeplab-pytorch freeze_bn). Same state_dict layout as nn.BatchNorm2d."""

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                            self.bias, False, 0.0, self.eps)


def make_bn(ch, eps, frozen):
    cls = FrozenBatchNorm2d if frozen else nn.BatchNorm2d
    return cls(ch, eps=eps, momentum=0.1)


# ----------------------------------------------------------------------------
# ResNet
# ----------------------------------------------------------------------------
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, dilation, cfg):
        super().__init__()
        bias, eps, fr = cfg["conv_bias"], cfg["bn_eps"], cfg["frozen_bn"]
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, dilation, dilation, bias=bias)
        self.bn1 = make_bn(planes, eps, fr)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, dilation, dilation, bias=bias)
        self.bn2 = make_bn(planes, eps, fr)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out, 1, stride, bias=bias), make_bn(out, eps, fr))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return self.relu(h + idt)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, dilation, cfg):
        super().__init__()
        bias, eps, fr = cfg["conv_bias"], cfg["bn_eps"], cfg["frozen_bn"]
        out = planes * self.expansion
        s1, s3 = (stride, 1) if cfg["stride_on_1x1"] else (1, stride)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, s1, bias=bias)
        self.bn1 = make_bn(planes, eps, fr)
        self.conv2 = nn.Conv2d(planes, planes, 3, s3, dilation, dilation, bias=bias)
        self.bn2 = make_bn(planes, eps, fr)
        self.conv3 = nn.Conv2d(planes, out, 1, 1, bias=bias)
        self.bn3 = make_bn(out, eps, fr)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out, 1, stride, bias=bias), make_bn(out, eps, fr))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return self.relu(h + idt)


RESNET_DEFAULTS = dict(
    block="bottleneck", blocks=(3, 4, 6, 3), width=64, strides=(1, 2, 2, 2),
    dilations=(1, 1, 1, 1), stride_on_1x1=False, conv_bias=False, bn_eps=1e-5,
    frozen_bn=False, ceil_mode=False, head="fc", classes=1000)


class ResNet(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        cfg = dict(RESNET_DEFAULTS)
        unknown = set(kw) - set(cfg)
        if unknown:
            raise ValueError("unknown config keys %s" % sorted(unknown))
        cfg.update(kw)
        cfg["blocks"] = tuple(cfg["blocks"])
        cfg["strides"] = tuple(cfg["strides"])
        cfg["dilations"] = tuple(cfg["dilations"])
        self.cfg = cfg
        block = {"basic": BasicBlock, "bottleneck": Bottleneck}[cfg["block"]]
        w0, eps, fr = cfg["width"], cfg["bn_eps"], cfg["frozen_bn"]
        self.conv1 = nn.Conv2d(3, w0, 7, 2, 3, bias=cfg["conv_bias"])
        self.bn1 = make_bn(w0, eps, fr)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1, ceil_mode=cfg["ceil_mode"])
        inplanes = w0
        for i in range(4):
            planes = w0 * 2 ** i
            layers = []
            for b in range(cfg["blocks"][i]):
                layers.append(block(inplanes, planes, cfg["strides"][i] if b == 0 else 1,
                                    cfg["dilations"][i], cfg))
                inplanes = planes * block.expansion
            self.add_module("layer%d" % (i + 1), nn.Sequential(*layers))
        self.num_features = inplanes
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        if cfg["head"] == "fc":
            self.fc = nn.Linear(inplanes, cfg["classes"])
        elif cfg["head"] == "cam":
            self.classifier = nn.Conv2d(inplanes, cfg["classes"], 1, bias=False)
        else:
            raise ValueError(cfg["head"])

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        if self.cfg["head"] == "fc":
            return self.fc(torch.flatten(x, 1))
        return self.classifier(x).flatten(1)


# ----------------------------------------------------------------------------
# DeepLab-v2 (kazuto1011/deeplab-pytorch layout)
# ----------------------------------------------------------------------------
class ConvBnReLU(nn.Sequential):
    def __init__(self, cin, cout, k, stride, pad, dil, relu):
        super().__init__()
        self.add_module("conv", nn.Conv2d(cin, cout, k, stride, pad, dil, bias=False))
        self.add_module("bn", FrozenBatchNorm2d(cout, eps=1e-5, momentum=0.1))
        if relu:
            self.add_module("relu", nn.ReLU())


class DLBottleneck(nn.Module):
    def __init__(self, cin, cout, stride, dilation, shortcut):
        super().__init__()
        mid = cout // 4
        self.reduce = ConvBnReLU(cin, mid, 1, stride, 0, 1, True)
        self.conv3x3 = ConvBnReLU(mid, mid, 3, 1, dilation, dilation, True)
        self.increase = ConvBnReLU(mid, cout, 1, 1, 0, 1, False)
        self.shortcut = ConvBnReLU(cin, cout, 1, stride, 0, 1, False) if shortcut else None

    def forward(self, x):
        h = self.increase(self.conv3x3(self.reduce(x)))
        h = h + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(h)


class DLResLayer(nn.Sequential):
    def __init__(self, n, cin, cout, stride, dilation):
        super().__init__()
        for i in range(n):
            self.add_module("block%d" % (i + 1), DLBottleneck(
                cin if i == 0 else cout, cout, stride if i == 0 else 1, dilation, i == 0))


class ASPP(nn.Module):
    def __init__(self, cin, cout, rates):
        super().__init__()
        for i, r in enumerate(rates):
            self.add_module("c%d" % i, nn.Conv2d(cin, cout, 3, 1, r, r, bias=True))

    def forward(self, x):
        return sum(m(x) for m in self.children())


class DeepLabV2Base(nn.Sequential):
    def __init__(self, classes, blocks=(3, 4, 23, 3), width=64, rates=(6, 12, 18, 24)):
        super().__init__()
        ch = [width * 2 ** p for p in range(6)]
        self.add_module("layer1", nn.Sequential(OrderedDict([
            ("conv1", ConvBnReLU(3, ch[0], 7, 2, 3, 1, True)),
            ("pool", nn.MaxPool2d(3, 2, 1, ceil_mode=True))])))
        self.add_module("layer2", DLResLayer(blocks[0], ch[0], ch[2], 1, 1))
        self.add_module("layer3", DLResLayer(blocks[1], ch[2], ch[3], 2, 1))
        self.add_module("layer4", DLResLayer(blocks[2], ch[3], ch[4], 1, 2))
        self.add_module("layer5", DLResLayer(blocks[3], ch[4], ch[5], 1, 4))
        self.add_module("aspp", ASPP(ch[5], classes, rates))


class DeepLabV2(nn.Module):
    """MSC(DeepLabV2) with the base's parameters at top level (no 'base.' prefix).

    eval():  max(logits, resize(out_0.5), resize(out_0.75))
    train(): [logits, out_0.5, out_0.75 (NOT resized), max]
    """

    def __init__(self, classes, blocks=(3, 4, 23, 3), width=64,
                 rates=(6, 12, 18, 24), scales=(0.5, 0.75)):
        super().__init__()
        base = DeepLabV2Base(classes, blocks, width, rates)
        for name, m in base.named_children():
            self.add_module(name, m)
        self.scales = tuple(scales)
        self.cfg = dict(classes=classes, blocks=tuple(blocks), width=width,
                        rates=tuple(rates), scales=self.scales)

    def base(self, x):
        for m in (self.layer1, self.layer2, self.layer3, self.layer4, self.layer5, self.aspp):
            x = m(x)
        return x

    def forward(self, x):
        logits = self.base(x)
        H, W = logits.shape[2:]
        pyr = []
        for p in self.scales:
            h = F.interpolate(x, scale_factor=p, mode="bilinear", align_corners=False)
            pyr.append(self.base(h))
        allv = [logits] + [F.interpolate(l, size=(H, W), mode="bilinear", align_corners=False)
                           for l in pyr]
        mx = torch.max(torch.stack(allv), dim=0)[0]
        if self.training:
            return [logits] + pyr + [mx]
        return mx


# ----------------------------------------------------------------------------
# Named architectures
# ----------------------------------------------------------------------------
NAMED = {
    "resnet18": dict(block="basic", blocks=(2, 2, 2, 2)),
    "resnet34": dict(block="basic", blocks=(3, 4, 6, 3)),
    "resnet50": dict(block="bottleneck", blocks=(3, 4, 6, 3)),
    "resnet101": dict(block="bottleneck", blocks=(3, 4, 23, 3)),
    "resnet50-os16": dict(block="bottleneck", blocks=(3, 4, 6, 3), strides=(1, 2, 2, 1),
                          frozen_bn=True, head="cam", classes=20),
    "resnet50-caffe": dict(block="bottleneck", blocks=(3, 4, 6, 3), stride_on_1x1=True,
                           conv_bias=True, bn_eps=1e-3),
}
DEEPLAB_NAMED = {"deeplabv2-resnet101": dict(blocks=(3, 4, 23, 3), width=64)}


def resnet_config(arch, **overrides):
    cfg = dict(RESNET_DEFAULTS)
    cfg.update(NAMED[arch])
    cfg.update(overrides)
    return cfg


def build(arch, **overrides):
    """build('resnet50', width=8, blocks=(1,2,1,1), classes=6) etc."""
    if arch in DEEPLAB_NAMED:
        cfg = dict(DEEPLAB_NAMED[arch])
        cfg.update(overrides)
        return DeepLabV2(**cfg)
    return ResNet(**resnet_config(arch, **overrides))
