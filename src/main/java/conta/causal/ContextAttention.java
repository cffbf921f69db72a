package conta.causal;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.nn.Init;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * CONTA's backdoor context M = sum_i alpha_i c_i P(c_i), P(c_i) = 1/n, alpha = softmax_i((W1 x)ᵀ(W2 c_i) / sqrt(d)),
 * for every query x of X_m (see {@link MaskEncoding} for what a query is). W1, W2 are d x hw parameters {@code w1},
 * {@code w2} (named {@code context.w1}, {@code context.w2} when registered as child "context"), initialised N(0, 0.02)
 * and without bias, as m_t.py's projections; d defaults to n (m_t.py's embedding 21 for its 21 classes), and the scale
 * sqrt(d) equals the paper's sqrt(n) at that default. Built from {@link F} ops, so gradients reach W1 and W2 through
 * alpha. Like every F op, call it under a {@link Tape}, which frees the intermediates.
 *
 * <p>Output: N x k x h x w, one map M per query (k = 1 for the foreground query), to be concatenated to the block-5
 * features (or those of the blocks of {@code conta.blocks}) by {@link conta.models.ResNet#forward(Tensor, Tensor)}
 * (contextChannels = k), which resizes it to each feature grid if h x w differs. Mode {@link Mode#RAW_MASK} (ablation) returns X_m itself and has no parameters; {@link Mode#ZERO} (a control) returns zeros of
 * the same shape, so the classifier has CONTA's extra channels and head shape but no information in them;
 * {@link Mode#ONES} (a control) returns ones: a constant channel, which after the head's average pooling is a learned
 * per-class bias (IRNet's classifier has none), i.e. what a context map that does not vary between images amounts to.
 *
 * <p>Note: a head that pools before its classifier (IRNet's CAM head) sees M only through mean(M) =
 * sum_i alpha_i mean(c_i) / n; M's spatial pattern reaches the CAMs, not the logits.
 */
public final class ContextAttention extends Module {
    public enum Mode { ATTENTION, RAW_MASK, ZERO, ONES }

    public static final double INIT_STD = 0.02;

    public final int classes, height, width, embed;
    public final Mode mode;
    /** d x hw, or null in RAW_MASK mode. */
    public final Tensor w1, w2;

    public ContextAttention(Backend b, int classes, int height, int width, int embed, Mode mode) {
        super(b);
        if (classes <= 0 || height <= 0 || width <= 0 || embed <= 0)
            throw new IllegalArgumentException("ContextAttention: classes, height, width, embed must be positive, got "
                    + classes + ", " + height + ", " + width + ", " + embed);
        this.classes = classes;
        this.height = height;
        this.width = width;
        this.embed = embed;
        this.mode = mode;
        w1 = mode == Mode.ATTENTION ? param("w1", embed, height * width) : null; // no parameters in the other modes
        w2 = mode == Mode.ATTENTION ? param("w2", embed, height * width) : null;
    }

    /** The default: d = n, sizes and classes from the encoding. */
    public static ContextAttention of(Backend b, MaskEncoding e, Mode mode) {
        return new ContextAttention(b, e.classes(), e.height(), e.width(), e.classes(), mode);
    }

    /** W1, W2 ~ N(0, 0.02), seeded. */
    public void init(long seed) { init(seed, INIT_STD); }

    /** W1, W2 ~ N(0, std), seeded (conta.init_std; m_t.py's 0.02 leaves alpha uniform on small grids, README). */
    public void init(long seed, double std) {
        if (mode != Mode.ATTENTION) return;
        SplittableRandom r = new SplittableRandom(seed);
        Init.normal(w1, std, r);
        Init.normal(w2, std, r);
    }

    /** alpha: (N*k) x n, row j = softmax over classes for query j (image j / k, channel j % k). */
    public Tensor attention(Tensor xm, Tensor confounders) {
        if (mode != Mode.ATTENTION) throw new IllegalStateException(mode + " mode has no attention");
        checkShapes(xm, confounders);
        int hw = height * width;
        Tensor q = F.linear(F.reshape(xm, xm.dim(0) * xm.dim(1), hw), w1, null);   // (N*k) x d
        Tensor k = F.linear(Tape.track(confounders.view(classes, hw)), w2, null);   // n x d
        Tensor s = F.scale(F.linear(q, k, null), (float) (1.0 / Math.sqrt(embed))); // (N*k) x n
        return F.softmax(s);
    }

    /** M (N x k x h x w) for X_m (N x k x h x w) and C (n x h x w); in RAW_MASK mode X_m itself, in ZERO / ONES mode constants. */
    public Tensor forward(Tensor xm, Tensor confounders) {
        if (mode == Mode.RAW_MASK) {
            checkShapes(xm, confounders);
            return xm;
        }
        if (mode == Mode.ZERO || mode == Mode.ONES) {
            checkShapes(xm, confounders);
            Tensor t = Tensor.empty(xm.backend(), xm.dim(0), xm.dim(1), height, width);
            xm.backend().fill(t, mode == Mode.ONES ? 1f : 0f);
            return Tape.track(t);
        }
        Tensor alpha = attention(xm, confounders);
        int hw = height * width;
        Tensor m = F.linear(alpha, transposed(confounders), null); // sum_i alpha_i c_i: (N*k) x hw
        m = F.scale(m, 1f / classes);                               // P(c_i) = 1/n
        return F.reshape(m, xm.dim(0), xm.dim(1), height, width);
    }

    /** C as hw x n (F.linear multiplies by the transpose of its weight); constant, so built on the host. */
    private Tensor transposed(Tensor c) {
        int hw = height * width;
        float[] src = c.toArray(), t = new float[src.length];
        for (int i = 0; i < classes; i++) for (int p = 0; p < hw; p++) t[p * classes + i] = src[i * hw + p];
        return Tape.track(Tensor.of(c.backend(), t, hw, classes));
    }

    private void checkShapes(Tensor xm, Tensor c) {
        if (xm.rank() != 4 || xm.dim(2) != height || xm.dim(3) != width)
            throw new IllegalArgumentException("X_m must be N x k x " + height + " x " + width + ", got " + xm.shapeString());
        if (c == null || c.numel() != (long) classes * height * width || c.dim(0) != classes)
            throw new IllegalArgumentException("confounder set must be " + classes + " x " + height + " x " + width
                    + ", got " + (c == null ? "null" : c.shapeString()));
    }
}
