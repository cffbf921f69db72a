package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/** Max and average pooling with PyTorch's padding, dilation (max) and ceil-mode rules. */
final class Pool {
    private Pool() { }

    static void checkOut(String op, Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        int oh = s.poolOutH(x.dim(2), ceil), ow = s.poolOutW(x.dim(3), ceil);
        if (y.rank() != 4 || y.dim(0) != x.dim(0) || y.dim(1) != x.dim(1) || y.dim(2) != oh || y.dim(3) != ow)
            throw new IllegalArgumentException(op + ": output " + y.shapeString() + " for input " + x.shapeString() + ", expected ["
                    + x.dim(0) + ", " + x.dim(1) + ", " + oh + ", " + ow + "]");
    }

    /** Per-thread plane buffers: the window scans run on Java arrays, which C2 compiles far better than segment reads. */
    private static final ThreadLocal<float[][]> PLANES = ThreadLocal.withInitial(() -> new float[3][0]);

    private static float[][] planes(int in, int out) {
        float[][] b = PLANES.get();
        if (b[0].length < in) b[0] = new float[in];
        if (b[1].length < out) b[1] = new float[out];
        if (b[2].length < out) b[2] = new float[out];
        return b;
    }

    /** Length of the -inf padded row of column maxima (see {@link #maxPlane}). */
    private static int rowLength(int w, int ow, ConvSpec s) {
        int right = Math.max(0, (ow - 1) * s.strideW() + (s.kw() - 1) * s.dilW() - s.padW() - (w - 1));
        return s.padW() + w + right;
    }

    /** Gather map of the row pass: one output every strideW inputs. */
    private static int[] lanes(ConvSpec s) {
        int[] lanes = new int[Elementwise.L];
        for (int k = 0; k < lanes.length; k++) lanes[k] = k * s.strideW();
        return lanes;
    }

    /**
     * Max pooling of the plane xp[0, h*w) into yp[0, oh*ow): per output row, the maxima over its window rows for all
     * columns, then the maxima over each window's columns, both as 16-lane vector max (which keeps NaN, as PyTorch
     * does). The column maxima go to a -inf padded row after the plane in xp, so border windows need no tests.
     */
    private static void maxPlane(float[] xp, int h, int w, ConvSpec s, int oh, int ow, int rowLen, int[] lanes, float[] yp) {
        int row = h * w;
        java.util.Arrays.fill(xp, row, row + rowLen, Float.NEGATIVE_INFINITY);
        for (int oy = 0; oy < oh; oy++) {
            columnMax(xp, h, w, s, oy, row + s.padW());
            rowWindowsMax(xp, row, s, ow, lanes, yp, oy * ow);
        }
    }

    static void max(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        checkOut("maxPool2d", x, s, ceil, y);
        MemorySegment xs = CpuBackend.seg(x), ys = CpuBackend.seg(y);
        int h = x.dim(2), w = x.dim(3), oh = y.dim(2), ow = y.dim(3);
        int rowLen = rowLength(w, ow, s);
        int[] lanes = lanes(s);
        Parallel.forRange(x.dim(0) * x.dim(1), (long) oh * ow * s.kh() * s.kw(), pl -> {
            float[][] b = planes(h * w + rowLen, oh * ow);
            MemorySegment.copy(xs, F, (long) pl * h * w * 4, b[0], 0, h * w);
            maxPlane(b[0], h, w, s, oh, ow, rowLen, lanes, b[1]);
            MemorySegment.copy(b[1], 0, ys, F, (long) pl * oh * ow * 4, oh * ow);
        });
    }

    /**
     * xp[dst + x] = max over the window rows of output row oy (inside the image) of xp[iy * w + x], for all x.
     * FloatVector.max keeps NaN, as PyTorch's pooling does; no per-element branches to mispredict.
     */
    private static void columnMax(float[] xp, int h, int w, ConvSpec s, int oy, int dst) {
        int y0 = oy * s.strideH() - s.padH();
        boolean first = true;
        for (int i = 0; i < s.kh(); i++) {
            int iy = y0 + i * s.dilH();
            if (iy < 0 || iy >= h) continue;
            int src = iy * w, xx = 0;
            int bound = w - w % Elementwise.L;
            if (first) {
                System.arraycopy(xp, src, xp, dst, w);
                first = false;
                continue;
            }
            for (; xx < bound; xx += Elementwise.L)
                FloatVector.fromArray(CpuBackend.SP, xp, src + xx).max(FloatVector.fromArray(CpuBackend.SP, xp, dst + xx)).intoArray(xp, dst + xx);
            for (; xx < w; xx++) xp[dst + xx] = Math.max(xp[src + xx], xp[dst + xx]);
        }
    }

    /** out[o0 + ox] = max over j of row[ox * strideW + j * dilW] (row = the padded column maxima at xp[r]). */
    private static void rowWindowsMax(float[] xp, int r, ConvSpec s, int ow, int[] lanes, float[] out, int o0) {
        int sw = s.strideW(), dw = s.dilW(), kw = s.kw(), L = Elementwise.L;
        int ox = 0;
        for (; ox + L <= ow; ox += L) {
            FloatVector m = FloatVector.fromArray(CpuBackend.SP, xp, r + ox * sw, lanes, 0);
            for (int j = 1; j < kw; j++) m = m.max(FloatVector.fromArray(CpuBackend.SP, xp, r + ox * sw + j * dw, lanes, 0));
            m.intoArray(out, o0 + ox);
        }
        for (; ox < ow; ox++) {
            float m = xp[r + ox * sw];
            for (int j = 1; j < kw; j++) m = Math.max(m, xp[r + ox * sw + j * dw]);
            out[o0 + ox] = m;
        }
    }

    /**
     * Index (within the plane) of the first maximum of a window in row-major order; NaN wins as in PyTorch. Windows
     * inside the image (all but the border ones) take a loop without bounds tests.
     */
    private static int argmax(float[] xp, int h, int w, ConvSpec s, int oy, int ox) {
        int y0 = oy * s.strideH() - s.padH(), x0 = ox * s.strideW() - s.padW();
        int kh = s.kh(), kw = s.kw(), dh = s.dilH(), dw = s.dilW();
        if (y0 >= 0 && x0 >= 0 && y0 + (kh - 1) * dh < h && x0 + (kw - 1) * dw < w) {
            int best = y0 * w + x0;
            float bv = xp[best];
            if (bv != bv) return best;
            for (int i = 0; i < kh; i++) {
                int row = (y0 + i * dh) * w + x0;
                for (int j = i == 0 ? 1 : 0; j < kw; j++) {
                    int idx = row + j * dw;
                    float v = xp[idx];
                    if (v > bv) {
                        best = idx;
                        bv = v;
                    } else if (v != v) {
                        return idx;
                    }
                }
            }
            return best;
        }
        int best = -1;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < kh; i++) {
            int iy = y0 + i * dh;
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < kw; j++) {
                int ix = x0 + j * dw;
                if (ix < 0 || ix >= w) continue;
                float v = xp[iy * w + ix];
                if (best < 0 || v > bv || v != v) {
                    best = iy * w + ix;
                    bv = v;
                    if (v != v) return best;
                }
            }
        }
        return best;
    }

    static void maxBackward(Tensor x, ConvSpec s, boolean ceil, Tensor dy, Tensor dx) {
        checkOut("maxPool2dBackward", x, s, ceil, dy);
        MemorySegment xs = CpuBackend.seg(x), dys = CpuBackend.seg(dy), dxs = CpuBackend.seg(dx);
        int h = x.dim(2), w = x.dim(3), oh = dy.dim(2), ow = dy.dim(3);
        int rowLen = rowLength(w, ow, s);
        int[] lanes = lanes(s);
        Parallel.forRange(x.dim(0) * x.dim(1), (long) oh * ow * s.kh() * s.kw(), pl -> {
            float[][] b = planes(h * w + rowLen, oh * ow);
            float[] xp = b[0], yp = b[1], gp = b[2];
            MemorySegment.copy(xs, F, (long) pl * h * w * 4, xp, 0, h * w);
            MemorySegment.copy(dys, F, (long) pl * oh * ow * 4, gp, 0, oh * ow);
            // the maxima again (vector pass), then each window's first element equal to its maximum
            maxPlane(xp, h, w, s, oh, ow, rowLen, lanes, yp);
            int[] idx = new int[oh * ow];
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    float m = yp[oy * ow + ox];
                    idx[oy * ow + ox] = m == m ? firstEqual(xp, h, w, s, oy, ox, m) : argmax(xp, h, w, s, oy, ox);
                }
            java.util.Arrays.fill(xp, 0, h * w, 0f);
            for (int o = 0; o < oh * ow; o++) xp[idx[o]] += gp[o];
            MemorySegment.copy(xp, 0, dxs, F, (long) pl * h * w * 4, h * w);
        });
    }

    /**
     * First index in row-major order of the window of (oy, ox) whose value is m (the window's maximum, not NaN).
     * Knowing the maximum, the scan mispredicts once (at the hit) instead of at every new running maximum: on ResNet's
     * stem pool this backward takes 31-32 ms against 44-65 ms for the plain first-maximum search (best of 40).
     */
    private static int firstEqual(float[] xp, int h, int w, ConvSpec s, int oy, int ox, float m) {
        int y0 = oy * s.strideH() - s.padH(), x0 = ox * s.strideW() - s.padW();
        int kh = s.kh(), kw = s.kw(), dh = s.dilH(), dw = s.dilW();
        if (y0 < 0 || x0 < 0 || y0 + (kh - 1) * dh >= h || x0 + (kw - 1) * dw >= w) return argmax(xp, h, w, s, oy, ox);
        for (int i = 0; i < kh; i++) {
            int row = (y0 + i * dh) * w + x0;
            for (int j = 0; j < kw; j++)
                if (xp[row + j * dw] == m) return row + j * dw;
        }
        return -1; // unreachable: m is one of the window's values
    }

    /** Window [start, end) clipped to the padded input, and its part inside the image, PyTorch's avg_pool2d rule. */
    private static int[] window(int o, int stride, int pad, int k, int in) {
        int start = o * stride - pad;
        int end = Math.min(start + k, in + pad);
        int size = end - start;
        return new int[]{Math.max(start, 0), Math.min(end, in), size};
    }

    static void avg(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        checkOut("avgPool2d", x, s, ceil, y);
        MemorySegment xs = CpuBackend.seg(x), ys = CpuBackend.seg(y);
        int h = x.dim(2), w = x.dim(3), oh = y.dim(2), ow = y.dim(3);
        Parallel.forRange(x.dim(0) * x.dim(1), (long) oh * ow * s.kh() * s.kw(), pl -> {
            long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                int[] wy = window(oy, s.strideH(), s.padH(), s.kh(), h);
                for (int ox = 0; ox < ow; ox++) {
                    int[] wx = window(ox, s.strideW(), s.padW(), s.kw(), w);
                    double acc = 0;
                    for (int iy = wy[0]; iy < wy[1]; iy++)
                        for (int ix = wx[0]; ix < wx[1]; ix++) acc += xs.getAtIndex(F, xb + (long) iy * w + ix);
                    ys.setAtIndex(F, yb + (long) oy * ow + ox, (float) (acc / ((long) wy[2] * wx[2])));
                }
            }
        });
    }

    static void avgBackward(ConvSpec s, boolean ceil, Tensor dy, Tensor dx) {
        checkOut("avgPool2dBackward", dx, s, ceil, dy);
        MemorySegment dys = CpuBackend.seg(dy), dxs = CpuBackend.seg(dx);
        int h = dx.dim(2), w = dx.dim(3), oh = dy.dim(2), ow = dy.dim(3);
        Parallel.forRange(dx.dim(0) * dx.dim(1), (long) oh * ow * s.kh() * s.kw(), pl -> {
            long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
            dxs.asSlice(xb * 4, (long) h * w * 4).fill((byte) 0);
            for (int oy = 0; oy < oh; oy++) {
                int[] wy = window(oy, s.strideH(), s.padH(), s.kh(), h);
                for (int ox = 0; ox < ow; ox++) {
                    int[] wx = window(ox, s.strideW(), s.padW(), s.kw(), w);
                    float g = (float) (dys.getAtIndex(F, yb + (long) oy * ow + ox) / ((double) wy[2] * wx[2]));
                    for (int iy = wy[0]; iy < wy[1]; iy++)
                        for (int ix = wx[0]; ix < wx[1]; ix++) {
                            long d = xb + (long) iy * w + ix;
                            dxs.setAtIndex(F, d, dxs.getAtIndex(F, d) + g);
                        }
                }
            }
        });
    }
}
