package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Convolution as im2col + sgemm, one image at a time (OpenBLAS threads the product; im2col/col2im are split over
 * input channels). A 1x1 stride-1 unpadded convolution skips im2col: the image is already the column matrix.
 */
final class Conv {
    private Conv() { }

    static void check(Tensor x, Tensor w, ConvSpec s, Tensor y) {
        if (x.rank() != 4 || w.rank() != 4 || y.rank() != 4)
            throw new IllegalArgumentException("conv2d needs 4-d tensors, got x" + x.shapeString() + " w" + w.shapeString());
        if (w.dim(1) != x.dim(1) || w.dim(2) != s.kh() || w.dim(3) != s.kw())
            throw new IllegalArgumentException("conv2d: weight " + w.shapeString() + " does not fit input " + x.shapeString() + " and " + s);
        int oh = s.outH(x.dim(2)), ow = s.outW(x.dim(3));
        if (oh <= 0 || ow <= 0)
            throw new IllegalArgumentException("conv2d: input " + x.shapeString() + " too small for " + s);
        if (y.dim(0) != x.dim(0) || y.dim(1) != w.dim(0) || y.dim(2) != oh || y.dim(3) != ow)
            throw new IllegalArgumentException("conv2d: output " + y.shapeString() + ", expected [" + x.dim(0) + ", " + w.dim(0) + ", " + oh + ", " + ow + "]");
    }

    /** Gradient buffers, when given, have the sizes of what they are the gradient of (oneDNN writes them unchecked). */
    static void checkGrads(Tensor x, Tensor w, Tensor dx, Tensor dw, Tensor db) {
        if (dx != null && dx.numel() != x.numel()) throw new IllegalArgumentException("conv2dBackward: dx " + dx.shapeString() + " for x " + x.shapeString());
        if (dw != null && dw.numel() != w.numel()) throw new IllegalArgumentException("conv2dBackward: dw " + dw.shapeString() + " for w " + w.shapeString());
        if (db != null && db.numel() != w.dim(0)) throw new IllegalArgumentException("conv2dBackward: db " + db.shapeString() + " for " + w.dim(0) + " outputs");
    }

    static boolean direct(ConvSpec s) {
        return s.kh() == 1 && s.kw() == 1 && s.strideH() == 1 && s.strideW() == 1 && s.padH() == 0 && s.padW() == 0;
    }

    /**
     * Below this many output pixels per image the per-image product is too thin for sgemm (late ResNet stages have
     * 49-196 columns), so the whole batch goes through one product over an N*P-column matrix.
     */
    static final int BATCHED_MAX_PIXELS = (int) conta.io.SystemProps.count("conta.conv.batchedMaxPixels", 4096);

    static boolean batched(int n, int p) { return n > 1 && p < BATCHED_MAX_PIXELS; }

    /** Column matrix [K, N*P] of the whole batch (a plain copy for direct 1x1 convolutions). */
    private static CpuStorage batchColumns(MemorySegment x, int n, int cin, int h, int w, ConvSpec s, int oh, int ow, int k) {
        long p = (long) oh * ow, np = n * p;
        CpuStorage col = new CpuStorage((long) k * np * 4);
        MemorySegment c = col.segment();
        if (direct(s)) {
            Parallel.forRange(n * cin, p, bc -> MemorySegment.copy(x, (long) bc * p * 4, c, ((bc % cin) * np + (bc / cin) * p) * 4, p * 4));
        } else {
            for (int b = 0; b < n; b++) im2col(x, (long) b * cin * h * w, cin, h, w, s, oh, ow, c, np, b * p);
        }
        return col;
    }

    /** [C, N*P] <-> [N, C, P]: toNchw=true scatters a batched product result into NCHW. */
    private static void permute(MemorySegment batchedCols, MemorySegment nchw, int n, int c, long p, boolean toNchw) {
        long np = n * p;
        Parallel.forRange(n * c, p, bc -> {
            long a = ((bc % c) * np + (bc / c) * p) * 4, b = (long) bc * p * 4;
            if (toNchw) MemorySegment.copy(batchedCols, a, nchw, b, p * 4);
            else MemorySegment.copy(nchw, b, batchedCols, a, p * 4);
        });
    }

    static void forward(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y) {
        check(x, w, s, y);
        int n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int cout = w.dim(0), oh = y.dim(2), ow = y.dim(3);
        int k = cin * s.kh() * s.kw(), p = oh * ow;
        CpuStorage xs = CpuBackend.storage(x), ws = CpuBackend.storage(w), ys = CpuBackend.storage(y);
        boolean direct = direct(s);
        if (batched(n, p)) {
            CpuStorage col = batchColumns(xs.segment(), n, cin, h, wd, s, oh, ow, k);
            CpuStorage out = new CpuStorage((long) cout * n * p * 4);
            try {
                Blas.sgemm(false, false, cout, n * p, k, 1f, ws, 0, k, col, 0, n * p, 0f, out, 0, n * p);
                permute(out.segment(), ys.segment(), n, cout, p, true);
            } finally {
                col.free();
                out.free();
            }
            addBias(bias, ys, n, cout, p);
            return;
        }
        CpuStorage col = direct ? null : new CpuStorage((long) k * p * 4);
        try {
            for (int b = 0; b < n; b++) {
                long xOff = (long) b * cin * h * wd;
                if (direct) {
                    Blas.sgemm(false, false, cout, p, k, 1f, ws, 0, k, xs, xOff, p, 0f, ys, (long) b * cout * p, p);
                } else {
                    im2col(xs.segment(), xOff, cin, h, wd, s, oh, ow, col.segment());
                    Blas.sgemm(false, false, cout, p, k, 1f, ws, 0, k, col, 0, p, 0f, ys, (long) b * cout * p, p);
                }
            }
        } finally {
            if (col != null) col.free();
        }
        addBias(bias, ys, n, cout, p);
    }

    private static void addBias(Tensor bias, CpuStorage ys, int n, int cout, int p) {
        if (bias == null) return;
        if (bias.numel() != cout) throw new IllegalArgumentException("conv2d: bias " + bias.shapeString() + " for " + cout + " outputs");
        MemorySegment ysg = ys.segment(), bs = CpuBackend.seg(bias);
        Parallel.forRange(n * cout, p, nc -> {
            float bv = bs.getAtIndex(F, nc % cout);
            long base = (long) nc * p;
            for (int i = 0; i < p; i++) ysg.setAtIndex(F, base + i, ysg.getAtIndex(F, base + i) + bv);
        });
    }

    /** Inner-dimension chunk of the weight-gradient product (see {@link Blas#sgemmNTChunked}). */
    static final int DW_CHUNK = (int) conta.io.SystemProps.count("conta.conv.dwChunk", 2048);

    static void backward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db) {
        check(x, w, s, dy);
        int n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int cout = w.dim(0), oh = dy.dim(2), ow = dy.dim(3);
        int k = cin * s.kh() * s.kw(), p = oh * ow;
        CpuStorage xs = CpuBackend.storage(x), ws = CpuBackend.storage(w), dys = CpuBackend.storage(dy);
        if (db != null) CpuBackend.channelDotImpl(dy, null, db, true);
        boolean direct = direct(s);
        if (batched(n, p)) {
            int np = n * p;
            CpuStorage dyAll = new CpuStorage((long) cout * np * 4);
            CpuStorage col = null;
            try {
                permute(dyAll.segment(), dys.segment(), n, cout, p, false);
                if (dw != null) {
                    col = batchColumns(xs.segment(), n, cin, h, wd, s, oh, ow, k);
                    Blas.sgemmNTChunked(cout, k, np, dyAll, 0, np, col, 0, np, 1f, CpuBackend.storage(dw), 0, k, DW_CHUNK);
                }
                if (dx != null) {
                    if (col == null) col = new CpuStorage((long) k * np * 4);
                    Blas.sgemm(true, false, k, np, cout, 1f, ws, 0, k, dyAll, 0, np, 0f, col, 0, np);
                    MemorySegment dxs = CpuBackend.seg(dx), c = col.segment();
                    if (direct) permute(c, dxs, n, cin, p, true);
                    else for (int b = 0; b < n; b++) col2im(c, cin, h, wd, s, oh, ow, dxs, (long) b * cin * h * wd, np, (long) b * p);
                }
            } finally {
                dyAll.free();
                if (col != null) col.free();
            }
            return;
        }
        CpuStorage col = direct ? null : new CpuStorage((long) k * p * 4);
        try {
            for (int b = 0; b < n; b++) {
                long xOff = (long) b * cin * h * wd, dyOff = (long) b * cout * p;
                if (dw != null) {
                    if (direct) {
                        Blas.sgemm(false, true, cout, k, p, 1f, dys, dyOff, p, xs, xOff, p, 1f, CpuBackend.storage(dw), 0, k);
                    } else {
                        im2col(xs.segment(), xOff, cin, h, wd, s, oh, ow, col.segment());
                        Blas.sgemm(false, true, cout, k, p, 1f, dys, dyOff, p, col, 0, p, 1f, CpuBackend.storage(dw), 0, k);
                    }
                }
                if (dx != null) {
                    CpuStorage dxs = CpuBackend.storage(dx);
                    if (direct) {
                        Blas.sgemm(true, false, k, p, cout, 1f, ws, 0, k, dys, dyOff, p, 0f, dxs, xOff, p);
                    } else {
                        Blas.sgemm(true, false, k, p, cout, 1f, ws, 0, k, dys, dyOff, p, 0f, col, 0, p);
                        col2im(col.segment(), cin, h, wd, s, oh, ow, dxs.segment(), xOff);
                    }
                }
            }
        } finally {
            if (col != null) col.free();
        }
    }

    /** col[(c*kh+i)*kw+j][oy*ow+ox] = x[c][oy*sh-ph+i*dh][ox*sw-pw+j*dw], zero outside the image. */
    static void im2col(MemorySegment x, long xOff, int cin, int h, int w, ConvSpec s, int oh, int ow, MemorySegment col) {
        im2col(x, xOff, cin, h, w, s, oh, ow, col, (long) oh * ow, 0);
    }

    /** im2col into columns [colOff, colOff + oh*ow) of a matrix with leading dimension ld (batched GEMM layout). */
    static void im2col(MemorySegment x, long xOff, int cin, int h, int w, ConvSpec s, int oh, int ow, MemorySegment col, long ld, long colOff) {
        int kh = s.kh(), kw = s.kw();
        long p = (long) oh * ow; // work per channel, for the split
        Parallel.forRange(cin, (long) kh * kw * p, c -> {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    long row = ((long) (c * kh + i) * kw + j) * ld + colOff;
                    int dxo = j * s.dilW() - s.padW();
                    // valid ox range: 0 <= ox*sw + dxo < w
                    int oxLo = Math.max(0, Math.ceilDiv(-dxo, s.strideW()));
                    int oxHi = Math.min(ow, Math.ceilDiv(w - dxo, s.strideW()));
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + i * s.dilH();
                        long dst = row + (long) oy * ow;
                        if (iy < 0 || iy >= h || oxHi <= oxLo) {
                            col.asSlice(dst * 4, (long) ow * 4).fill((byte) 0);
                            continue;
                        }
                        if (oxLo > 0) col.asSlice(dst * 4, (long) oxLo * 4).fill((byte) 0);
                        if (oxHi < ow) col.asSlice((dst + oxHi) * 4, (long) (ow - oxHi) * 4).fill((byte) 0);
                        long src = xOff + ((long) c * h + iy) * w;
                        if (s.strideW() == 1) {
                            MemorySegment.copy(x, (src + oxLo + dxo) * 4, col, (dst + oxLo) * 4, (long) (oxHi - oxLo) * 4);
                        } else {
                            for (int ox = oxLo; ox < oxHi; ox++)
                                col.setAtIndex(F, dst + ox, x.getAtIndex(F, src + (long) ox * s.strideW() + dxo));
                        }
                    }
                }
            }
        });
    }

    /** The adjoint of im2col: dx[c][iy][ix] = sum of the col entries that read it (dx overwritten). */
    static void col2im(MemorySegment col, int cin, int h, int w, ConvSpec s, int oh, int ow, MemorySegment dx, long dxOff) {
        col2im(col, cin, h, w, s, oh, ow, dx, dxOff, (long) oh * ow, 0);
    }

    static void col2im(MemorySegment col, int cin, int h, int w, ConvSpec s, int oh, int ow, MemorySegment dx, long dxOff, long ld, long colOff) {
        int kh = s.kh(), kw = s.kw();
        long p = (long) oh * ow; // work per channel, for the split
        Parallel.forRange(cin, (long) kh * kw * p, c -> {
            long plane = dxOff + (long) c * h * w;
            dx.asSlice(plane * 4, (long) h * w * 4).fill((byte) 0);
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    long row = ((long) (c * kh + i) * kw + j) * ld + colOff;
                    int dxo = j * s.dilW() - s.padW();
                    int oxLo = Math.max(0, Math.ceilDiv(-dxo, s.strideW()));
                    int oxHi = Math.min(ow, Math.ceilDiv(w - dxo, s.strideW()));
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + i * s.dilH();
                        if (iy < 0 || iy >= h) continue;
                        long src = row + (long) oy * ow;
                        long dst = plane + (long) iy * w;
                        for (int ox = oxLo; ox < oxHi; ox++) {
                            long d = dst + (long) ox * s.strideW() + dxo;
                            dx.setAtIndex(F, d, dx.getAtIndex(F, d) + col.getAtIndex(F, src + ox));
                        }
                    }
                }
            }
        });
    }
}
