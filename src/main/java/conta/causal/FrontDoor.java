package conta.causal;

import static conta.autograd.Tape.accumulate;
import static conta.autograd.Tape.needs;
import static conta.autograd.Tape.record;
import static conta.autograd.Tape.track;

import conta.autograd.F;
import conta.io.HostArray;
import conta.tensor.Tensor;

/**
 * C²AM's front-door aggregation: logits x (N x n) against the global CAM G (n x S x S), y[b,c] = agg_p(x[b,c] G[c,p]),
 * then BCE-with-logits (c2am's train_c2am; its pyutils mean_agg / max_agg / lse_agg with the same r argument):
 * <ul>
 *   <li>MEAN (published default): r * mean_p(x G_p) = r * x * mean(G_c), a fixed per-class scale on the logits;
 *   <li>MAX: max_p(x G_p) = x * max(G_c) for x >= 0, x * min(G_c) for x < 0 (r unused; at x = 0 the slope is max(G_c));
 *   <li>LSE: (1/r) log sum_p exp(r x G_p) (a sum, not a mean, over the S*S cells, as torch.logsumexp), r > 0.
 * </ul>
 * The op runs on the host: x is only N x n and dy/dx[b,c] is one number, kept from the forward pass.
 */
public final class FrontDoor {
    public enum Aggregation { MEAN, MAX, LSE }

    private final Aggregation agg;
    private final double r;
    private final int classes, cells;
    private final float[] g;
    private final double[] mean, max, min;

    public FrontDoor(HostArray globalCam, Aggregation agg, double r) {
        int[] s = globalCam.shape();
        if (s.length != 3) throw new IllegalArgumentException("global CAM must be n x S x S, got " + globalCam.shapeString());
        if (agg == Aggregation.LSE && !(r > 0)) throw new IllegalArgumentException("LSE needs r > 0, got " + r);
        this.agg = agg;
        this.r = r;
        this.classes = s[0];
        this.cells = s[1] * s[2];
        this.g = globalCam.data();
        mean = new double[classes];
        max = new double[classes];
        min = new double[classes];
        for (int c = 0; c < classes; c++) {
            double sum = 0, hi = Double.NEGATIVE_INFINITY, lo = Double.POSITIVE_INFINITY;
            for (int p = 0; p < cells; p++) {
                double v = g[c * cells + p];
                sum += v;
                hi = Math.max(hi, v);
                lo = Math.min(lo, v);
            }
            mean[c] = sum / cells;
            max[c] = hi;
            min[c] = lo;
        }
    }

    /** The published setting: MEAN with r = 1. */
    public static FrontDoor mean(HostArray globalCam) { return new FrontDoor(globalCam, Aggregation.MEAN, 1); }

    /** mean(G_c) per class: MEAN's logit scale (times r). */
    public double[] classMeans() { return mean.clone(); }

    /** y (N x n) from logits x (N x n); differentiable w.r.t. x. */
    public Tensor aggregate(Tensor logits) {
        if (logits.rank() != 2 || logits.dim(1) != classes)
            throw new IllegalArgumentException("front-door aggregation needs N x " + classes + " logits, got " + logits.shapeString());
        float[] x = logits.toArray(), y = new float[x.length], slope = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = i % classes;
            double[] ys = apply(x[i], c);
            y[i] = (float) ys[0];
            slope[i] = (float) ys[1];
        }
        Tensor out = track(Tensor.of(logits.backend(), y, logits.shape()));
        if (needs(logits)) record("frontDoor", out, gy -> {
            float[] d = gy.toArray();
            for (int i = 0; i < d.length; i++) d[i] *= slope[i];
            accumulate(logits, Tensor.of(logits.backend(), d, logits.shape()));
        });
        return out;
    }

    /** BCE-with-logits (mean over N x n) of the aggregated logits against multi-hot targets (N x n). */
    public Tensor loss(Tensor logits, Tensor targets) { return F.bceWithLogits(aggregate(logits), targets); }

    /** {value, d value / d x} for one logit of class c. */
    private double[] apply(double x, int c) {
        return switch (agg) {
            case MEAN -> new double[]{r * x * mean[c], r * mean[c]};
            case MAX -> x >= 0 ? new double[]{x * max[c], max[c]} : new double[]{x * min[c], min[c]};
            case LSE -> {
                double m = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < cells; p++) m = Math.max(m, r * x * g[c * cells + p]);
                double z = 0, dz = 0;
                for (int p = 0; p < cells; p++) {
                    double e = Math.exp(r * x * g[c * cells + p] - m);
                    z += e;
                    dz += e * g[c * cells + p];
                }
                yield new double[]{(m + Math.log(z)) / r, dz / z};
            }
        };
    }
}
