package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;

import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Fused loss + gradient kernels, accumulated in double. */
final class Losses {
    private Losses() { }

    static float sigmoid(float x) {
        return x >= 0 ? (float) (1.0 / (1.0 + Math.exp(-x))) : (float) (Math.exp(x) / (1.0 + Math.exp(x)));
    }

    /** log(1 + exp(x)) without overflow. */
    static double softplus(double x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }

    private static void checkPair(String op, Tensor logits, Tensor targets) {
        if (!logits.sameShape(targets))
            throw new IllegalArgumentException(op + ": logits " + logits.shapeString() + " vs targets " + targets.shapeString());
    }

    static float multilabelSoftMargin(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) {
        checkPair("multilabelSoftMarginLoss", logits, targets);
        int n = logits.dim(0);
        long c = logits.numel() / n;
        MemorySegment x = CpuBackend.seg(logits), y = CpuBackend.seg(targets), d = dlogits == null ? null : CpuBackend.seg(dlogits);
        double loss = 0;
        for (long i = 0; i < logits.numel(); i++) {
            double xi = x.getAtIndex(F, i), yi = y.getAtIndex(F, i);
            // -(y log s(x) + (1-y) log s(-x)) = y softplus(-x) + (1-y) softplus(x)
            loss += yi * softplus(-xi) + (1 - yi) * softplus(xi);
            if (d != null) d.setAtIndex(F, i, (float) ((sigmoid((float) xi) - yi) / ((double) c * n) * gradScale));
        }
        return (float) (loss / c / n);
    }

    static float bceWithLogits(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) {
        checkPair("bceWithLogitsLoss", logits, targets);
        long m = logits.numel();
        MemorySegment x = CpuBackend.seg(logits), y = CpuBackend.seg(targets), d = dlogits == null ? null : CpuBackend.seg(dlogits);
        double loss = 0;
        for (long i = 0; i < m; i++) {
            double xi = x.getAtIndex(F, i), yi = y.getAtIndex(F, i);
            loss += Math.max(xi, 0) - xi * yi + Math.log1p(Math.exp(-Math.abs(xi)));
            if (d != null) d.setAtIndex(F, i, (float) ((sigmoid((float) xi) - yi) / m * gradScale));
        }
        return (float) (loss / m);
    }

    static float crossEntropy(Tensor logits, Tensor labels, Tensor classWeights, int ignore, Tensor dlogits, float gradScale) {
        int n = logits.dim(0), c = logits.dim(1), hw = conta.tensor.Shapes.spatial(logits);
        if (labels.numel() != (long) n * hw || labels.dim(0) != n)
            throw new IllegalArgumentException("crossEntropyLoss: labels " + labels.shapeString() + " do not match logits " + logits.shapeString());
        if (classWeights != null && classWeights.numel() != c)
            throw new IllegalArgumentException("crossEntropyLoss: " + classWeights.numel() + " class weights for " + c + " classes");
        MemorySegment x = CpuBackend.seg(logits), lab = CpuBackend.seg(labels);
        MemorySegment wt = classWeights == null ? null : CpuBackend.seg(classWeights);
        MemorySegment d = dlogits == null ? null : CpuBackend.seg(dlogits);
        // per image on both cores: loss and weight sum go to per-image slots, summed in image order (deterministic);
        // the gradient needs the total weight sum, so it is scaled afterwards
        double[] losses = new double[n], wsums = new double[n];
        Parallel.forRange(n, (long) c * hw, b -> {
            double[] p = new double[c];
            long base = (long) b * c * hw;
            double loss = 0, wsum = 0;
            for (int q = 0; q < hw; q++) {
                float lf = lab.getAtIndex(F, (long) b * hw + q);
                int l = (int) lf;
                if (l == ignore) {
                    if (d != null) for (int k = 0; k < c; k++) d.setAtIndex(F, base + (long) k * hw + q, 0f);
                    continue;
                }
                if (l < 0 || l >= c || l != lf)
                    throw new IllegalArgumentException("crossEntropyLoss: label " + lf + " outside [0, " + c + ") and not the ignore index " + ignore);
                double mx = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) mx = Math.max(mx, x.getAtIndex(F, base + (long) k * hw + q));
                double s = 0;
                for (int k = 0; k < c; k++) s += (p[k] = Math.exp(x.getAtIndex(F, base + (long) k * hw + q) - mx));
                double w = wt == null ? 1 : wt.getAtIndex(F, l);
                loss += w * (Math.log(s) + mx - x.getAtIndex(F, base + (long) l * hw + q));
                wsum += w;
                if (d != null)
                    for (int k = 0; k < c; k++)
                        d.setAtIndex(F, base + (long) k * hw + q, (float) (w * (p[k] / s - (k == l ? 1 : 0))));
            }
            losses[b] = loss;
            wsums[b] = wsum;
        });
        double loss = 0, wsum = 0;
        for (int b = 0; b < n; b++) {
            loss += losses[b];
            wsum += wsums[b];
        }
        if (wsum == 0) return 0f; // every pixel ignored: no loss, no gradient (PyTorch would return NaN)
        if (d != null) {
            float f = (float) (gradScale / wsum);
            Parallel.chunks(logits.numel(), (o, k) -> {
                for (long i = o; i < o + k; i++) d.setAtIndex(F, i, d.getAtIndex(F, i) * f);
            });
        }
        return (float) (loss / wsum);
    }
}
