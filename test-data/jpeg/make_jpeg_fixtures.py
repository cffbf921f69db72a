#!/usr/bin/env python3
"""Fixtures for conta.image.JpegScanTest: small JPEGs cropped from a real VOC image and re-encoded with libjpeg, and
seeded corruptions of their scan data with libjpeg's verdict on each (oracle.c), and an arithmetic-coded copy with
libjpeg's decode of it. Needs gcc, libjpeg-dev, libjpeg-turbo-progs and the shared sample data; CI only reads what this
writes.

    python3 test-data/jpeg/make_jpeg_fixtures.py [--voc ../shared/data/voc2012-sample]

Writes test-data/jpeg/{colour,restart,grey,progressive,arithmetic}.jpg, arithmetic.ppm and mutations.tsv: per line the fixture, the offset, how
many bytes are deleted there, the hex bytes inserted in their place, libjpeg's verdict (clean, warn, fatal) and its
first message.
"""
import argparse, os, random, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# name: (restart rows, grey, progressive)
FIXTURES = {"colour": (0, 0, 0), "restart": (1, 0, 0), "grey": (0, 1, 0), "progressive": (0, 0, 1)}
PER_FIXTURE = 60


def scan_range(b):
    """First and last+1 byte of the first scan's entropy-coded data."""
    i = 2
    while i < len(b):
        assert b[i] == 0xFF, "marker expected at %d" % i
        m = b[i + 1]
        n = b[i + 2] << 8 | b[i + 3]
        if m == 0xDA:
            s = i + 2 + n
            e = s
            while not (b[e] == 0xFF and b[e + 1] not in (0x00,) and not 0xD0 <= b[e + 1] <= 0xD7):
                e += 1
            return s, e
        i += 2 + n
    raise SystemExit("no SOS")


def mutations(rng, b):
    s, e = scan_range(b)
    out = []
    for k in range(PER_FIXTURE):
        kind = k % 6
        at = rng.randrange(s, e - 1)
        if kind == 0:    # one byte overwritten
            out.append((at, 1, bytes([rng.randrange(256)])))
        elif kind == 1:  # one bit flipped
            out.append((at, 1, bytes([b[at] ^ (1 << rng.randrange(8))])))
        elif kind == 2:  # a run overwritten with bytes that make no marker
            n = rng.randrange(4, 32)
            out.append((at, n, bytes(rng.randrange(255) for _ in range(n))))
        elif kind == 3:  # bytes lost
            out.append((at, rng.randrange(1, 24), b""))
        elif kind == 4:  # bytes inserted
            out.append((at, 0, bytes(rng.randrange(255) for _ in range(rng.randrange(1, 24)))))
        else:            # garbage before the end-of-image marker: a few bytes, or many
            n = rng.choice([2, 5, 100, 300])
            out.append((len(b) - 2, 0, bytes(rng.randrange(1, 255) for _ in range(n))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--voc", default=os.path.join(HERE, "../../../shared/data/voc2012-sample"))
    a = ap.parse_args()
    src = os.path.join(a.voc, "JPEGImages", "2007_000032.jpg")
    if not os.path.isfile(src):
        print("make_jpeg_fixtures.py: %s not found; pass --voc" % src, file=sys.stderr)
        sys.exit(2)
    tmp = tempfile.mkdtemp()
    oracle = os.path.join(tmp, "oracle")
    subprocess.run(["gcc", "-O2", "-o", oracle, os.path.join(HERE, "oracle.c"), "-ljpeg"], check=True)
    rows = []
    for name, (rst, grey, prog) in FIXTURES.items():
        path = os.path.join(HERE, name + ".jpg")
        subprocess.run([oracle, "--encode", src, path, "100", "80", "160", "120", str(rst), str(grey), str(prog)], check=True)
        b = open(path, "rb").read()
        rng = random.Random(name)
        for n, (at, dele, ins) in enumerate(mutations(rng, b)):
            f = os.path.join(tmp, "%s-%d.jpg" % (name, n))
            open(f, "wb").write(b[:at] + ins + b[at + dele:])
            out = subprocess.run([oracle, f], check=True, capture_output=True, text=True).stdout.rstrip("\n").split("\t")
            verdict, msg = out[1], (out[2] if len(out) > 2 else "")
            rows.append("\t".join([name, str(at), str(dele), ins.hex(), verdict, msg]))
    with open(os.path.join(HERE, "mutations.tsv"), "w") as f:
        f.write("# fixture\toffset\tdeleted\tinserted (hex)\tlibjpeg\tits first message (make_jpeg_fixtures.py)\n")
        f.write("\n".join(rows) + "\n")
    print("wrote %d mutations" % len(rows))
    # colour.jpg arithmetic-coded (not walked by JpegScan) and libjpeg's decode of it (libjpeg-turbo-progs: cjpeg, djpeg)
    pixels = subprocess.run(["djpeg", "-ppm", os.path.join(HERE, "colour.jpg")], check=True, capture_output=True).stdout
    arith = subprocess.run(["cjpeg", "-arithmetic", "-quality", "90"], input=pixels, check=True, capture_output=True).stdout
    open(os.path.join(HERE, "arithmetic.jpg"), "wb").write(arith)
    decoded = subprocess.run(["djpeg", "-ppm", os.path.join(HERE, "arithmetic.jpg")], check=True, capture_output=True).stdout
    open(os.path.join(HERE, "arithmetic.ppm"), "wb").write(decoded)


if __name__ == "__main__":
    main()
