package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The passes between convolutions on nChw16c or NHWC tensors ({@link Blocked}; the batch norms and channel sums of NHWC
 * are {@link NhwcKernels}', which walk it in memory order): batch norm and frozen batch norm with their
 * backward passes, channel sums, max pooling and the bf16 elementwise ops. They are the twins of {@link Norm},
 * {@link Elementwise}, {@link Pool} and {@link CpuBackend#channelAffineBackward} for the plain layout, with the same
 * per-element formulas (sums differ in their order; the plain kernels' scalar tails round the multiply-add twice). In both
 * layouts 16 channels sit side by side at every position, so one vector holds one position of a channel block and the
 * per-channel constants are vectors; sums are split over (channel block, image range) pieces (see {@link #ranges}),
 * elementwise passes over (image, block) pairs. Per-lane float sums go to double every {@link #FLUSH} positions, as
 * the plain kernels flush every 256 adds per lane.
 * With AVX-512 a position is one vector; narrower vectors (V of them) walk the block's positions once per vector
 * (v outermost), so that every vector lives in a local: vectors kept in arrays are boxed, several times slower.
 *
 * <p>Every kernel reads and writes f32 or bfloat16 values as the layout says ({@link Blocked#half}); arithmetic and
 * sums are f32 / double either way, and bf16 results are rounded to nearest even (NaN stays NaN), as oneDNN rounds.
 */
final class BlockedKernels {
    private BlockedKernels() { }

    static final VectorSpecies<Float> S = CpuBackend.SP.length() <= Blocked.LANES ? CpuBackend.SP : FloatVector.SPECIES_128;
    private static final int L = S.length();
    /** Vectors per position of a block (1 with AVX-512, 2 with AVX2). */
    private static final int V = Blocked.LANES / L;
    private static final int FLUSH = 256;

    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> HS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** L values from element i: f32, or bf16 widened (a bf16 value is the top half of an f32). */
    static FloatVector load(MemorySegment s, long i, boolean half) {
        if (!half) return FloatVector.fromMemorySegment(S, s, i * 4, ORDER);
        ShortVector h = ShortVector.fromMemorySegment(HS, s, i * 2, ORDER);
        return ((IntVector) h.convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Stores L values at element i: f32, or bf16 rounded to nearest even (NaN to the quiet NaN 0x7fc0). */
    static void store(FloatVector v, MemorySegment s, long i, boolean half) {
        if (!half) { v.intoMemorySegment(s, i * 4, ORDER); return; }
        IntVector bits = v.reinterpretAsInts();
        IntVector r = bits.add(bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7FFF)).lanewise(VectorOperators.LSHR, 16);
        r = r.blend(0x7FC0, v.test(VectorOperators.IS_NAN).cast(IS));
        ((ShortVector) r.convertShape(VectorOperators.I2S, HS, 0)).intoMemorySegment(s, i * 2, ORDER);
    }

    /** One value at element i. */
    static float get(MemorySegment s, long i, boolean half) {
        return half ? Float.intBitsToFloat((s.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xFFFF) << 16) : s.getAtIndex(F, i);
    }

    /** Per-channel constants ([C] f32 tensors): always f32. */
    private static FloatVector load(MemorySegment s, long i) { return FloatVector.fromMemorySegment(S, s, i * 4, ORDER); }

    private static FloatVector constant(MemorySegment s, int cb, int v) {
        return s == null ? FloatVector.zero(S) : load(s, (long) cb * Blocked.LANES + v * L);
    }


    /** Offset of (image i, block cb, position 0, vector v) in floats; the block's positions are b.step() apart. */
    private static long base(Blocked b, int i, int cb, int v) { return b.at(i, cb, 0) + v * L; }

    /** y = x * scale[c] + shift[c] (shift may be null), then max(0, .) if relu: frozen batch norm. */
    static void affine(MemorySegment x, MemorySegment scale, MemorySegment shift, MemorySegment y, Blocked b, boolean relu) {
        if (b.nhwc()) { NhwcKernels.affine(x, scale, shift, y, b, relu); return; }
        int cbs = b.blocks(), hw = b.hw(), step = b.step();
        long run = (long) hw * step;
        boolean h = b.half();
        // one lambda per loop method (see backward: C2's node-count cutoff)
        if (relu)
            Parallel.forRange(b.n() * cbs, (long) hw * Blocked.LANES, piece -> {
                int cb = piece % cbs;
                for (int v = 0; v < V; v++) {
                    long o = base(b, piece / cbs, cb, v);
                    affineRelu(x, y, o, o + run, step, constant(scale, cb, v), constant(shift, cb, v), h);
                }
            });
        else
            Parallel.forRange(b.n() * cbs, (long) hw * Blocked.LANES, piece -> {
                int cb = piece % cbs;
                for (int v = 0; v < V; v++) {
                    long o = base(b, piece / cbs, cb, v);
                    affineOnly(x, y, o, o + run, step, constant(scale, cb, v), constant(shift, cb, v), h);
                }
            });
    }

    /*
     * One loop per method, with and without the ReLU: with both loops in one method, C2 compiled the first one used
     * (the stem's, with ReLU) with load and store inlined, and later, seeing the second loop rarely in the profile it
     * had then, called them out of line ("already compiled into a medium method"): every vector of that loop was
     * boxed, ~2 GB/s of garbage and several times the time for the batch norms without ReLU (bench/RESULTS.md,
     * session 18).
     */
    private static void affineRelu(MemorySegment x, MemorySegment y, long o, long end, int step, FloatVector a, FloatVector s, boolean h) {
        for (; o < end; o += step) store(load(x, o, h).fma(a, s).max(0f), y, o, h);
    }

    private static void affineOnly(MemorySegment x, MemorySegment y, long o, long end, int step, FloatVector a, FloatVector s, boolean h) {
        for (; o < end; o += step) store(load(x, o, h).fma(a, s), y, o, h);
    }


    // ------------------------------------------------------------------ per-channel sums over (block, images) pieces

    /**
     * Image ranges per channel block for the summing passes: with few blocks (narrow layers, or many cores) one block
     * per task would leave cores idle, so each block's images are split too, into as many ranges as make about two
     * pieces per core. Partial sums are combined in range order: the result depends on this split (the machine's
     * core count, as oneDNN's own kernels do), never on which thread ran which piece, so runs on one machine repeat
     * bit for bit (resume).
     */
    private static int ranges(Blocked b) {
        return Math.max(1, Math.min(b.n(), (2 * Parallel.THREADS + b.blocks() - 1) / b.blocks()));
    }

    private interface Sums { void run(int cb, int i0, int i1, double[] t1, double[] t2); }

    /** Runs body over every (block, image range) piece and returns the per-block sums {t1[cb][16], t2[cb][16]}. */
    private static double[][][] sums(Blocked b, Sums body) {
        int r = ranges(b), pieces = b.blocks() * r;
        double[][] p1 = new double[pieces][Blocked.LANES], p2 = new double[pieces][Blocked.LANES];
        Parallel.forRange(pieces, (long) b.n() / r * b.hw() * Blocked.LANES, p -> {
            int cb = p / r, k = p % r;
            body.run(cb, (int) ((long) k * b.n() / r), (int) ((long) (k + 1) * b.n() / r), p1[p], p2[p]);
        });
        double[][][] t = new double[2][b.blocks()][Blocked.LANES];
        for (int p = 0; p < pieces; p++)
            for (int j = 0; j < Blocked.LANES; j++) {
                t[0][p / r][j] += p1[p][j];
                t[1][p / r][j] += p2[p][j];
            }
        return t;
    }

    /**
     * Per-lane t1 += sum g, t2 += sum g * (x - m) over vector v of block cb in images [i0, i1), g = dy (masked by
     * y > 0 when y is given); with dx, also dx = g * a. The sums only when t1 is not null. Each case runs its own loop
     * method, none of which tests a flag inside its loop (see the note above affineRelu: a load or store behind a
     * branch that was rare when C2 compiled the method was called out of line, and its vectors boxed).
     */
    private static void gradSums(MemorySegment dy, MemorySegment y, MemorySegment x, MemorySegment dx, Blocked b, int cb, int v,
                                 int i0, int i1, FloatVector m, FloatVector a, double[] t1, double[] t2) {
        if (t1 != null) {
            if (y == null) sums(dy, x, b, cb, v, i0, i1, m, t1, t2);
            else sumsMasked(dy, y, x, b, cb, v, i0, i1, m, t1, t2);
        }
        if (dx != null)
            for (int i = i0; i < i1; i++) {
                long o = base(b, i, cb, v), end = o + (long) b.hw() * b.step();
                if (y == null) scale(dy, dx, o, end, b.step(), a, b.half());
                else scaleMasked(dy, y, dx, o, end, b.step(), a, b.half());
            }
    }

    /** t1 += sum dy, t2 += sum dy * (x - m) per lane (see gradSums). */
    private static void sums(MemorySegment dy, MemorySegment x, Blocked b, int cb, int v, int i0, int i1, FloatVector m,
                             double[] t1, double[] t2) {
        boolean h = b.half();
        int step = b.step();
        FloatVector zero = FloatVector.zero(S), s1 = zero, s2 = zero;
        DoubleVector lo1 = DoubleVector.fromArray(DS, t1, v * L), hi1 = DoubleVector.fromArray(DS, t1, v * L + L / 2);
        DoubleVector lo2 = DoubleVector.fromArray(DS, t2, v * L), hi2 = DoubleVector.fromArray(DS, t2, v * L + L / 2);
        int pending = 0;
        for (int i = i0; i < i1; i++) {
            long o = base(b, i, cb, v), end = o + (long) b.hw() * step;
            for (; o < end; o += step) {
                FloatVector g = load(dy, o, h);
                s1 = s1.add(g);
                s2 = g.fma(load(x, o, h).sub(m), s2);
                if (++pending == FLUSH) { // to double in vector lanes: the same adds, lane by lane, as a flush into t1, t2
                    lo1 = lo1.add(s1.convertShape(VectorOperators.F2D, DS, 0));
                    hi1 = hi1.add(s1.convertShape(VectorOperators.F2D, DS, 1));
                    lo2 = lo2.add(s2.convertShape(VectorOperators.F2D, DS, 0));
                    hi2 = hi2.add(s2.convertShape(VectorOperators.F2D, DS, 1));
                    s1 = zero;
                    s2 = zero;
                    pending = 0;
                }
            }
        }
        lo1 = lo1.add(s1.convertShape(VectorOperators.F2D, DS, 0));
        hi1 = hi1.add(s1.convertShape(VectorOperators.F2D, DS, 1));
        lo2 = lo2.add(s2.convertShape(VectorOperators.F2D, DS, 0));
        hi2 = hi2.add(s2.convertShape(VectorOperators.F2D, DS, 1));
        lo1.intoArray(t1, v * L);
        hi1.intoArray(t1, v * L + L / 2);
        lo2.intoArray(t2, v * L);
        hi2.intoArray(t2, v * L + L / 2);
    }

    /** The same with g = dy where y > 0, else 0 (the gradient through a fused ReLU whose output is y). */
    private static void sumsMasked(MemorySegment dy, MemorySegment y, MemorySegment x, Blocked b, int cb, int v, int i0, int i1,
                                   FloatVector m, double[] t1, double[] t2) {
        boolean h = b.half();
        int step = b.step();
        FloatVector zero = FloatVector.zero(S), s1 = zero, s2 = zero;
        DoubleVector lo1 = DoubleVector.fromArray(DS, t1, v * L), hi1 = DoubleVector.fromArray(DS, t1, v * L + L / 2);
        DoubleVector lo2 = DoubleVector.fromArray(DS, t2, v * L), hi2 = DoubleVector.fromArray(DS, t2, v * L + L / 2);
        int pending = 0;
        for (int i = i0; i < i1; i++) {
            long o = base(b, i, cb, v), end = o + (long) b.hw() * step;
            for (; o < end; o += step) {
                FloatVector g = zero.blend(load(dy, o, h), load(y, o, h).compare(VectorOperators.GT, 0f));
                s1 = s1.add(g);
                s2 = g.fma(load(x, o, h).sub(m), s2);
                if (++pending == FLUSH) { // to double in vector lanes: the same adds, lane by lane, as a flush into t1, t2
                    lo1 = lo1.add(s1.convertShape(VectorOperators.F2D, DS, 0));
                    hi1 = hi1.add(s1.convertShape(VectorOperators.F2D, DS, 1));
                    lo2 = lo2.add(s2.convertShape(VectorOperators.F2D, DS, 0));
                    hi2 = hi2.add(s2.convertShape(VectorOperators.F2D, DS, 1));
                    s1 = zero;
                    s2 = zero;
                    pending = 0;
                }
            }
        }
        lo1 = lo1.add(s1.convertShape(VectorOperators.F2D, DS, 0));
        hi1 = hi1.add(s1.convertShape(VectorOperators.F2D, DS, 1));
        lo2 = lo2.add(s2.convertShape(VectorOperators.F2D, DS, 0));
        hi2 = hi2.add(s2.convertShape(VectorOperators.F2D, DS, 1));
        lo1.intoArray(t1, v * L);
        hi1.intoArray(t1, v * L + L / 2);
        lo2.intoArray(t2, v * L);
        hi2.intoArray(t2, v * L + L / 2);
    }

    /** dx = dy * a over [o, end). */
    private static void scale(MemorySegment dy, MemorySegment dx, long o, long end, int step, FloatVector a, boolean h) {
        for (; o < end; o += step) store(load(dy, o, h).mul(a), dx, o, h);
    }

    /** dx = (dy where y > 0, else 0) * a over [o, end). */
    private static void scaleMasked(MemorySegment dy, MemorySegment y, MemorySegment dx, long o, long end, int step, FloatVector a, boolean h) {
        FloatVector zero = FloatVector.zero(S);
        for (; o < end; o += step) store(zero.blend(load(dy, o, h), load(y, o, h).compare(VectorOperators.GT, 0f)).mul(a), dx, o, h);
    }

    /**
     * Frozen batch norm's backward (see Backend.channelAffineBackward): g = dy, or dy where y > 0 (y not null);
     * dx = g * scale (dx not null); sumG = sum g, sumGX = sum g * x per channel (each if not null).
     */
    static void affineBackward(MemorySegment x, MemorySegment y, MemorySegment dy, MemorySegment scale, MemorySegment dx,
                               MemorySegment sumG, MemorySegment sumGX, Blocked b) {
        if (b.nhwc()) { NhwcKernels.affineBackward(x, y, dy, scale, dx, sumG, sumGX, b); return; }
        boolean sums = sumG != null || sumGX != null;
        double[][][] t = sums(b, (cb, i0, i1, t1, t2) -> {
            for (int v = 0; v < V; v++)
                gradSums(dy, y, x, dx, b, cb, v, i0, i1, FloatVector.zero(S), constant(scale, cb, v), sums ? t1 : null, t2);
        });
        if (!sums) return;
        for (int ch = 0; ch < b.c(); ch++) {
            if (sumG != null) sumG.setAtIndex(F, ch, (float) t[0][ch / Blocked.LANES][ch % Blocked.LANES]);
            if (sumGX != null) sumGX.setAtIndex(F, ch, (float) t[1][ch / Blocked.LANES][ch % Blocked.LANES]);
        }
    }

    /** Batch norm with batch statistics, as {@link Norm#train}: shifted one-pass sums, then y = (x - mean) * a + beta. */
    static void train(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runMean, MemorySegment runVar,
                      float momentum, float eps, MemorySegment y, MemorySegment saveMean, MemorySegment saveInvStd, Blocked b,
                      boolean relu) {
        if (b.nhwc()) { NhwcKernels.train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, b, relu); return; }
        long m = (long) b.n() * b.hw();
        // the shift k: each channel's first value (see Norm.train), the same for every piece of its block
        double[][][] t = sums(b, (cb, i0, i1, t1, t2) -> {
            for (int v = 0; v < V; v++) shiftedSums(x, b, cb, v, i0, i1, load(x, base(b, 0, cb, v), b.half()), t1, t2);
        });
        float[] mean = new float[b.c()], a = new float[b.c()], bb = new float[b.c()];
        for (int ch = 0; ch < b.c(); ch++) {
            int cb = ch / Blocked.LANES, j = ch % Blocked.LANES;
            float k = get(x, base(b, 0, cb, 0) + j, b.half());
            double[] meanInv = Norm.statistics(ch, k, t[0][cb][j], t[1][cb][j], m, momentum, eps, saveMean, saveInvStd, runMean, runVar);
            mean[ch] = (float) meanInv[0];
            a[ch] = (float) (gamma.getAtIndex(F, ch) * meanInv[1]);
            bb[ch] = beta.getAtIndex(F, ch);
        }
        int cbs = b.blocks(), step = b.step();
        long run = (long) b.hw() * step;
        boolean h = b.half();
        // one lambda per loop method, as in backward (C2's node-count cutoff)
        if (relu)
            Parallel.forRange(b.n() * cbs, (long) b.hw() * Blocked.LANES, piece -> {
                int cb = piece % cbs, i = piece / cbs;
                for (int v = 0; v < V; v++) {
                    int at = cb * Blocked.LANES + v * L;
                    long o = base(b, i, cb, v);
                    normalizeRelu(x, y, o, o + run, step, FloatVector.fromArray(S, mean, at), FloatVector.fromArray(S, a, at),
                            FloatVector.fromArray(S, bb, at), h);
                }
            });
        else
            Parallel.forRange(b.n() * cbs, (long) b.hw() * Blocked.LANES, piece -> {
                int cb = piece % cbs, i = piece / cbs;
                for (int v = 0; v < V; v++) {
                    int at = cb * Blocked.LANES + v * L;
                    long o = base(b, i, cb, v);
                    normalizeOnly(x, y, o, o + run, step, FloatVector.fromArray(S, mean, at), FloatVector.fromArray(S, a, at),
                            FloatVector.fromArray(S, bb, at), h);
                }
            });
    }

    /**
     * t1 += sum (x - k), t2 += sum (x - k)^2 per lane of vector v of block cb over images [i0, i1). Its own method, as
     * each loop here: inside one large lambda the JIT stopped inlining the bf16 loads, and every vector was boxed (3x
     * slower).
     */
    private static void shiftedSums(MemorySegment x, Blocked b, int cb, int v, int i0, int i1, FloatVector k, double[] t1, double[] t2) {
        boolean h = b.half();
        int step = b.step();
        FloatVector zero = FloatVector.zero(S), s1 = zero, s2 = zero;
        DoubleVector lo1 = DoubleVector.fromArray(DS, t1, v * L), hi1 = DoubleVector.fromArray(DS, t1, v * L + L / 2);
        DoubleVector lo2 = DoubleVector.fromArray(DS, t2, v * L), hi2 = DoubleVector.fromArray(DS, t2, v * L + L / 2);
        int pending = 0;
        for (int i = i0; i < i1; i++) {
            long o = base(b, i, cb, v), end = o + (long) b.hw() * step;
            for (; o < end; o += step) {
                FloatVector d = load(x, o, h).sub(k);
                s1 = s1.add(d);
                s2 = d.fma(d, s2);
                if (++pending == FLUSH) { // to double in vector lanes: the same adds, lane by lane, as a flush into t1, t2
                    lo1 = lo1.add(s1.convertShape(VectorOperators.F2D, DS, 0));
                    hi1 = hi1.add(s1.convertShape(VectorOperators.F2D, DS, 1));
                    lo2 = lo2.add(s2.convertShape(VectorOperators.F2D, DS, 0));
                    hi2 = hi2.add(s2.convertShape(VectorOperators.F2D, DS, 1));
                    s1 = zero;
                    s2 = zero;
                    pending = 0;
                }
            }
        }
        lo1 = lo1.add(s1.convertShape(VectorOperators.F2D, DS, 0));
        hi1 = hi1.add(s1.convertShape(VectorOperators.F2D, DS, 1));
        lo2 = lo2.add(s2.convertShape(VectorOperators.F2D, DS, 0));
        hi2 = hi2.add(s2.convertShape(VectorOperators.F2D, DS, 1));
        lo1.intoArray(t1, v * L);
        hi1.intoArray(t1, v * L + L / 2);
        lo2.intoArray(t2, v * L);
        hi2.intoArray(t2, v * L + L / 2);
    }

    /** y = (x - m) * a + c [then max(0, .)] over [o, end) (a loop per method: see the note above affineRelu). */
    private static void normalizeRelu(MemorySegment x, MemorySegment y, long o, long end, int step, FloatVector m, FloatVector a, FloatVector c, boolean h) {
        for (; o < end; o += step) store(load(x, o, h).sub(m).fma(a, c).max(0f), y, o, h);
    }

    private static void normalizeOnly(MemorySegment x, MemorySegment y, long o, long end, int step, FloatVector m, FloatVector a, FloatVector c, boolean h) {
        for (; o < end; o += step) store(load(x, o, h).sub(m).fma(a, c), y, o, h);
    }

    /** Batch norm's backward with batch statistics, as {@link Norm#backward} (y: the fused ReLU's output, or null). */
    static void backward(MemorySegment x, MemorySegment gamma, MemorySegment y, MemorySegment dy, MemorySegment saveMean,
                         MemorySegment saveInvStd, MemorySegment dx, MemorySegment dgamma, MemorySegment dbeta, Blocked b) {
        if (b.nhwc()) { NhwcKernels.backward(x, gamma, y, dy, saveMean, saveInvStd, dx, dgamma, dbeta, b); return; }
        long m = (long) b.n() * b.hw();
        double[][][] t = sums(b, (cb, i0, i1, t1, t2) -> {
            for (int v = 0; v < V; v++) gradSums(dy, y, x, null, b, cb, v, i0, i1, constant(saveMean, cb, v), null, t1, t2);
        });
        float[] a = new float[b.c()], bx = new float[b.c()], cc = new float[b.c()];
        for (int ch = 0; ch < b.c(); ch++) {
            float inv = saveInvStd.getAtIndex(F, ch);
            double sdy = t[0][ch / Blocked.LANES][ch % Blocked.LANES], sdyxhat = t[1][ch / Blocked.LANES][ch % Blocked.LANES] * inv;
            if (dgamma != null) dgamma.setAtIndex(F, ch, (float) (dgamma.getAtIndex(F, ch) + sdyxhat));
            if (dbeta != null) dbeta.setAtIndex(F, ch, (float) (dbeta.getAtIndex(F, ch) + sdy));
            double kk = gamma.getAtIndex(F, ch) * inv / m;
            a[ch] = (float) (kk * m);
            bx[ch] = (float) (-kk * inv * sdyxhat);
            cc[ch] = (float) (-kk * sdy);
        }
        if (dx == null) return;
        int cbs = b.blocks(), step = b.step();
        long run = (long) b.hw() * step;
        boolean h = b.half();
        // dx = g * a + (x - m) * bx + c, g = dy masked by y > 0 (y not null): one lambda per case, each reaching one
        // loop method. With the choice inside one lambda, C2 inlined both loops into it and hit its node-count cutoff
        // (NodeCountInliningCutoff) in the second: its loads and stores stayed calls and every vector was boxed,
        // ~200 MB of garbage a ResNet-50 step and 2-3x the time (session 27, -XX:+PrintInlining)
        if (y == null)
            Parallel.forRange(b.n() * cbs, (long) b.hw() * Blocked.LANES, piece -> {
                int cb = piece % cbs, i = piece / cbs;
                for (int v = 0; v < V; v++) {
                    int at = cb * Blocked.LANES + v * L;
                    long o = base(b, i, cb, v);
                    bnInputGradOnly(x, dy, dx, o, o + run, step, constant(saveMean, cb, v), FloatVector.fromArray(S, a, at),
                            FloatVector.fromArray(S, bx, at), FloatVector.fromArray(S, cc, at), h);
                }
            });
        else
            Parallel.forRange(b.n() * cbs, (long) b.hw() * Blocked.LANES, piece -> {
                int cb = piece % cbs, i = piece / cbs;
                for (int v = 0; v < V; v++) {
                    int at = cb * Blocked.LANES + v * L;
                    long o = base(b, i, cb, v);
                    bnInputGradMasked(x, y, dy, dx, o, o + run, step, constant(saveMean, cb, v), FloatVector.fromArray(S, a, at),
                            FloatVector.fromArray(S, bx, at), FloatVector.fromArray(S, cc, at), h);
                }
            });
    }

    private static void bnInputGradOnly(MemorySegment x, MemorySegment dy, MemorySegment dx, long o, long end, int step,
                                        FloatVector m, FloatVector a, FloatVector bx, FloatVector c, boolean h) {
        for (; o < end; o += step) store(load(dy, o, h).mul(a).add(load(x, o, h).sub(m).fma(bx, c)), dx, o, h);
    }

    private static void bnInputGradMasked(MemorySegment x, MemorySegment y, MemorySegment dy, MemorySegment dx, long o, long end, int step,
                                          FloatVector m, FloatVector a, FloatVector bx, FloatVector c, boolean h) {
        FloatVector zero = FloatVector.zero(S);
        for (; o < end; o += step)
            store(zero.blend(load(dy, o, h), load(y, o, h).compare(VectorOperators.GT, 0f)).mul(a).add(load(x, o, h).sub(m).fma(bx, c)), dx, o, h);
    }

    /** The elementwise ops with a bf16 kernel: out = alpha a + beta b, a * b, relu(a), b where a > 0 (a: a ReLU output), relu(a + b). */
    enum Op { ADD_SCALED, MUL, RELU, RELU_BACKWARD, ADD_RELU }

    /**
     * An elementwise op over n values in bf16 (the layout does not matter, only that a, b and out share it; n is a
     * multiple of 16). Each op has its own loop: a lambda per element would not inline and would box the vectors.
     */
    static void elementwiseHalf(Op op, float alpha, float beta, MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        Parallel.chunks(n, (from, count) -> {
            long end = from + count;
            switch (op) {
                case ADD_SCALED -> addScaledHalf(a, alpha, b, beta, out, from, end);
                case MUL -> mulHalf(a, b, out, from, end);
                case RELU -> reluHalf(a, out, from, end);
                case RELU_BACKWARD -> reluBackwardHalf(a, b, out, from, end);
                case ADD_RELU -> addReluHalf(a, b, out, from, end);
            }
        });
    }

    private static void addScaledHalf(MemorySegment a, float alpha, MemorySegment b, float beta, MemorySegment out, long i, long end) {
        for (; i < end; i += L) store(load(a, i, true).mul(alpha).add(load(b, i, true).mul(beta)), out, i, true);
    }

    private static void mulHalf(MemorySegment a, MemorySegment b, MemorySegment out, long i, long end) {
        for (; i < end; i += L) store(load(a, i, true).mul(load(b, i, true)), out, i, true);
    }

    private static void reluHalf(MemorySegment a, MemorySegment out, long i, long end) {
        for (; i < end; i += L) store(load(a, i, true).max(0f), out, i, true);
    }

    private static void reluBackwardHalf(MemorySegment y, MemorySegment dy, MemorySegment out, long i, long end) {
        FloatVector zero = FloatVector.zero(S);
        for (; i < end; i += L) store(zero.blend(load(dy, i, true), load(y, i, true).compare(VectorOperators.GT, 0f)), out, i, true);
    }

    private static void addReluHalf(MemorySegment a, MemorySegment b, MemorySegment out, long i, long end) {
        for (; i < end; i += L) store(load(a, i, true).add(load(b, i, true)).max(0f), out, i, true);
    }

    /** out[c] (+)= sum of a (b null) or of a * b per channel: channelSum / channelDot on the layout. */
    static void channelDot(MemorySegment a, MemorySegment b, MemorySegment out, boolean accumulate, Blocked l) {
        if (l.nhwc()) { NhwcKernels.channelDot(a, b, out, accumulate, l); return; }
        // gradSums with g = a, x = b, m = 0: t1 = sum a, t2 = sum a * b (with b = null its t2 is not wanted)
        double[][][] t = sums(l, (cb, i0, i1, t1, t2) -> {
            for (int v = 0; v < V; v++) gradSums(a, null, b == null ? a : b, null, l, cb, v, i0, i1, FloatVector.zero(S), null, t1, t2);
        });
        double[][] s = b == null ? t[0] : t[1];
        for (int ch = 0; ch < l.c(); ch++) {
            double v = s[ch / Blocked.LANES][ch % Blocked.LANES];
            out.setAtIndex(F, ch, (float) (accumulate ? out.getAtIndex(F, ch) + v : v));
        }
    }

    // ------------------------------------------------------------------ max pooling (ResNet's stem)

    /**
     * NHWC values (f32 or bf16 as b says; what oneDNN's strided kernels write) copied into b's layout: per (image,
     * channel block) each pixel's 16 channels are one contiguous run at both ends, so every source cache line is read
     * once and the destination is written in order (oneDNN's generic reorder did this at ~1.2 GB/s on DeepLab's
     * 81 x 81 x 256 maps).
     */
    static void fromNhwc(MemorySegment src, MemorySegment dst, Blocked b) {
        int cbs = b.blocks();
        Parallel.forRange(b.n() * cbs, (long) b.hw() * Blocked.LANES, piece -> nhwcBlock(src, dst, b, piece / cbs, piece % cbs));
    }

    private static void nhwcBlock(MemorySegment src, MemorySegment dst, Blocked b, int n, int cb) {
        long bytes = b.half() ? 2 : 4, from = ((long) n * b.hw() * b.c() + (long) cb * Blocked.LANES) * bytes, to = base(b, n, cb, 0) * bytes;
        long run = Blocked.LANES * bytes, stride = b.c() * bytes;
        for (int p = 0; p < b.hw(); p++, from += stride, to += run) MemorySegment.copy(src, from, dst, to, run);
    }

    private static final VectorSpecies<Double> DS = VectorSpecies.of(double.class, VectorShape.forBitSize(L * 32));

    /**
     * Global average pooling of x (layout b) into y [N x C] (plain f32): per channel the sum over H x W in double, in
     * row-major order as {@link Pool#avg} takes it (each float lane widened exactly and added in the same order), so the
     * mean is bit for bit the plain kernel's.
     */
    static void globalMean(MemorySegment x, MemorySegment y, Blocked b) {
        int cbs = b.blocks(), hw = b.hw(), half = L / 2;
        Parallel.forRange(b.n() * cbs, (long) hw * Blocked.LANES, piece -> meanBlock(x, y, b, piece, cbs, hw, half));
    }

    private static void meanBlock(MemorySegment x, MemorySegment y, Blocked b, int piece, int cbs, int hw, int half) {
        int n = piece / cbs, cb = piece % cbs;
        for (int v = 0; v < V; v++) {
            DoubleVector lo = DoubleVector.zero(DS), hi = DoubleVector.zero(DS);
            long at = base(b, n, cb, v);
            for (int p = 0; p < hw; p++, at += b.step()) {
                FloatVector f = load(x, at, b.half());
                lo = lo.add(f.convertShape(VectorOperators.F2D, DS, 0));
                hi = hi.add(f.convertShape(VectorOperators.F2D, DS, 1));
            }
            long out = (long) n * b.c() + cb * Blocked.LANES + v * L;
            for (int j = 0; j < half; j++) {
                y.setAtIndex(F, out + j, (float) (lo.lane(j) / hw));
                y.setAtIndex(F, out + half + j, (float) (hi.lane(j) / hw));
            }
        }
    }

    /**
     * The gradient of {@link #globalMean}: every position of dx (layout b, written whole) gets dy[n, c] / (H x W),
     * divided in double and rounded once as {@link Pool#avgBackward} does (and once more to bf16 for a bf16 layout).
     */
    static void globalMeanBackward(MemorySegment dy, MemorySegment dx, Blocked b) {
        int cbs = b.blocks(), hw = b.hw();
        Parallel.forRange(b.n() * cbs, (long) hw * Blocked.LANES, piece -> spreadBlock(dy, dx, b, piece, cbs, hw));
    }

    private static void spreadBlock(MemorySegment dy, MemorySegment dx, Blocked b, int piece, int cbs, int hw) {
        int n = piece / cbs, cb = piece % cbs;
        float[] g = new float[L];
        for (int v = 0; v < V; v++) {
            long in = (long) n * b.c() + cb * Blocked.LANES + v * L;
            for (int j = 0; j < L; j++) g[j] = (float) (dy.getAtIndex(F, in + j) / (double) hw);
            FloatVector gv = FloatVector.fromArray(S, g, 0);
            long at = base(b, n, cb, v);
            for (int p = 0; p < hw; p++, at += b.step()) store(gv, dx, at, b.half());
        }
    }

    /**
     * Max pooling of x (layout b) into y (oh x ow, same kind), PyTorch's rule per channel: the first maximum of the
     * window in row-major order, NaN taken whenever seen (so a window with NaN gives NaN); padding never wins.
     * In this layout a window position is one vector of 16 channels, so the scan is 16 channels at a time.
     */
    static void maxPool(MemorySegment x, MemorySegment y, Blocked b, conta.tensor.ConvSpec s, int oh, int ow) {
        int cbs = b.blocks(), H = b.h(), W = b.w();
        int kh = s.kh(), kw = s.kw(), sh = s.strideH(), sw = s.strideW(), ph = s.padH(), pw = s.padW(), dh = s.dilH(), dw = s.dilW();
        boolean half = b.half();
        // the window's taps in row-major order, bounds tested per row and column (no division per tap); the backward
        // pass finds the same first maximum per lane
        Blocked yb = b.resized(oh, ow);
        int step = b.step(); // the same in x and y: 16, or C
        Parallel.forRange(b.n() * cbs, (long) oh * ow * kh * kw * Blocked.LANES, piece -> {
            long xo = b.at(piece / cbs, piece % cbs, 0), yo = yb.at(piece / cbs, piece % cbs, 0);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int v = 0; v < V; v++) {
                        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                        for (int i = 0; i < kh; i++) {
                            int iy = oy * sh - ph + i * dh;
                            if (iy < 0 || iy >= H) continue;
                            for (int j = 0; j < kw; j++) {
                                int ix = ox * sw - pw + j * dw;
                                if (ix < 0 || ix >= W) continue;
                                FloatVector t = load(x, xo + ((long) iy * W + ix) * step + v * L, half);
                                m = m.blend(t, t.compare(VectorOperators.GT, m).or(t.test(VectorOperators.IS_NAN)));
                            }
                        }
                        store(m, y, yo + ((long) oy * ow + ox) * step + v * L, half);
                    }
        });
    }

    /** Per-thread f32 plane of one (image, channel block): max pooling's input gradient is summed there, then stored once. */
    private static final ThreadLocal<float[][]> GRAD_PLANE = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * Max pooling's backward: dy (oh x ow) to the first maximum of each window, recomputed from x; overlapping
     * windows add up in f32 and dx (layout b) is written once (rounded once in bf16).
     */
    static void maxPoolBackward(MemorySegment x, MemorySegment dy, MemorySegment dx, Blocked b, conta.tensor.ConvSpec s, int oh, int ow) {
        int cbs = b.blocks(), step = b.step(); // positions step floats apart in dx and dy; the plane g holds 16 per position
        boolean h = b.half();
        Blocked yb = b.resized(oh, ow);
        Parallel.forRange(b.n() * cbs, (long) oh * ow * s.kh() * s.kw() * Blocked.LANES, piece -> {
            float[][] holder = GRAD_PLANE.get();
            int planeFloats = b.hw() * Blocked.LANES;
            if (holder[0].length < planeFloats) holder[0] = new float[planeFloats];
            float[] g = holder[0];
            java.util.Arrays.fill(g, 0, planeFloats, 0f);
            long xo = b.at(piece / cbs, piece % cbs, 0), yo = yb.at(piece / cbs, piece % cbs, 0);
            int H = b.h(), W = b.w(), kh = s.kh(), kw = s.kw();
            int sh = s.strideH(), sw = s.strideW(), ph = s.padH(), pw = s.padW(), dh = s.dilH(), dw = s.dilW();
            int[] at = new int[kh * kw]; // the window's taps as plane positions, -1 in the padding
            FloatVector zero = FloatVector.zero(S);
            for (int v = 0; v < V; v++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++) {
                        // the first maximum per lane, as maxPool finds it
                        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), arg = FloatVector.broadcast(S, -1f);
                        for (int i = 0, k = 0; i < kh; i++) {
                            int iy = oy * sh - ph + i * dh;
                            for (int j = 0; j < kw; j++, k++) {
                                int ix = ox * sw - pw + j * dw;
                                at[k] = iy < 0 || iy >= H || ix < 0 || ix >= W ? -1 : iy * W + ix;
                                if (at[k] < 0) continue;
                                FloatVector t = load(x, xo + (long) at[k] * step + v * L, h);
                                var take = t.compare(VectorOperators.GT, m).or(t.test(VectorOperators.IS_NAN));
                                m = m.blend(t, take);
                                arg = arg.blend((float) k, take);
                            }
                        }
                        // g[tap k] += dy on the lanes whose maximum was at k, k ascending (the padding never wins)
                        FloatVector d = load(dy, yo + ((long) oy * ow + ox) * step + v * L, h);
                        for (int k = 0; k < at.length; k++) {
                            var hit = arg.compare(VectorOperators.EQ, (float) k);
                            if (!hit.anyTrue()) continue;
                            int p = at[k] * Blocked.LANES + v * L;
                            FloatVector.fromArray(S, g, p).add(zero.blend(d, hit)).intoArray(g, p);
                        }
                    }
            for (int p = 0; p < planeFloats; p += L)
                store(FloatVector.fromArray(S, g, p), dx, xo + (long) (p / Blocked.LANES) * step + p % Blocked.LANES, h);
        });
    }
}
