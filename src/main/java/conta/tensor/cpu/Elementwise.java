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

    /**
     * torch.optim.SGD over [from, from+n): d = g + wd p; with momentum, buf = first ? d : mom buf + d and d = buf;
     * p -= lr d. Same float operations in the same order as the scalar form, so vector and tail agree bit for bit.
     */
    static void sgd(MemorySegment p, MemorySegment g, MemorySegment m, long from, long n, float lr, float momentum,
                    float wd, boolean first) {
        long i = from, bound = from + n - n % L;
        boolean mom = momentum != 0f;
        // a loop method per case, no flag tested inside a loop: C2 called a load or store behind a branch that was
        // rare when it compiled the method out of line, and boxed its vectors (the note above BlockedKernels.affineRelu)
        if (!mom) sgdPlain(p, g, i, bound, lr, wd);
        else if (first) sgdFirst(p, g, m, i, bound, lr, wd);
        else sgdMomentum(p, g, m, i, bound, lr, momentum, wd);
        i = bound; // the loops above took [i, bound); bound >= i always
        for (; i < from + n; i++) {
            float pi = p.getAtIndex(F, i);
            float d = g.getAtIndex(F, i) + wd * pi;
            if (mom) {
                d = first ? d : momentum * m.getAtIndex(F, i) + d;
                m.setAtIndex(F, i, d);
            }
            p.setAtIndex(F, i, pi - lr * d);
        }
    }

    /** p -= lr (g + wd p) over [i, end). */
    private static void sgdPlain(MemorySegment p, MemorySegment g, long i, long end, float lr, float wd) {
        for (; i < end; i += L) {
            FloatVector pi = load(p, i);
            FloatVector d = pi.mul(wd).add(load(g, i)); // g + wd p, two roundings as in the scalar form
            store(pi.sub(d.mul(lr)), p, i);
        }
    }

    /** The first step with momentum: buf = g + wd p, p -= lr buf. */
    private static void sgdFirst(MemorySegment p, MemorySegment g, MemorySegment m, long i, long end, float lr, float wd) {
        for (; i < end; i += L) {
            FloatVector pi = load(p, i);
            FloatVector d = pi.mul(wd).add(load(g, i));
            store(d, m, i);
            store(pi.sub(d.mul(lr)), p, i);
        }
    }

    /** Later steps: buf = mom buf + (g + wd p), p -= lr buf. */
    private static void sgdMomentum(MemorySegment p, MemorySegment g, MemorySegment m, long i, long end, float lr, float momentum, float wd) {
        for (; i < end; i += L) {
            FloatVector pi = load(p, i);
            FloatVector d = load(m, i).mul(momentum).add(pi.mul(wd).add(load(g, i)));
            store(d, m, i);
            store(pi.sub(d.mul(lr)), p, i);
        }
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

    static void addRelu(MemorySegment a, MemorySegment b, MemorySegment y, long n) {
        long i = 0;
        long bound = n - n % L;
        for (; i < bound; i += L) store(load(a, i).add(load(b, i)).max(0f), y, i);
        for (; i < n; i++) y.setAtIndex(F, i, Math.max(0f, a.getAtIndex(F, i) + b.getAtIndex(F, i)));
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

    /** Floats summed in float lanes before the partial sums go to double: keeps float rounding error small. */
    private static final int BLOCK = 256 * 16;

    /**
     * The batch-norm sums go to double once 256 floats (16 adds per lane) have gathered, across a channel's small
     * images or after each BLOCK of a large one: the sum of a BN input gradient is exactly zero in theory, and a conv
     * bias before the BN gets it as its gradient, so float error there shows up directly (PyTorch parity of
     * resnet50-caffe's conv biases).
     */
    private static final int FLUSH = 256;

    /**
     * acc[0] = sum(x - k), acc[1] = sum((x - k)^2) over the n pieces [off + b*stride, + len) of one channel: batch-norm
     * statistics in one read. The vector sums run across the pieces and go to double as {@link #FLUSH} says, so small
     * maps (7x7 planes) do not pay a flush per image and large ones never sum more than BLOCK floats in float.
     */
    static void shiftedSums(MemorySegment x, long off, long stride, int n, int len, float k, double[] acc) {
        int bound = len - len % L;
        double t1 = 0, t2 = 0;
        FloatVector s1 = FloatVector.zero(SP), s2 = FloatVector.zero(SP);
        int pending = 0;
        for (int b = 0; b < n; b++) {
            long o = off + b * stride;
            for (int blk = 0; blk < bound; blk += BLOCK) {
                int end = Math.min(blk + BLOCK, bound);
                for (int i = blk; i < end; i += L) {
                    FloatVector d = load(x, o + i).sub(k);
                    s1 = s1.add(d);
                    s2 = d.fma(d, s2);
                }
                pending += end - blk;
                if (end < bound) { // inside a large image: to double after each BLOCK
                    t1 += lanes(s1);
                    t2 += lanes(s2);
                    s1 = FloatVector.zero(SP);
                    s2 = FloatVector.zero(SP);
                    pending = 0;
                }
            }
            for (int i = bound; i < len; i++) {
                double d = x.getAtIndex(F, o + i) - k;
                t1 += d;
                t2 += d * d;
            }
            if (pending >= FLUSH || b == n - 1) { // to double now and then to keep float error small
                t1 += lanes(s1);
                t2 += lanes(s2);
                s1 = FloatVector.zero(SP);
                s2 = FloatVector.zero(SP);
                pending = 0;
            }
        }
        acc[0] = t1;
        acc[1] = t2;
    }

    /** y = (x - m) * a + b over [off, off+n), then max(0, .) if relu: subtracting first keeps precision when |m| >> |x - m|. */
    static void centeredAffine(MemorySegment x, MemorySegment y, long off, long n, float m, float a, float b, boolean relu) {
        long i = 0;
        long bound = n - n % L;
        if (relu) for (; i < bound; i += L) store(load(x, off + i).sub(m).fma(a, b).max(0f), y, off + i);
        else for (; i < bound; i += L) store(load(x, off + i).sub(m).fma(a, b), y, off + i);
        for (; i < n; i++) {
            float v = (x.getAtIndex(F, off + i) - m) * a + b;
            y.setAtIndex(F, off + i, relu ? Math.max(0f, v) : v);
        }
    }

    /** dx = g * a + (x - m) * b + c over [off, off+n), g as in {@link #gradSums} (batch-norm backward in one pass). */
    static void bnBackward(MemorySegment dy, MemorySegment y, MemorySegment x, MemorySegment dx, long off, long n,
                           float m, float a, float b, float c) {
        long i = 0;
        long bound = n - n % L;
        FloatVector zero = FloatVector.zero(SP);
        if (y == null) {
            for (; i < bound; i += L) store(load(dy, off + i).mul(a).add(load(x, off + i).sub(m).fma(b, c)), dx, off + i);
        } else {
            for (; i < bound; i += L) {
                FloatVector g = zero.blend(load(dy, off + i), load(y, off + i).compare(VectorOperators.GT, 0f));
                store(g.mul(a).add(load(x, off + i).sub(m).fma(b, c)), dx, off + i);
            }
        }
        for (; i < n; i++) {
            float g = y != null && !(y.getAtIndex(F, off + i) > 0f) ? 0f : dy.getAtIndex(F, off + i);
            dx.setAtIndex(F, off + i, g * a + (x.getAtIndex(F, off + i) - m) * b + c);
        }
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
        long bound = n - n % L;
        double total = 0;
        for (long blk = 0; blk < bound; blk += BLOCK) {
            long end = Math.min(blk + BLOCK, bound);
            FloatVector acc = FloatVector.zero(SP);
            for (long i = blk; i < end; i += L) acc = acc.add(load(s, off + i));
            total += lanes(acc);
        }
        for (long i = bound; i < n; i++) total += s.getAtIndex(F, off + i);
        return total;
    }

    static double dot(MemorySegment a, MemorySegment b, long off, long n) {
        long bound = n - n % L;
        double total = 0;
        for (long blk = 0; blk < bound; blk += BLOCK) {
            long end = Math.min(blk + BLOCK, bound);
            FloatVector acc = FloatVector.zero(SP);
            for (long i = blk; i < end; i += L) acc = load(a, off + i).fma(load(b, off + i), acc);
            total += lanes(acc);
        }
        for (long i = bound; i < n; i++) total += (double) a.getAtIndex(F, off + i) * b.getAtIndex(F, off + i);
        return total;
    }

    static void channelAffine(MemorySegment x, MemorySegment scale, MemorySegment shift, MemorySegment y, int n, int c, int hw,
                              boolean relu) {
        Parallel.forRange(n * c, hw, nc -> {
            int ch = nc % c;
            float a = scale.getAtIndex(F, ch), b = shift == null ? 0f : shift.getAtIndex(F, ch);
            long base = (long) nc * hw;
            long i = 0;
            long bound = hw - hw % L;
            if (relu) for (; i < bound; i += L) store(load(x, base + i).fma(a, b).max(0f), y, base + i);
            else for (; i < bound; i += L) store(load(x, base + i).fma(a, b), y, base + i);
            for (; i < hw; i++) {
                float v = x.getAtIndex(F, base + i) * a + b;
                y.setAtIndex(F, base + i, relu ? Math.max(0f, v) : v);
            }
        });
    }

    /**
     * One read of a channel's gradient, over the n pieces [off + b*stride, + len): g = dy, or dy where y > 0 when the
     * ReLU output y is given (BN fused with its ReLU). If dx is not null, dx = g * a (frozen BN's input gradient);
     * with sums, acc = {sum g, sum g * (x - m)} (train-mode BN backward with m its mean, frozen BN's dgamma / dbeta
     * with m = 0). Float lanes go to double as {@link #FLUSH} says.
     */
    static void gradSums(MemorySegment dy, MemorySegment y, MemorySegment x, MemorySegment dx, long off, long stride,
                         int n, int len, float m, float a, boolean sums, double[] acc) {
        int bound = len - len % L;
        double t1 = 0, t2 = 0;
        FloatVector zero = FloatVector.zero(SP), s1 = zero, s2 = zero;
        int pending = 0;
        for (int b = 0; b < n; b++) {
            long o = off + b * stride;
            for (int blk = 0; blk < bound; blk += BLOCK) {
                int end = Math.min(blk + BLOCK, bound);
                for (int i = blk; i < end; i += L) {
                    FloatVector g = load(dy, o + i);
                    if (y != null) g = zero.blend(g, load(y, o + i).compare(VectorOperators.GT, 0f));
                    if (dx != null) store(g.mul(a), dx, o + i);
                    if (sums) {
                        s1 = s1.add(g);
                        s2 = g.fma(load(x, o + i).sub(m), s2);
                    }
                }
                pending += end - blk;
                if (sums && end < bound) { // inside a large image: to double after each BLOCK
                    t1 += lanes(s1);
                    t2 += lanes(s2);
                    s1 = zero;
                    s2 = zero;
                    pending = 0;
                }
            }
            for (int i = bound; i < len; i++) {
                float g = y != null && !(y.getAtIndex(F, o + i) > 0f) ? 0f : dy.getAtIndex(F, o + i);
                if (dx != null) dx.setAtIndex(F, o + i, g * a);
                t1 += g;
                t2 += (double) g * (x.getAtIndex(F, o + i) - m);
            }
            if (sums && (pending >= FLUSH || b == n - 1)) {
                t1 += lanes(s1);
                t2 += lanes(s2);
                s1 = zero;
                s2 = zero;
                pending = 0;
            }
        }
        acc[0] = t1;
        acc[1] = t2;
    }

    /** body(image, first position, end position) over pieces of at most 1,024 positions of an N x C x HW tensor. */
    private interface Positions { void run(int b, int p0, int p1); }

    /** Per-position work over (image, run of positions) pieces, so that one large image still uses both cores. */
    private static void overPositions(int n, int c, int hw, Positions body) {
        int rows = (hw + 1023) / 1024;
        Parallel.forRange(n * rows, (long) c * Math.min(hw, 1024), piece -> {
            int p0 = (piece % rows) * 1024;
            body.run(piece / rows, p0, Math.min(hw, p0 + 1024));
        });
    }

    static void softmax(MemorySegment x, MemorySegment y, int n, int c, int hw) {
        overPositions(n, c, hw, (b, p0, p1) -> {
            long base = (long) b * c * hw;
            for (int p = p0; p < p1; p++) {
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
        overPositions(n, c, hw, (b, p0, p1) -> {
            long base = (long) b * c * hw;
            for (int p = p0; p < p1; p++) {
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
