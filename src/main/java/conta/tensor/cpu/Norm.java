package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;

import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Batch normalisation with batch statistics (training), optionally fused with the ReLU that follows it in every
 * ResNet block; frozen BN is a channel affine and lives elsewhere. Per channel: one read of x for the statistics, one
 * read + write for the output; backward one read of (dy, x[, y]) for the sums and one for dx.
 */
final class Norm {
    private Norm() { }

    static void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                      Tensor y, Tensor saveMean, Tensor saveInvStd, boolean relu) {
        conta.tensor.Shapes.sameShape("batchNorm", x, y);
        int n = x.dim(0), c = x.dim(1), hw = conta.tensor.Shapes.spatial(x);
        long m = (long) n * hw;
        if (m < 2) throw new IllegalArgumentException("batch norm in training mode needs more than one value per channel, got input " + x.shapeString());
        MemorySegment xs = CpuBackend.seg(x), ys = CpuBackend.seg(y), g = CpuBackend.seg(gamma), bt = CpuBackend.seg(beta);
        MemorySegment rm = runMean == null ? null : CpuBackend.seg(runMean), rv = runVar == null ? null : CpuBackend.seg(runVar);
        MemorySegment sm = CpuBackend.seg(saveMean), si = CpuBackend.seg(saveInvStd);
        Parallel.forRange(c, m, ch -> {
            // Sums of (x - k) and (x - k)^2 with k = the channel's first value: one pass, and k near the mean keeps
            // E[(x-k)^2] - E[x-k]^2 free of the cancellation a plain E[x^2] - E[x]^2 suffers when |mean| >> std.
            float k = xs.getAtIndex(F, (long) ch * hw);
            double[] acc = new double[2];
            Elementwise.shiftedSums(xs, (long) ch * hw, (long) c * hw, n, hw, k, acc);
            double d = acc[0] / m;
            double mean = k + d;
            double var = Math.max(0.0, acc[1] / m - d * d);
            double inv = 1.0 / Math.sqrt(var + eps);
            sm.setAtIndex(F, ch, (float) mean);
            si.setAtIndex(F, ch, (float) inv);
            if (rm != null) {
                rm.setAtIndex(F, ch, (float) ((1 - momentum) * rm.getAtIndex(F, ch) + momentum * mean));
                rv.setAtIndex(F, ch, (float) ((1 - momentum) * rv.getAtIndex(F, ch) + momentum * var * m / (m - 1)));
            }
            float a = (float) (g.getAtIndex(F, ch) * inv);
            float bb = bt.getAtIndex(F, ch);
            for (int b = 0; b < n; b++) Elementwise.centeredAffine(xs, ys, ((long) b * c + ch) * hw, hw, (float) mean, a, bb, relu);
        });
    }

    /** With {@code y} (the fused ReLU's output) not null, dy counts only where y > 0. */
    static void backward(Tensor x, Tensor gamma, Tensor y, Tensor dy, Tensor saveMean, Tensor saveInvStd,
                         Tensor dx, Tensor dgamma, Tensor dbeta) {
        int n = x.dim(0), c = x.dim(1), hw = conta.tensor.Shapes.spatial(x);
        long m = (long) n * hw;
        MemorySegment xs = CpuBackend.seg(x), dys = CpuBackend.seg(dy), g = CpuBackend.seg(gamma);
        MemorySegment ymask = y == null ? null : CpuBackend.seg(y);
        MemorySegment sm = CpuBackend.seg(saveMean), si = CpuBackend.seg(saveInvStd);
        MemorySegment dxs = dx == null ? null : CpuBackend.seg(dx);
        MemorySegment dg = dgamma == null ? null : CpuBackend.seg(dgamma), dbt = dbeta == null ? null : CpuBackend.seg(dbeta);
        Parallel.forRange(c, m, ch -> {
            float mean = sm.getAtIndex(F, ch), inv = si.getAtIndex(F, ch);
            double[] acc = new double[2]; // sum(dy), sum(dy * (x - mean))
            Elementwise.gradSums(dys, ymask, xs, null, (long) ch * hw, (long) c * hw, n, hw, mean, 0f, true, acc);
            double sdy = acc[0], sdyxhat = acc[1] * inv; // sum(dy * xhat)
            if (dg != null) dg.setAtIndex(F, ch, (float) (dg.getAtIndex(F, ch) + sdyxhat));
            if (dbt != null) dbt.setAtIndex(F, ch, (float) (dbt.getAtIndex(F, ch) + sdy));
            if (dxs != null) {
                // dx = k (m dy - sum(dy) - xhat sum(dy xhat)), xhat = (x - mean) inv, k = gamma inv / m
                double k = g.getAtIndex(F, ch) * inv / m;
                float a = (float) (k * m), bx = (float) (-k * inv * sdyxhat), cc = (float) (-k * sdy);
                for (int b = 0; b < n; b++) Elementwise.bnBackward(dys, ymask, xs, dxs, ((long) b * c + ch) * hw, hw, mean, a, bx, cc);
            }
        });
    }
}
