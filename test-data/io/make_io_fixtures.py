"""Generates the small fixtures used by conta.io tests (run with /usr/bin/python3, PyTorch 1.13 CPU).

Tests never run this: its outputs are committed. Re-run from the repo root:
    /usr/bin/python3 test-data/io/make_io_fixtures.py
"""
import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import torch

OUT = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(OUT, name)


# ---------- .npy ----------
def npy_fixtures():
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1
    np.save(path("f32.npy"), a)
    np.save(path("f64.npy"), (np.arange(6, dtype=np.float64) * 0.1 - 0.2).reshape(2, 3))
    np.save(path("i64.npy"), np.array([[-3, 0, 7], [2 ** 40, 5, -1]], dtype=np.int64))
    np.save(path("i32.npy"), np.array([-2, 0, 3, 100000], dtype=np.int32))
    np.save(path("u8.npy"), np.array([[0, 1, 255]], dtype=np.uint8))
    np.save(path("bool.npy"), np.array([True, False, True]))
    np.save(path("scalar.npy"), np.float32(2.5))
    for ver in [(2, 0), (3, 0)]:
        with open(path("f32_v%d.npy" % ver[0]), "wb") as f:
            np.lib.format.write_array(f, a, version=ver)
    np.save(path("fortran.npy"), np.asfortranarray(a))
    np.save(path("bigendian.npy"), a.astype(">f4"))
    np.save(path("complex.npy"), np.array([1 + 2j], dtype=np.complex64))
    with open(path("f32.npy"), "rb") as f:
        data = f.read()
    with open(path("truncated.npy"), "wb") as f:
        f.write(data[:-5])


# ---------- .safetensors (hand-written: the safetensors package is not installed) ----------
def safetensors_fixture():
    import json
    tensors = OrderedDict()
    tensors["h"] = ("F16", np.array([0.5, -1.25, 65504], dtype=np.float16).tobytes(), [3])
    bf = torch.tensor([[1.5, -2.0], [3.140625, 0.0078125]], dtype=torch.bfloat16)
    tensors["b"] = ("BF16", bf.view(torch.int16).numpy().tobytes(), [2, 2])
    tensors["d"] = ("F64", np.array([1e-3, -7.5], dtype=np.float64).tobytes(), [2])
    tensors["l"] = ("I64", np.array([[9, -4]], dtype=np.int64).tobytes(), [1, 2])
    tensors["i"] = ("I32", np.array([123456], dtype=np.int32).tobytes(), [1])
    tensors["f"] = ("F32", np.array([[0.25]], dtype=np.float32).tobytes(), [1, 1])
    header, blob, off = OrderedDict(), b"", 0
    header["__metadata__"] = {"format": "pt", "note": "mixed dtypes"}
    for k, (dt, raw, shape) in tensors.items():
        header[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blob += raw
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path("mixed.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)


# ---------- .pth ----------
class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)


def tiny_state():
    torch.manual_seed(0)
    net = TinyNet()
    with torch.no_grad():  # non-trivial BN stats
        net.bn.running_mean.uniform_(-1, 1)
        net.bn.running_var.uniform_(0.5, 2)
        net.bn.num_batches_tracked += 7
    sd = net.state_dict()
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5
    sd["extra.transposed"] = base.t()  # stride (1, 6): non-contiguous
    sd["extra.base"] = base
    sd["extra.slice"] = base[1:3, 2:5]  # view with storage offset, shares storage with extra.base
    sd["extra.f64"] = torch.linspace(-1, 1, 5, dtype=torch.float64)
    sd["extra.f16"] = torch.tensor([[0.5, -3.0], [1e-3, 100.0]], dtype=torch.float16)
    sd["extra.bf16"] = torch.tensor([1.5, -0.375], dtype=torch.bfloat16)
    sd["extra.i64"] = torch.tensor([[1, -2, 3]], dtype=torch.int64)
    sd["extra.scalar"] = torch.tensor(4.25)
    return sd


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/conta-pwned",))


def pth_fixtures():
    sd = tiny_state()
    torch.save(sd, path("tiny_zip.pth"))
    torch.save(sd, path("tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(sd, path("tiny_p4.pth"), pickle_protocol=4)
    ckpt = {"epoch": 3, "lr": 0.01, "arch": "tiny", "flags": [True, None, (1, 2)], "state_dict": sd}
    torch.save(ckpt, path("tiny_ckpt.pth"))
    torch.save({"model": sd, "step": 10}, path("tiny_model_wrapper.pth"), _use_new_zipfile_serialization=False)
    np.savez(path("tiny_expected.npz"), **{k: np.array(v.float().numpy(), order="C") for k, v in sd.items()})
    # malicious: a torch zip checkpoint whose pickle calls os.system through __reduce__
    torch.save({"w": torch.zeros(2), "payload": Evil()}, path("evil_system.pth"))
    # malicious: a plain pickle calling builtins.eval (protocol 4: STACK_GLOBAL)
    with open(path("evil_eval.pth"), "wb") as f:
        f.write(pickle.dumps(_EvalReduce(), protocol=4))
    # the same with protocol 0 text opcodes (GLOBAL "builtins\neval\n")
    with open(path("evil_eval_p0.pth"), "wb") as f:
        f.write(pickle.dumps(_EvalReduce(), protocol=0))
    # forbidden helper that torch itself can emit but we refuse: storage from raw bytes
    buf = io.BytesIO()
    pickle.Pickler(buf, protocol=2).dump(_LoadFromBytes())
    with zipfile.ZipFile(path("evil_load_from_bytes.pth"), "w") as z:
        z.writestr("archive/data.pkl", buf.getvalue())


class _EvalReduce:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch /tmp/conta-pwned')",))


class _LoadFromBytes:
    def __reduce__(self):
        import torch.storage
        return (torch.storage._load_from_bytes, (b"not really",))


if __name__ == "__main__":
    npy_fixtures()
    safetensors_fixture()
    pth_fixtures()
    total = sum(os.path.getsize(path(f)) for f in os.listdir(OUT))
    print("fixtures written to %s, %d bytes in total" % (OUT, total))
    assert not os.path.exists("/tmp/conta-pwned")
