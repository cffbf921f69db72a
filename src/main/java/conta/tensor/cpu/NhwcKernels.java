package conta.tensor.cpu;

import static conta.tensor.cpu.BlockedKernels.S;
import static conta.tensor.cpu.BlockedKernels.load;
import static conta.tensor.cpu.BlockedKernels.store;
import static conta.tensor.cpu.CpuBackend.F;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The batch-norm passes of {@link BlockedKernels} for activations held in NHWC ({@link Blocked#nhwc()}: bf16 training
 * on AMX hosts), walking positions in memory order: at every position the C channels are contiguous, so each pass reads
 * and writes whole cache lines in order, with the per-channel constants and running sums in C-float arrays that stay in
 * L1. (BlockedKernels' walk, one 16-channel block at a time, would read NHWC C*2 bytes apart, half a cache line each:
 * the batch norms of a ResNet-50 step took 2.5-3.5x their nChw16c time that way.) The formulas are BlockedKernels';
 * per-channel float sums go to double every {@link #FLUSH} positions, per position range; ranges are summed in order,
 * so a machine repeats its sums bit for bit. One loop per method, and one lambda per loop method (see
 * BlockedKernels.backward: C2's node-count cutoff).
 */
final class NhwcKernels {
    private NhwcKernels() { }

    private static final int L = S.length();
    private static final int FLUSH = 256;

    /** Position ranges of a pass over m positions: about two per core (one where the pass is small). */
    private static int ranges(long m, int c) { return m * c < Parallel.CHUNK_MIN ? 1 : (int) Math.min(m, 2L * Parallel.THREADS); }

    private static long from(long m, int ranges, int r) { return m * r / ranges; }

    private interface Range { void run(long p0, long p1); }

    /** body over every position range of b, in parallel. */
    private static void positions(Blocked b, Range body) {
        long m = (long) b.n() * b.hw();
        int r = ranges(m, b.c());
        Parallel.forRange(r, m / r * b.c(), k -> body.run(from(m, r, k), from(m, r, k + 1)));
    }

    private interface Sums { void run(long p0, long p1, double[] t1, double[] t2); }

    /** Per-channel sums {t1[C], t2[C]}: body per position range into its own arrays, then the ranges added in order. */
    private static double[][] sums(Blocked b, Sums body) {
        long m = (long) b.n() * b.hw();
        int r = ranges(m, b.c()), c = b.c();
        double[][] p1 = new double[r][c], p2 = new double[r][c];
        Parallel.forRange(r, m / r * c, k -> body.run(from(m, r, k), from(m, r, k + 1), p1[k], p2[k]));
        double[][] t = new double[2][c];
        for (int k = 0; k < r; k++)
            for (int j = 0; j < c; j++) {
                t[0][j] += p1[k][j];
                t[1][j] += p2[k][j];
            }
        return t;
    }

    /** Adds the float sums into the double ones and clears them. */
    private static void flush(float[] s1, float[] s2, double[] t1, double[] t2) {
        for (int j = 0; j < s1.length; j++) {
            t1[j] += s1[j];
            t2[j] += s2[j];
            s1[j] = 0f;
            s2[j] = 0f;
        }
    }

    private static FloatVector at(float[] a, int j) { return FloatVector.fromArray(S, a, j); }

    // ------------------------------------------------------------------ batch norm with batch statistics

    /** As {@link BlockedKernels#train}: shifted sums (k = each channel's first value), then y = (x - mean) * a + beta. */
    static void train(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runMean, MemorySegment runVar,
                      float momentum, float eps, MemorySegment y, MemorySegment saveMean, MemorySegment saveInvStd, Blocked b,
                      boolean relu) {
        int c = b.c();
        boolean h = b.half();
        long m = (long) b.n() * b.hw();
        float[] k = new float[c];
        for (int j = 0; j < c; j++) k[j] = BlockedKernels.get(x, j, h);
        double[][] t = sums(b, (p0, p1, t1, t2) -> shiftedSums(x, p0, p1, c, k, t1, t2, h));
        float[] mean = new float[c], a = new float[c], bb = new float[c];
        for (int j = 0; j < c; j++) {
            double[] meanInv = Norm.statistics(j, k[j], t[0][j], t[1][j], m, momentum, eps, saveMean, saveInvStd, runMean, runVar);
            mean[j] = (float) meanInv[0];
            a[j] = (float) (gamma.getAtIndex(F, j) * meanInv[1]);
            bb[j] = beta.getAtIndex(F, j);
        }
        if (relu) positions(b, (p0, p1) -> normalizeRelu(x, y, p0, p1, c, mean, a, bb, h));
        else positions(b, (p0, p1) -> normalizeOnly(x, y, p0, p1, c, mean, a, bb, h));
    }

    private static void shiftedSums(MemorySegment x, long p0, long p1, int c, float[] k, double[] t1, double[] t2, boolean h) {
        float[] s1 = new float[c], s2 = new float[c];
        int pending = 0;
        for (long p = p0; p < p1; p++) {
            long o = p * c;
            for (int j = 0; j < c; j += L) {
                FloatVector d = load(x, o + j, h).sub(at(k, j));
                at(s1, j).add(d).intoArray(s1, j);
                d.fma(d, at(s2, j)).intoArray(s2, j);
            }
            if (++pending == FLUSH) {
                flush(s1, s2, t1, t2);
                pending = 0;
            }
        }
        flush(s1, s2, t1, t2);
    }

    private static void normalizeRelu(MemorySegment x, MemorySegment y, long p0, long p1, int c, float[] m, float[] a, float[] bb, boolean h) {
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L) store(load(x, o + j, h).sub(at(m, j)).fma(at(a, j), at(bb, j)).max(0f), y, o + j, h);
    }

    private static void normalizeOnly(MemorySegment x, MemorySegment y, long p0, long p1, int c, float[] m, float[] a, float[] bb, boolean h) {
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L) store(load(x, o + j, h).sub(at(m, j)).fma(at(a, j), at(bb, j)), y, o + j, h);
    }

    /** As {@link BlockedKernels#backward} (y: the fused ReLU's output, or null). */
    static void backward(MemorySegment x, MemorySegment gamma, MemorySegment y, MemorySegment dy, MemorySegment saveMean,
                         MemorySegment saveInvStd, MemorySegment dx, MemorySegment dgamma, MemorySegment dbeta, Blocked b) {
        int c = b.c();
        boolean h = b.half();
        long m = (long) b.n() * b.hw();
        float[] mean = new float[c];
        for (int j = 0; j < c; j++) mean[j] = saveMean.getAtIndex(F, j);
        double[][] t = gradSums(dy, y, x, mean, b);
        float[] a = new float[c], bx = new float[c], cc = new float[c];
        for (int j = 0; j < c; j++) {
            float inv = saveInvStd.getAtIndex(F, j);
            double sdy = t[0][j], sdyxhat = t[1][j] * inv;
            if (dgamma != null) dgamma.setAtIndex(F, j, (float) (dgamma.getAtIndex(F, j) + sdyxhat));
            if (dbeta != null) dbeta.setAtIndex(F, j, (float) (dbeta.getAtIndex(F, j) + sdy));
            double kk = gamma.getAtIndex(F, j) * inv / m;
            a[j] = (float) (kk * m);
            bx[j] = (float) (-kk * inv * sdyxhat);
            cc[j] = (float) (-kk * sdy);
        }
        if (dx == null) return;
        if (y == null) positions(b, (p0, p1) -> inputGradOnly(x, dy, dx, p0, p1, c, mean, a, bx, cc, h));
        else positions(b, (p0, p1) -> inputGradMasked(x, y, dy, dx, p0, p1, c, mean, a, bx, cc, h));
    }

    /** t1 = sum g, t2 = sum g * (x - m) per channel, g = dy, or dy where y > 0 (y not null). */
    private static double[][] gradSums(MemorySegment dy, MemorySegment y, MemorySegment x, float[] m, Blocked b) {
        int c = b.c();
        boolean h = b.half();
        return y == null ? sums(b, (p0, p1, t1, t2) -> sumsOnly(dy, x, p0, p1, c, m, t1, t2, h))
                : sums(b, (p0, p1, t1, t2) -> sumsMasked(dy, y, x, p0, p1, c, m, t1, t2, h));
    }

    private static void sumsOnly(MemorySegment dy, MemorySegment x, long p0, long p1, int c, float[] m, double[] t1, double[] t2, boolean h) {
        float[] s1 = new float[c], s2 = new float[c];
        int pending = 0;
        for (long p = p0; p < p1; p++) {
            long o = p * c;
            for (int j = 0; j < c; j += L) {
                FloatVector g = load(dy, o + j, h);
                at(s1, j).add(g).intoArray(s1, j);
                g.fma(load(x, o + j, h).sub(at(m, j)), at(s2, j)).intoArray(s2, j);
            }
            if (++pending == FLUSH) {
                flush(s1, s2, t1, t2);
                pending = 0;
            }
        }
        flush(s1, s2, t1, t2);
    }

    private static void sumsMasked(MemorySegment dy, MemorySegment y, MemorySegment x, long p0, long p1, int c, float[] m,
                                   double[] t1, double[] t2, boolean h) {
        float[] s1 = new float[c], s2 = new float[c];
        FloatVector zero = FloatVector.zero(S);
        int pending = 0;
        for (long p = p0; p < p1; p++) {
            long o = p * c;
            for (int j = 0; j < c; j += L) {
                FloatVector g = zero.blend(load(dy, o + j, h), load(y, o + j, h).compare(VectorOperators.GT, 0f));
                at(s1, j).add(g).intoArray(s1, j);
                g.fma(load(x, o + j, h).sub(at(m, j)), at(s2, j)).intoArray(s2, j);
            }
            if (++pending == FLUSH) {
                flush(s1, s2, t1, t2);
                pending = 0;
            }
        }
        flush(s1, s2, t1, t2);
    }

    private static void inputGradOnly(MemorySegment x, MemorySegment dy, MemorySegment dx, long p0, long p1, int c,
                                      float[] m, float[] a, float[] bx, float[] cc, boolean h) {
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L)
                store(load(dy, o + j, h).mul(at(a, j)).add(load(x, o + j, h).sub(at(m, j)).fma(at(bx, j), at(cc, j))), dx, o + j, h);
    }

    private static void inputGradMasked(MemorySegment x, MemorySegment y, MemorySegment dy, MemorySegment dx, long p0, long p1, int c,
                                        float[] m, float[] a, float[] bx, float[] cc, boolean h) {
        FloatVector zero = FloatVector.zero(S);
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L) {
                FloatVector g = zero.blend(load(dy, o + j, h), load(y, o + j, h).compare(VectorOperators.GT, 0f));
                store(g.mul(at(a, j)).add(load(x, o + j, h).sub(at(m, j)).fma(at(bx, j), at(cc, j))), dx, o + j, h);
            }
    }

    // ------------------------------------------------------------------ frozen batch norm and channel sums

    /** As {@link BlockedKernels#affine}: y = x * scale[c] + shift[c] (shift may be null), then max(0, .) if relu. */
    static void affine(MemorySegment x, MemorySegment scale, MemorySegment shift, MemorySegment y, Blocked b, boolean relu) {
        int c = b.c();
        boolean h = b.half();
        float[] a = channels(scale, c), s = channels(shift, c);
        if (relu) positions(b, (p0, p1) -> affineRelu(x, y, p0, p1, c, a, s, h));
        else positions(b, (p0, p1) -> affineOnly(x, y, p0, p1, c, a, s, h));
    }

    /** A [C] f32 tensor's values (zeros where it is null). */
    private static float[] channels(MemorySegment t, int c) {
        float[] v = new float[c];
        if (t != null) for (int j = 0; j < c; j++) v[j] = t.getAtIndex(F, j);
        return v;
    }

    private static void affineRelu(MemorySegment x, MemorySegment y, long p0, long p1, int c, float[] a, float[] s, boolean h) {
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L) store(load(x, o + j, h).fma(at(a, j), at(s, j)).max(0f), y, o + j, h);
    }

    private static void affineOnly(MemorySegment x, MemorySegment y, long p0, long p1, int c, float[] a, float[] s, boolean h) {
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L) store(load(x, o + j, h).fma(at(a, j), at(s, j)), y, o + j, h);
    }

    /**
     * As {@link BlockedKernels#affineBackward}: g = dy, or dy where y > 0 (y not null); dx = g * scale (dx not null);
     * sumG = sum g, sumGX = sum g * x per channel (each if not null).
     */
    static void affineBackward(MemorySegment x, MemorySegment y, MemorySegment dy, MemorySegment scale, MemorySegment dx,
                               MemorySegment sumG, MemorySegment sumGX, Blocked b) {
        int c = b.c();
        boolean h = b.half();
        if (sumG != null || sumGX != null) {
            double[][] t = gradSums(dy, y, x, new float[c], b);
            for (int j = 0; j < c; j++) {
                if (sumG != null) sumG.setAtIndex(F, j, (float) t[0][j]);
                if (sumGX != null) sumGX.setAtIndex(F, j, (float) t[1][j]);
            }
        }
        if (dx == null) return;
        float[] a = channels(scale, c);
        if (y == null) positions(b, (p0, p1) -> scaleOnly(dy, dx, p0, p1, c, a, h));
        else positions(b, (p0, p1) -> scaleMasked(dy, y, dx, p0, p1, c, a, h));
    }

    private static void scaleOnly(MemorySegment dy, MemorySegment dx, long p0, long p1, int c, float[] a, boolean h) {
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L) store(load(dy, o + j, h).mul(at(a, j)), dx, o + j, h);
    }

    private static void scaleMasked(MemorySegment dy, MemorySegment y, MemorySegment dx, long p0, long p1, int c, float[] a, boolean h) {
        FloatVector zero = FloatVector.zero(S);
        for (long o = p0 * c, end = p1 * c; o < end; o += c)
            for (int j = 0; j < c; j += L)
                store(zero.blend(load(dy, o + j, h), load(y, o + j, h).compare(VectorOperators.GT, 0f)).mul(at(a, j)), dx, o + j, h);
    }

    /** As {@link BlockedKernels#channelDot}: out[c] (+)= sum of a (b null) or of a * b per channel. */
    static void channelDot(MemorySegment a, MemorySegment b, MemorySegment out, boolean accumulate, Blocked l) {
        double[][] t = gradSums(a, null, b == null ? a : b, new float[l.c()], l);
        double[] s = b == null ? t[0] : t[1];
        for (int j = 0; j < l.c(); j++) out.setAtIndex(F, j, (float) (accumulate ? out.getAtIndex(F, j) + s[j] : s[j]));
    }
}
