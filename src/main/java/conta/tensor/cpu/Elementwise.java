package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;
import static conta.tensor.cpu.CpuBackend.SP;
import static conta.tensor.cpu.CpuBackend.load;
import static conta.tensor.cpu.CpuBackend.store;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Elementwise and per-channel loops over off-heap floats, vectorised with the Vector API. */
final class Elementwise {
    private Elementwise() { }

    static final int L = SP.length();

    static void addScaled(MemorySegment a, float alpha, MemorySegment b, float beta, MemorySegment out, long n) {
        long i = 0;
        long bound = n - n % L;
        for (; i < bound; i += L) store(load(a, i).mul(alpha).add(load(b, i).mul(beta)), out, i);
        for (; i < n; i++) out.setAtIndex(F, i, alpha * a.getAtIndex(F, i) + beta * b.getAtIndex(F, i));
    }

    /** d[dOff..] += alpha * s[sOff..] */
    static void axpy(MemorySegment s, long sOff, MemorySegment d, long dOff, long n, float alpha) {
        long i = 0;
        long bound = n - n % L;
        for (; i < bound; i += L) store(load(d, dOff + i).add(load(s, sOff + i).mul(alpha)), d, dOff + i);
        for (; i < n; i++) d.setAtIndex(F, dOff + i, d.getAtIndex(F, dOff + i) + alpha * s.getAtIndex(F, sOff + i));
    }

    static void mul(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        long i = 0;
        long bound = n - n % L;
        for (; i < bound; i += L) store(load(a, i).mul(load(b, i)), out, i);
        for (; i < n; i++) out.setAtIndex(F, i, a.getAtIndex(F, i) * b.getAtIndex(F, i));
    }

    static void relu(MemorySegment x, MemorySegment y, long n) {
        long i = 0;
        long bound = n - n % L;
        for (; i < bound; i += L) store(load(x, i).max(0f), y, i);
        for (; i < n; i++) y.setAtIndex(F, i, Math.max(0f, x.getAtIndex(F, i)));
    }

    static void reluBackward(MemorySegment y, MemorySegment dy, MemorySegment dx, long n) {
        long i = 0;
        long bound = n - n % L;
        FloatVector zero = FloatVector.zero(SP);
        for (; i < bound; i += L) store(zero.blend(load(dy, i), load(y, i).compare(VectorOperators.GT, 0f)), dx, i);
        for (; i < n; i++) dx.setAtIndex(F, i, y.getAtIndex(F, i) > 0f ? dy.getAtIndex(F, i) : 0f);
    }

    /** sum(a * (x - m)) over [off, off+n). */
    static double centeredDot(MemorySegment a, MemorySegment x, long off, long n, float m) {
        long i = 0;
        long bound = n - n % L;
        FloatVector acc = FloatVector.zero(SP);
        double total = 0;
        int chunk = 0;
        for (; i < bound; i += L) {
            acc = load(a, off + i).fma(load(x, off + i).sub(m), acc);
            if (++chunk == 256) {
                total += lanes(acc);
                acc = FloatVector.zero(SP);
                chunk = 0;
            }
        }
        total += lanes(acc);
        for (; i < n; i++) total += (double) a.getAtIndex(F, off + i) * (x.getAtIndex(F, off + i) - m);
        return total;
    }

    /** sum((x - mean)^2) over [off, off+n). */
    static double sumSqDev(MemorySegment x, long off, long n, float mean) {
        long i = 0;
        long bound = n - n % L;
        FloatVector acc = FloatVector.zero(SP);
        double total = 0;
        int chunk = 0;
        for (; i < bound; i += L) {
            FloatVector d = load(x, off + i).sub(mean);
            acc = d.fma(d, acc);
            if (++chunk == 256) {
                total += lanes(acc);
                acc = FloatVector.zero(SP);
                chunk = 0;
            }
        }
        total += lanes(acc);
        for (; i < n; i++) {
            double d = x.getAtIndex(F, off + i) - mean;
            total += d * d;
        }
        return total;
    }

    /** y = (x - m) * a + b over [off, off+n): subtracting first keeps precision when |m| >> |x - m|. */
    static void centeredAffine(MemorySegment x, MemorySegment y, long off, long n, float m, float a, float b) {
        long i = 0;
        long bound = n - n % L;
        for (; i < bound; i += L) store(load(x, off + i).sub(m).fma(a, b), y, off + i);
        for (; i < n; i++) y.setAtIndex(F, off + i, (x.getAtIndex(F, off + i) - m) * a + b);
    }

    /** dx = dy * a + (x - m) * b + c over [off, off+n) (batch-norm backward in one pass). */
    static void bnBackward(MemorySegment dy, MemorySegment x, MemorySegment dx, long off, long n, float m, float a, float b, float c) {
        long i = 0;
        long bound = n - n % L;
        for (; i < bound; i += L) store(load(dy, off + i).mul(a).add(load(x, off + i).sub(m).fma(b, c)), dx, off + i);
        for (; i < n; i++) dx.setAtIndex(F, off + i, dy.getAtIndex(F, off + i) * a + (x.getAtIndex(F, off + i) - m) * b + c);
    }

    /**
     * Sum of the lanes in a fixed order, in double. FloatVector.reduceLanes may reorder (and does, differently, before
     * and after C2 compiles the loop), which made training runs differ bit for bit between identical runs.
     */
    static double lanes(FloatVector v) {
        float[] a = v.toArray();
        double s = 0;
        for (float x : a) s += x;
        return s;
    }

    /** Exact-order double sum, for Backend.sum (diagnostics and tests, not a hot path). */
    static double sumDouble(MemorySegment s, long off, long n) {
        double t = 0;
        for (long i = 0; i < n; i++) t += s.getAtIndex(F, off + i);
        return t;
    }

    static double sum(MemorySegment s, long off, long n) {
        long i = 0;
        long bound = n - n % L;
        FloatVector acc = FloatVector.zero(SP);
        double total = 0;
        int chunk = 0;
        for (; i < bound; i += L) {
            acc = acc.add(load(s, off + i));
            if (++chunk == 256) { // flush to double now and then to keep float error small
                total += lanes(acc);
                acc = FloatVector.zero(SP);
                chunk = 0;
            }
        }
        total += lanes(acc);
        for (; i < n; i++) total += s.getAtIndex(F, off + i);
        return total;
    }

    static double dot(MemorySegment a, MemorySegment b, long off, long n) {
        long i = 0;
        long bound = n - n % L;
        FloatVector acc = FloatVector.zero(SP);
        double total = 0;
        int chunk = 0;
        for (; i < bound; i += L) {
            acc = load(a, off + i).fma(load(b, off + i), acc);
            if (++chunk == 256) {
                total += lanes(acc);
                acc = FloatVector.zero(SP);
                chunk = 0;
            }
        }
        total += lanes(acc);
        for (; i < n; i++) total += (double) a.getAtIndex(F, off + i) * b.getAtIndex(F, off + i);
        return total;
    }

    static void channelAffine(MemorySegment x, MemorySegment scale, MemorySegment shift, MemorySegment y, int n, int c, int hw) {
        Parallel.forRange(n * c, hw, nc -> {
            int ch = nc % c;
            float a = scale.getAtIndex(F, ch), b = shift == null ? 0f : shift.getAtIndex(F, ch);
            long base = (long) nc * hw;
            long i = 0;
            long bound = hw - hw % L;
            for (; i < bound; i += L) store(load(x, base + i).fma(a, b), y, base + i);
            for (; i < hw; i++) y.setAtIndex(F, base + i, x.getAtIndex(F, base + i) * a + b);
        });
    }

    static void softmax(MemorySegment x, MemorySegment y, int n, int c, int hw) {
        Parallel.forRange(n, (long) c * hw, b -> {
            long base = (long) b * c * hw;
            for (int p = 0; p < hw; p++) {
                float mx = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) mx = Math.max(mx, x.getAtIndex(F, base + (long) k * hw + p));
                double s = 0;
                for (int k = 0; k < c; k++) s += Math.exp(x.getAtIndex(F, base + (long) k * hw + p) - mx);
                for (int k = 0; k < c; k++) {
                    long idx = base + (long) k * hw + p;
                    y.setAtIndex(F, idx, (float) (Math.exp(x.getAtIndex(F, idx) - mx) / s));
                }
            }
        });
    }

    static void softmaxBackward(MemorySegment y, MemorySegment dy, MemorySegment dx, int n, int c, int hw) {
        Parallel.forRange(n, (long) c * hw, b -> {
            long base = (long) b * c * hw;
            for (int p = 0; p < hw; p++) {
                double dot = 0;
                for (int k = 0; k < c; k++) {
                    long idx = base + (long) k * hw + p;
                    dot += (double) y.getAtIndex(F, idx) * dy.getAtIndex(F, idx);
                }
                for (int k = 0; k < c; k++) {
                    long idx = base + (long) k * hw + p;
                    dx.setAtIndex(F, idx, (float) (y.getAtIndex(F, idx) * (dy.getAtIndex(F, idx) - dot)));
                }
            }
        });
    }
}
