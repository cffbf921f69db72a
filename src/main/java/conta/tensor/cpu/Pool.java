package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Max and average pooling with PyTorch's padding, dilation (max) and ceil-mode rules. */
final class Pool {
    private Pool() { }

    static void checkOut(String op, Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        int oh = s.poolOutH(x.dim(2), ceil), ow = s.poolOutW(x.dim(3), ceil);
        if (y.rank() != 4 || y.dim(0) != x.dim(0) || y.dim(1) != x.dim(1) || y.dim(2) != oh || y.dim(3) != ow)
            throw new IllegalArgumentException(op + ": output " + y.shapeString() + " for input " + x.shapeString() + ", expected ["
                    + x.dim(0) + ", " + x.dim(1) + ", " + oh + ", " + ow + "]");
    }

    static void max(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        checkOut("maxPool2d", x, s, ceil, y);
        MemorySegment xs = CpuBackend.seg(x), ys = CpuBackend.seg(y);
        int h = x.dim(2), w = x.dim(3), oh = y.dim(2), ow = y.dim(3);
        Parallel.forRange(x.dim(0) * x.dim(1), (long) oh * ow * s.kh() * s.kw(), pl -> {
            long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    ys.setAtIndex(F, yb + (long) oy * ow + ox, xs.getAtIndex(F, xb + argmax(xs, xb, h, w, s, oy, ox)));
        });
    }

    /** Index (within the plane) of the first maximum of a window; NaN wins as in PyTorch. */
    private static int argmax(MemorySegment xs, long xb, int h, int w, ConvSpec s, int oy, int ox) {
        int best = -1;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < s.kh(); i++) {
            int iy = oy * s.strideH() - s.padH() + i * s.dilH();
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < s.kw(); j++) {
                int ix = ox * s.strideW() - s.padW() + j * s.dilW();
                if (ix < 0 || ix >= w) continue;
                float v = xs.getAtIndex(F, xb + (long) iy * w + ix);
                if (best < 0 || v > bv || Float.isNaN(v)) {
                    best = iy * w + ix;
                    bv = v;
                    if (Float.isNaN(v)) return best;
                }
            }
        }
        return best;
    }

    static void maxBackward(Tensor x, ConvSpec s, boolean ceil, Tensor dy, Tensor dx) {
        checkOut("maxPool2dBackward", x, s, ceil, dy);
        MemorySegment xs = CpuBackend.seg(x), dys = CpuBackend.seg(dy), dxs = CpuBackend.seg(dx);
        int h = x.dim(2), w = x.dim(3), oh = dy.dim(2), ow = dy.dim(3);
        Parallel.forRange(x.dim(0) * x.dim(1), (long) oh * ow * s.kh() * s.kw(), pl -> {
            long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
            dxs.asSlice(xb * 4, (long) h * w * 4).fill((byte) 0);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    long d = xb + argmax(xs, xb, h, w, s, oy, ox);
                    dxs.setAtIndex(F, d, dxs.getAtIndex(F, d) + dys.getAtIndex(F, yb + (long) oy * ow + ox));
                }
        });
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
