#!/usr/bin/python3
"""Pillow resize fixtures for conta's PilResample (IRNet resizes with PIL: imutils.pil_rescale).

    /usr/bin/python3 test-data/pil/make_pil_fixtures.py

Reads one real VOC image and its label map from /work/shared/data/voc2012-sample (2007_000032), crops them small
and writes test-data/pil/pil_resize.npz (uint8 arrays, compressed):
  src_rgb_A (48x64x3), src_rgb_B (45x63x3, odd sizes)   the crops, as decoded by PIL (the Java test starts from these
                                                         bytes, so JPEG decoders never enter the comparison)
  src_lbl_A (48x64),   src_lbl_B (45x63)                 label crops (class ids and 255 borders)
  bic_{A,B}_{tag}   Image.fromarray(rgb).resize((w, h), Image.BICUBIC)
  nn_{A,B}_{tag}    Image.fromarray(lbl).resize((w, h), Image.NEAREST)
tag: s050, s075, s030, s150, s200 = pil_rescale by that scale (size int(np.round(n * s)), half to even),
     or HxW for explicit sizes (odd, one axis only, mixed up/down), or q4 = the stride-4 grid ceil(h/4) x ceil(w/4)
     that BoundaryNet.downsampleLabels produces.
Self-checks: for sizes that are multiples of 4, pil_rescale(label, 0.25, NEAREST) == label[2::4, 2::4]; a rerun
writes the same arrays. Pillow and NumPy versions are stored as well (text in 'versions').
"""
import io
import os
import hashlib
import numpy as np
import PIL
from PIL import Image

ROOT = "/work/shared/data/voc2012-sample"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pil_resize.npz")


def pil_rescale(img, scale, resample):
    h, w = img.shape[:2]
    size = (int(np.round(h * scale)), int(np.round(w * scale)))  # IRNet imutils.pil_rescale
    return resize(img, size[0], size[1], resample)


def resize(img, h, w, resample):
    if (h, w) == img.shape[:2]:
        return img
    return np.asarray(Image.fromarray(img).resize((w, h), resample))


def main():
    rgb = np.asarray(Image.open(os.path.join(ROOT, "JPEGImages/2007_000032.jpg")).convert("RGB"))
    lbl = np.asarray(Image.open(os.path.join(ROOT, "SegmentationClass/2007_000032.png")))  # palette indices
    assert lbl.shape == rgb.shape[:2] == (281, 500)
    # crops over the aeroplane's edge: sky, plane, 255 borders
    crops = {"A": (110, 160, 48, 64), "B": (112, 301, 45, 63)}
    arrays = {}
    for name, (y, x, h, w) in crops.items():
        r = np.ascontiguousarray(rgb[y:y + h, x:x + w])
        l = np.ascontiguousarray(lbl[y:y + h, x:x + w])
        assert len(np.unique(l)) >= 3, (name, np.unique(l))
        arrays["src_rgb_" + name] = r
        arrays["src_lbl_" + name] = l
        for s in (0.5, 0.75, 0.3, 1.5, 2.0):
            tag = "s%03d" % round(s * 100)
            arrays["bic_%s_%s" % (name, tag)] = pil_rescale(r, s, Image.BICUBIC)
            arrays["nn_%s_%s" % (name, tag)] = pil_rescale(l, s, Image.NEAREST)
        for (oh, ow) in ((37, 29), (31, w), (h, 41), (20, 97), (101, 23), (5, 3)):
            tag = "%dx%d" % (oh, ow)
            arrays["bic_%s_%s" % (name, tag)] = resize(r, oh, ow, Image.BICUBIC)
            arrays["nn_%s_%s" % (name, tag)] = resize(l, oh, ow, Image.NEAREST)
        arrays["nn_%s_q4" % name] = resize(l, (h + 3) // 4, (w + 3) // 4, Image.NEAREST)
        if h % 4 == 0 and w % 4 == 0:  # IRNet's reduced label: pixel (4y+2, 4x+2)
            assert np.array_equal(pil_rescale(l, 0.25, Image.NEAREST), l[2::4, 2::4])
            assert np.array_equal(arrays["nn_%s_q4" % name], l[2::4, 2::4])
    arrays["versions"] = np.frombuffer(("Pillow %s numpy %s" % (PIL.__version__, np.__version__)).encode(), dtype=np.uint8)
    for k, v in arrays.items():
        assert v.dtype == np.uint8, k
    np.savez_compressed(OUT, **arrays)
    digest = hashlib.sha256()
    for k in sorted(arrays):
        digest.update(k.encode())
        digest.update(np.ascontiguousarray(arrays[k]).tobytes())
    print("wrote %s: %d arrays, %d bytes, content sha256 %s (Pillow %s, numpy %s)"
          % (OUT, len(arrays), os.path.getsize(OUT), digest.hexdigest()[:16], PIL.__version__, np.__version__))


if __name__ == "__main__":
    main()
