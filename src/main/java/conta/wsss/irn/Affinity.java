package conta.wsss.irn;

import conta.autograd.Tape;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * IRNet's training affinities and their loss (net/resnet50_irn.py edge_to_affinity, step/train_irn.py).
 *
 * <p>Pairs follow IRNet's layout on an h x w grid: for direction d of the {@link PathIndex} and source p of its
 * source region, the pair (source p, source p + offset(d)); affinities are N x D x P. Both ops run on the host
 * (gather / scatter have no backend primitive yet) and record their backward on the current {@link Tape}.
 *
 * <p>At IRNet's full size (batch 32, 512 px crops: a 128 x 128 grid, radius 10, 152 directions) a batch has 64M pairs,
 * and one thread took about 8 s a step for the two ops and their backward on this project's CPU. BoundaryNet trains
 * with {@link #boundaryLoss}, which gives the composed ops' numbers without their N x D x P arrays (2.7 s on two
 * cores); fromBoundary and loss stay as its reference and for the gradient checks. All of them run over (image,
 * direction) planes in parallel; every plane is computed in the same order whatever the thread count, and the
 * backward's scatter keeps each image's writes on one thread in their original order, so results do not depend on
 * the thread count (the loss terms' double sums are added plane by plane).
 */
public final class Affinity {
    private Affinity() { }

    /** IRNet's epsilon inside the logs. */
    static final double EPS = 1e-5;

    /**
     * aff[n, d, p] = 1 - max of the boundary over the path of pair (d, p), for boundary probabilities N x 1 x h x w.
     * Backward routes -grad to the path cell holding the maximum (the first one on ties, as max_pool2d).
     */
    public static Tensor fromBoundary(Tensor boundary, PathIndex index) {
        checkBoundary(boundary);
        Backend b = boundary.backend();
        int n = boundary.dim(0), h = boundary.dim(2), w = boundary.dim(3), hw = h * w;
        int dirs = index.directions(), p = index.sources(h, w);
        float[] e = boundary.toArray();
        float[] aff = new float[n * dirs * p];
        int[] at = new int[aff.length]; // flat boundary index of each maximum
        int[][] cells = pathCells(index, w);
        int[] src = sourceCells(index, h, w);
        planes(n * dirs, plane -> {
            int im = plane / dirs, d = plane % dirs;
            int[] cell = cells[d];
            for (int q = 0; q < p; q++) {
                int best = pathMax(e, im * hw + src[q], cell), o = plane * p + q;
                aff[o] = 1f - e[best];
                at[o] = best;
            }
        });
        Tensor y = Tape.track(Tensor.of(b, aff, n, dirs, p));
        if (Tape.needs(boundary)) Tape.record("edgeToAffinity", y, gy -> {
            float[] g = gy.toArray(), ge = new float[n * hw];
            // an image's maxima lie in its own plane: one thread per image, its writes in their original order
            java.util.stream.IntStream.range(0, n).parallel().forEach(im -> {
                for (int i = im * dirs * p, end = (im + 1) * dirs * p; i < end; i++) ge[at[i]] -= g[i];
            });
            Tape.accumulate(boundary, Tensor.of(b, ge, boundary.shape()));
        });
        return y;
    }

    /** IRNet's affinity loss terms (each averaged over its pairs) and the total (bgPos/2 + fgPos/2 + neg)/2. */
    public record Loss(Tensor total, float bgPos, float fgPos, float neg, long bgPairs, long fgPairs, long negPairs) { }

    /**
     * The boundary loss from IR labels N x h x w at stride 4 (unsigned bytes: 0 background, k class, 255 ignore):
     * bgPos pairs have both ends 0, fgPos the same class > 0, neg different classes, pairs touching 255 are skipped
     * (IRNet tests label < 21, the same on VOC). Positive pairs cost -log(1e-5 + aff), negative ones
     * -log(1e-5 + 1 - aff); each term is divided by (its pair count + 1e-5) as IRNet does.
     */
    public static Loss loss(Tensor aff, byte[] labels, int h, int w, PathIndex index) {
        int n = aff.dim(0), dirs = index.directions(), p = index.sources(h, w), hw = h * w;
        if (aff.rank() != 3 || aff.dim(1) != dirs || aff.dim(2) != p)
            throw new IllegalArgumentException("affinities " + aff.shapeString() + " do not match " + dirs + " directions x "
                    + p + " sources of a " + w + "x" + h + " grid");
        checkLabels(labels, n, h, w);
        float[] a = aff.toArray();
        byte[] kind = new byte[a.length]; // 0 none, 1 bg pos, 2 fg pos, 3 neg
        int planes = n * dirs;
        long[][] counts = new long[planes][4];
        double[][] sums = new double[planes][4];
        int[] src = sourceCells(index, h, w);
        planes(planes, plane -> {
            int im = plane / dirs, d = plane % dirs, off = index.dy(d) * w + index.dx(d);
            long[] count = counts[plane];
            double[] sum = sums[plane];
            for (int q = 0; q < p; q++) {
                int k = pairKind(labels, im * hw + src[q], off);
                if (k == 0) continue;
                int o = plane * p + q;
                kind[o] = (byte) k;
                count[k]++;
                sum[k] += negLog(k, a[o]);
            }
        });
        Terms t = Terms.of(counts, sums);
        Backend b = aff.backend();
        Tensor total = Tape.track(Tensor.of(b, new float[]{t.total()}, 1));
        if (Tape.needs(aff)) Tape.record("affinityLoss", total, gy -> {
            double[] coef = t.coefficients(gy.item());
            float[] g = new float[a.length];
            planes(planes, plane -> {
                for (int i = plane * p, end = i + p; i < end; i++) {
                    int k = kind[i];
                    if (k == 0) continue;
                    g[i] = (float) pairGrad(coef, k, a[i]);
                }
            });
            Tape.accumulate(aff, Tensor.of(b, g, aff.shape()));
        });
        return t.loss(total);
    }

    /**
     * IRNet's affinity loss straight from the boundary probabilities N x 1 x h x w: the numbers of
     * {@code loss(fromBoundary(boundary, index), labels, h, w, index)} without its N x D x P affinities, path maxima and
     * pair kinds in memory (at IRNet's full size 64M pairs, about 1.5 GB of arrays a step, and on a GPU the same again
     * across the bus). The forward pass sums the terms plane by plane as loss does; the backward pass walks the paths
     * again and adds each image's contributions in the composed ops' order, so the gradient is the same bit for bit.
     */
    public static Loss boundaryLoss(Tensor boundary, byte[] labels, PathIndex index) {
        checkBoundary(boundary);
        int n = boundary.dim(0), h = boundary.dim(2), w = boundary.dim(3), hw = h * w;
        int dirs = index.directions(), planes = n * dirs;
        checkLabels(labels, n, h, w);
        float[] e = boundary.toArray();
        int[][] cells = pathCells(index, w);
        int rows = index.sourceRows(h), cols = index.sourceCols(w), rf = index.radiusFloor();
        long[][] counts = new long[planes][4];
        double[][] sums = new double[planes][4];
        planes(planes, plane -> {
            int im = plane / dirs, d = plane % dirs, off = index.dy(d) * w + index.dx(d);
            int[] at = new int[cols];
            for (int r = 0; r < rows; r++) { // sources in pathMax's order: row by row, left to right
                int row = im * hw + r * w + rf;
                rowPathMax(e, row, cols, cells[d], at);
                for (int i = 0; i < cols; i++) {
                    int k = pairKind(labels, row + i, off);
                    if (k == 0) continue;
                    float a = 1f - e[at[i]];
                    counts[plane][k]++;
                    sums[plane][k] += negLog(k, a);
                }
            }
        });
        Terms t = Terms.of(counts, sums);
        Backend b = boundary.backend();
        Tensor total = Tape.track(Tensor.of(b, new float[]{t.total()}, 1));
        if (Tape.needs(boundary)) Tape.record("boundaryAffinityLoss", total, gy -> {
            double[] coef = t.coefficients(gy.item());
            float[] ge = new float[n * hw];
            java.util.stream.IntStream.range(0, n).parallel().forEach(im -> {
                int[] at = new int[cols];
                for (int d = 0; d < dirs; d++) {
                    int off = index.dy(d) * w + index.dx(d);
                    for (int r = 0; r < rows; r++) {
                        int row = im * hw + r * w + rf;
                        rowPathMax(e, row, cols, cells[d], at);
                        for (int i = 0; i < cols; i++) {
                            int k = pairKind(labels, row + i, off);
                            if (k == 0) continue; // the composed ops subtract a zero here: the same bits
                            int best = at[i];
                            ge[best] -= (float) pairGrad(coef, k, 1f - e[best]);
                        }
                    }
                }
            });
            Tape.accumulate(boundary, Tensor.of(b, ge, boundary.shape()));
        });
        return t.loss(total);
    }

    /**
     * The loss terms from per-plane pair counts and -log sums (index 1 bg pos, 2 fg pos, 3 neg), added in plane order
     * so that they do not depend on the thread count; each term divides by (its pair count + 1e-5) as IRNet does.
     */
    private record Terms(long[] count, double bg, double fg, double neg) {
        static Terms of(long[][] counts, double[][] sums) {
            long[] count = new long[4];
            double[] sum = new double[4];
            for (int i = 0; i < counts.length; i++)
                for (int k = 1; k < 4; k++) {
                    count[k] += counts[i][k];
                    sum[k] += sums[i][k];
                }
            return new Terms(count, sum[1] / (count[1] + EPS), sum[2] / (count[2] + EPS), sum[3] / (count[3] + EPS));
        }

        float total() { return (float) ((bg / 2 + fg / 2 + neg) / 2); }

        /** d total / d (-log term) per pair kind, times the seed s: 1/4 for bgPos and fgPos, 1/2 for neg, over the count. */
        double[] coefficients(double s) {
            return new double[]{0, s / 4 / (count[1] + EPS), s / 4 / (count[2] + EPS), s / 2 / (count[3] + EPS)};
        }

        Loss loss(Tensor total) { return new Loss(total, (float) bg, (float) fg, (float) neg, count[1], count[2], count[3]); }
    }

    private static void checkBoundary(Tensor boundary) {
        if (boundary.rank() != 4 || boundary.dim(1) != 1)
            throw new IllegalArgumentException("boundary must be N x 1 x H x W, got " + boundary.shapeString());
    }

    private static void checkLabels(byte[] labels, int n, int h, int w) {
        if (labels.length != (long) n * h * w)
            throw new IllegalArgumentException(labels.length + " labels for " + n + " maps of " + w + "x" + h);
    }

    /** A pair's loss: -log(1e-5 + aff) for positive pairs (kind 1, 2), -log(1e-5 + 1 - aff) for negative ones (3). */
    private static double negLog(int kind, double aff) { return -Math.log(EPS + (kind == 3 ? 1.0 - aff : aff)); }

    /** d total / d aff of one pair, from its kind's coefficient (Terms.coefficients). */
    private static double pairGrad(double[] coef, int kind, double aff) {
        return kind == 3 ? coef[3] / (EPS + 1.0 - aff) : -coef[kind] / (EPS + aff);
    }

    /** 0: a pair touching 255 (left out); 1: both ends background; 2: both the same class; 3: different labels. */
    private static int pairKind(byte[] labels, int s, int off) {
        int from = labels[s] & 0xff, to = labels[s + off] & 0xff;
        if (from == 255 || to == 255) return 0;
        return from != to ? 3 : from == 0 ? 1 : 2;
    }

    /** Flat index of the path's maximum from base (strictly greater: the first one on ties, as max_pool2d). */
    private static int pathMax(float[] e, int base, int[] cell) {
        int best = base + cell[0];
        float bv = e[best];
        for (int c = 1; c < cell.length; c++) {
            int j = base + cell[c];
            if (e[j] > bv) {
                bv = e[j];
                best = j;
            }
        }
        return best;
    }

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final IntVector LANE = IntVector.zero(IS).addIndex(1);

    /**
     * {@link #pathMax} of the n consecutive sources base .. base + n - 1 (a row of the source region) into at: the
     * sources of a row are consecutive cells, so each path cell is one vector load that serves a lane per source.
     * Strictly greater replaces, so each lane keeps the first maximum on ties, as pathMax.
     */
    private static void rowPathMax(float[] e, int base, int n, int[] cell, int[] at) {
        for (int i = 0; i < n; i += FS.length()) {
            VectorMask<Float> lanes = FS.indexInRange(i, n);
            int s = base + i;
            FloatVector best = FloatVector.fromArray(FS, e, s + cell[0], lanes);
            IntVector where = IntVector.broadcast(IS, cell[0]);
            for (int c = 1; c < cell.length; c++) {
                FloatVector v = FloatVector.fromArray(FS, e, s + cell[c], lanes);
                VectorMask<Float> gt = v.compare(VectorOperators.GT, best);
                best = best.blend(v, gt);
                where = where.blend(cell[c], gt.cast(IS));
            }
            where.add(LANE).add(s).intoArray(at, i, lanes.cast(IS));
        }
    }

    /** Per direction, the path's cells as flat offsets on a grid of width w. */
    private static int[][] pathCells(PathIndex index, int w) {
        int[][] cells = new int[index.directions()][];
        for (int d = 0; d < cells.length; d++) {
            int[] py = index.pathY(d), px = index.pathX(d), cell = new int[py.length];
            for (int c = 0; c < cell.length; c++) cell[c] = py[c] * w + px[c];
            cells[d] = cell;
        }
        return cells;
    }

    /** Flat grid index of every source, in order (index.source without a division per pair). */
    private static int[] sourceCells(PathIndex index, int h, int w) {
        int[] src = new int[index.sources(h, w)];
        for (int q = 0; q < src.length; q++) src[q] = index.source(q, h, w);
        return src;
    }

    /** Runs body for every (image, direction) plane, in parallel; each plane's work is independent of the others. */
    private static void planes(int count, java.util.function.IntConsumer body) {
        java.util.stream.IntStream.range(0, count).parallel().forEach(body);
    }
}
