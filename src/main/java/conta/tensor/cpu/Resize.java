package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;

import conta.tensor.BilinearTaps;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Bilinear resize of N x C x H x W tensors with PyTorch's upsample_bilinear2d coordinate rules. */
final class Resize {
    private Resize() { }

    private static void check(Tensor x, Tensor y) {
        if (x.rank() != 4 || y.rank() != 4 || x.dim(0) != y.dim(0) || x.dim(1) != y.dim(1))
            throw new IllegalArgumentException("resizeBilinear: " + x.shapeString() + " -> " + y.shapeString());
    }

    static void forward(Tensor x, boolean alignCorners, Tensor y) {
        check(x, y);
        int h = x.dim(2), w = x.dim(3), oh = y.dim(2), ow = y.dim(3);
        BilinearTaps ty = BilinearTaps.of(h, oh, alignCorners), tx = BilinearTaps.of(w, ow, alignCorners);
        MemorySegment xs = CpuBackend.seg(x), ys = CpuBackend.seg(y);
        Parallel.forRange(x.dim(0) * x.dim(1), (long) oh * ow * 4, pl -> {
            long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                long r0 = xb + (long) ty.i0()[oy] * w, r1 = xb + (long) ty.i1()[oy] * w;
                float a0 = ty.w0()[oy], a1 = ty.w1()[oy];
                for (int ox = 0; ox < ow; ox++) {
                    int c0 = tx.i0()[ox], c1 = tx.i1()[ox];
                    float b0 = tx.w0()[ox], b1 = tx.w1()[ox];
                    float v = a0 * (b0 * xs.getAtIndex(F, r0 + c0) + b1 * xs.getAtIndex(F, r0 + c1))
                            + a1 * (b0 * xs.getAtIndex(F, r1 + c0) + b1 * xs.getAtIndex(F, r1 + c1));
                    ys.setAtIndex(F, yb + (long) oy * ow + ox, v);
                }
            }
        });
    }

    static void backward(Tensor dy, boolean alignCorners, Tensor dx) {
        check(dx, dy);
        int h = dx.dim(2), w = dx.dim(3), oh = dy.dim(2), ow = dy.dim(3);
        BilinearTaps ty = BilinearTaps.of(h, oh, alignCorners), tx = BilinearTaps.of(w, ow, alignCorners);
        MemorySegment dys = CpuBackend.seg(dy), dxs = CpuBackend.seg(dx);
        Parallel.forRange(dx.dim(0) * dx.dim(1), (long) oh * ow * 4, pl -> {
            long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
            dxs.asSlice(xb * 4, (long) h * w * 4).fill((byte) 0);
            for (int oy = 0; oy < oh; oy++) {
                long r0 = xb + (long) ty.i0()[oy] * w, r1 = xb + (long) ty.i1()[oy] * w;
                float a0 = ty.w0()[oy], a1 = ty.w1()[oy];
                for (int ox = 0; ox < ow; ox++) {
                    float g = dys.getAtIndex(F, yb + (long) oy * ow + ox);
                    int c0 = tx.i0()[ox], c1 = tx.i1()[ox];
                    float b0 = tx.w0()[ox], b1 = tx.w1()[ox];
                    add(dxs, r0 + c0, a0 * b0 * g);
                    add(dxs, r0 + c1, a0 * b1 * g);
                    add(dxs, r1 + c0, a1 * b0 * g);
                    add(dxs, r1 + c1, a1 * b1 * g);
                }
            }
        });
    }

    private static void add(MemorySegment s, long i, float v) { s.setAtIndex(F, i, s.getAtIndex(F, i) + v); }
}
