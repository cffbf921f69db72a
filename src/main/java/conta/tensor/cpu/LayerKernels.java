package conta.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** CPU loops of the layer helpers (Backend.batchNormFold, batchNormFoldGammaGrad, copyWindow); rounding as documented there. */
final class LayerKernels {
    private LayerKernels() { }

    static void batchNormFold(MemorySegment g, MemorySegment b, MemorySegment m, MemorySegment v, float eps, MemorySegment scale,
                              MemorySegment shift, MemorySegment inv, int c) {
        for (int i = 0; i < c; i++) {
            float iv = (float) (1.0 / Math.sqrt((double) v.getAtIndex(JAVA_FLOAT, i) + eps));
            float sc = g.getAtIndex(JAVA_FLOAT, i) * iv;
            inv.setAtIndex(JAVA_FLOAT, i, iv);
            scale.setAtIndex(JAVA_FLOAT, i, sc);
            shift.setAtIndex(JAVA_FLOAT, i, b.getAtIndex(JAVA_FLOAT, i) - m.getAtIndex(JAVA_FLOAT, i) * sc);
        }
    }

    static void gammaGrad(MemorySegment inv, MemorySegment m, MemorySegment sg, MemorySegment sgx, MemorySegment dg, int c) {
        for (int i = 0; i < c; i++) {
            double d = inv.getAtIndex(JAVA_FLOAT, i)
                    * ((double) sgx.getAtIndex(JAVA_FLOAT, i) - (double) m.getAtIndex(JAVA_FLOAT, i) * sg.getAtIndex(JAVA_FLOAT, i));
            dg.setAtIndex(JAVA_FLOAT, i, dg.getAtIndex(JAVA_FLOAT, i) + (float) d);
        }
    }

    /** Row by row: each of the planes * h rows is one contiguous run of w floats on both sides. */
    static void copyWindow(MemorySegment src, int sh, int sw, int st, int sl, MemorySegment dst, int dh, int dw, int dt, int dl,
                           int h, int w, int planes, boolean acc) {
        for (long p = 0; p < planes; p++)
            for (int r = 0; r < h; r++) {
                long so = (p * sh + st + r) * sw + sl, d0 = (p * dh + dt + r) * dw + dl;
                if (!acc) {
                    MemorySegment.copy(src, so * 4, dst, d0 * 4, w * 4L);
                } else {
                    for (int q = 0; q < w; q++)
                        dst.setAtIndex(JAVA_FLOAT, d0 + q, dst.getAtIndex(JAVA_FLOAT, d0 + q) + src.getAtIndex(JAVA_FLOAT, so + q));
                }
            }
    }
}
