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
            double[] meanInv = statistics(ch, k, acc[0], acc[1], m, momentum, eps, sm, si, rm, rv);
            double mean = meanInv[0], inv = meanInv[1];
            float a = (float) (g.getAtIndex(F, ch) * inv);
            float bb = bt.getAtIndex(F, ch);
            for (int b = 0; b < n; b++) Elementwise.centeredAffine(xs, ys, ((long) b * c + ch) * hw, hw, (float) mean, a, bb, relu);
        });
    }

    /**
     * One channel's batch statistics from its shifted sums (sum of x - k and of (x - k)^2 over m values): saves the
     * mean and 1 / sqrt(var + eps), updates the running mean and unbiased running variance (PyTorch's momentum) when
     * given, and returns {mean, inv}. Shared by the plain and the blocked kernels.
     */
    static double[] statistics(int ch, float k, double sum, double sumSq, long m, float momentum, float eps, MemorySegment saveMean,
                               MemorySegment saveInvStd, MemorySegment runMean, MemorySegment runVar) {
        double d = sum / m;
        double mean = k + d;
        double var = Math.max(0.0, sumSq / m - d * d);
        double inv = 1.0 / Math.sqrt(var + eps);
        saveMean.setAtIndex(F, ch, (float) mean);
        saveInvStd.setAtIndex(F, ch, (float) inv);
        if (runMean != null) {
            runMean.setAtIndex(F, ch, (float) ((1 - momentum) * runMean.getAtIndex(F, ch) + momentum * mean));
            runVar.setAtIndex(F, ch, (float) ((1 - momentum) * runVar.getAtIndex(F, ch) + momentum * var * m / (m - 1)));
        }
        return new double[]{mean, inv};
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
