package conta.autograd;

import static conta.autograd.Tape.accumulate;
import static conta.autograd.Tape.gradBuffer;
import static conta.autograd.Tape.needs;
import static conta.autograd.Tape.record;
import static conta.autograd.Tape.track;

import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.util.List;

/**
 * Differentiable functions over {@link Backend} primitives: each computes its output and, when a tape records,
 * registers how to back-propagate. Layers and models call only these, so they run unchanged on any backend.
 */
public final class F {
    private F() { }

    private static Tensor out(Backend b, int... shape) { return track(b.empty(shape)); }

    private static boolean any(Tensor... ts) {
        for (Tensor t : ts) if (needs(t)) return true;
        return false;
    }

    // ------------------------------------------------------------------ convolution
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvSpec s) {
        Backend b = x.backend();
        if (x.rank() != 4) throw new IllegalArgumentException("conv2d expects N x C x H x W input, got " + x.shapeString());
        Tensor y = out(b, x.dim(0), w.dim(0), s.outH(x.dim(2)), s.outW(x.dim(3)));
        b.conv2d(x, w, bias, s, y);
        if (any(x, w, bias)) record("conv2d", y, gy -> {
            Tensor dx = needs(x) ? b.empty(x.shape()) : null;
            b.conv2dBackward(x, w, gy, s, dx, needs(w) ? gradBuffer(w) : null, needs(bias) ? gradBuffer(bias) : null);
            if (dx != null) accumulate(x, dx);
        });
        return y;
    }

    // ------------------------------------------------------------------ normalisation
    /** Batch norm with batch statistics; updates the running stats (if given) like PyTorch's train(). */
    public static Tensor batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps) {
        return batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, false);
    }

    /** relu(batchNormTrain(...)) in one op: one pass less each way, and the pre-ReLU tensor is never stored. */
    public static Tensor batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps) {
        return batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, true);
    }

    private static Tensor batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                                         float eps, boolean relu) {
        Backend b = x.backend();
        int c = x.dim(1);
        Tensor y = out(b, x.shape());
        Tensor mean = out(b, c), inv = out(b, c);
        if (relu) b.batchNormReluTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, mean, inv);
        else b.batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, mean, inv);
        if (any(x, gamma, beta)) record(relu ? "batchNormRelu" : "batchNorm", y, gy -> {
            Tensor dx = needs(x) ? b.empty(x.shape()) : null;
            Tensor dg = needs(gamma) ? gradBuffer(gamma) : null, db = needs(beta) ? gradBuffer(beta) : null;
            if (relu) b.batchNormReluBackward(x, gamma, y, gy, mean, inv, dx, dg, db);
            else b.batchNormBackward(x, gamma, gy, mean, inv, dx, dg, db);
            if (dx != null) accumulate(x, dx);
        });
        return y;
    }

    /** Batch norm with fixed running statistics (PyTorch eval(), IRNet's FixedBatchNorm); gamma and beta may learn. */
    public static Tensor batchNormFrozen(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        return batchNormFrozen(x, gamma, beta, runMean, runVar, eps, false);
    }

    /** relu(batchNormFrozen(...)) in one op. */
    public static Tensor batchNormFrozenRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        return batchNormFrozen(x, gamma, beta, runMean, runVar, eps, true);
    }

    private static Tensor batchNormFrozen(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps,
                                          boolean relu) {
        Backend b = x.backend();
        int c = x.dim(1);
        Tensor scale = track(b.empty(c)), shift = track(b.empty(c)), inv = track(b.empty(c));
        b.batchNormFold(gamma, beta, runMean, runVar, eps, scale, shift, inv);
        return batchNormFolded(x, gamma, beta, runMean, scale, shift, inv, relu);
    }

    /**
     * Frozen batch norm (optionally + ReLU) from its fold (scale, shift, invStd of {@link Backend#batchNormFold}), which
     * the caller keeps alive until backward, e.g. BatchNorm2d's cache while its weights are unchanged. Everything stays on
     * the backend: no value is read back to the host, forward or backward.
     */
    public static Tensor batchNormFolded(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor scale, Tensor shift, Tensor inv,
                                         boolean relu) {
        Backend b = x.backend();
        int c = x.dim(1);
        Tensor y = out(b, x.shape());
        if (relu) b.channelAffineRelu(x, scale, shift, y);
        else b.channelAffine(x, scale, shift, y);
        if (any(x, gamma, beta)) record(relu ? "batchNormFrozenRelu" : "batchNormFrozen", y, gy -> {
            // dx = g * scale and the per-channel sums of g and g * x, g = gy masked by the ReLU's output
            Tensor dx = needs(x) ? b.empty(x.shape()) : null;
            Tensor sg = needs(gamma) || needs(beta) ? b.empty(c) : null, sgx = needs(gamma) ? b.empty(c) : null;
            b.channelAffineBackward(x, relu ? y : null, gy, scale, dx, sg, sgx);
            // dgamma = sum(g * (x - mean) * inv) = inv * (sum(g*x) - mean * sum(g))
            if (needs(gamma)) {
                b.batchNormFoldGammaGrad(inv, runMean, sg, sgx, gradBuffer(gamma));
                sgx.close();
            }
            if (needs(beta)) {
                Tensor buf = gradBuffer(beta);
                b.addScaled(buf, 1f, sg.view(buf.shape()), 1f, buf);
            }
            if (sg != null) sg.close();
            if (dx != null) accumulate(x, dx);
        });
        return y;
    }

    /** y[n,c,...] = x[n,c,...] * scale[c] + shift[c] with learnable scale and shift [C] (shift nullable). */
    public static Tensor channelAffine(Tensor x, Tensor scale, Tensor shift) {
        Backend b = x.backend();
        if (x.rank() < 2 || scale.numel() != x.dim(1) || (shift != null && shift.numel() != x.dim(1)))
            throw new IllegalArgumentException("channelAffine: " + x.shapeString() + " with scale " + scale.shapeString()
                    + (shift == null ? "" : " shift " + shift.shapeString()));
        Tensor y = out(b, x.shape());
        b.channelAffine(x, scale, shift, y);
        if (any(x, scale, shift)) record("channelAffine", y, gy -> {
            if (needs(scale)) b.channelDot(gy, x, gradBuffer(scale), true);
            if (needs(shift)) b.channelSum(gy, gradBuffer(shift), true);
            if (needs(x)) {
                Tensor dx = b.empty(x.shape());
                b.channelAffine(gy, scale, null, dx);
                accumulate(x, dx);
            }
        });
        return y;
    }

    /**
     * GroupNorm (PyTorch nn.GroupNorm): statistics over each group of C/groups channels and all spatial positions of
     * one sample, then a per-channel affine. Composed as batch norm over the (1, N*groups, C/groups, HW) view, which
     * normalises exactly those sets (biased variance, no running statistics).
     */
    public static Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps) {
        if (x.rank() != 4 || groups <= 0 || x.dim(1) % groups != 0)
            throw new IllegalArgumentException("groupNorm: " + groups + " groups for input " + x.shapeString());
        Backend b = x.backend();
        int n = x.dim(0), c = x.dim(1), ng = n * groups;
        Tensor ones = track(b.empty(ng)), zeros = track(Tensor.zeros(b, ng));
        b.fill(ones, 1f);
        Tensor xv = reshape(x, 1, ng, c / groups, x.dim(2) * x.dim(3));
        Tensor normed = reshape(batchNormTrain(xv, ones, zeros, null, null, 0f, eps), x.shape());
        return channelAffine(normed, gamma, beta);
    }

    /** Top-left spatial crop x[..., :h, :w] of an N x C x H x W tensor (IRNet's crop after upsampling). */
    public static Tensor cropSpatial(Tensor x, int h, int w) {
        if (x.rank() != 4 || h > x.dim(2) || w > x.dim(3) || h <= 0 || w <= 0)
            throw new IllegalArgumentException("cannot crop " + x.shapeString() + " to " + h + "x" + w);
        if (h == x.dim(2) && w == x.dim(3)) return x;
        Backend b = x.backend();
        Tensor y = out(b, x.dim(0), x.dim(1), h, w);
        b.copyWindow(x, 0, 0, y, 0, 0, h, w, false); // one strided copy, not one per row and plane
        if (any(x)) record("crop", y, gy -> {
            Tensor dx = Tensor.zeros(b, x.shape());
            b.copyWindow(gy, 0, 0, dx, 0, 0, h, w, false);
            accumulate(x, dx);
        });
        return y;
    }

    // ------------------------------------------------------------------ elementwise
    /** Backend forward y = f(x), and its backward from the output alone: dx = g(y, dy). */
    private interface Forward { void run(Backend b, Tensor x, Tensor y); }

    private interface BackwardFromOutput { void run(Backend b, Tensor y, Tensor dy, Tensor dx); }

    /** A same-shape op whose gradient needs only its output (ReLU, softmax). */
    private static Tensor fromOutput(String op, Tensor x, Forward f, BackwardFromOutput g) {
        Backend b = x.backend();
        Tensor y = out(b, x.shape());
        f.run(b, x, y);
        if (any(x)) record(op, y, gy -> {
            Tensor dx = b.empty(x.shape());
            g.run(b, y, gy, dx);
            accumulate(x, dx);
        });
        return y;
    }

    public static Tensor relu(Tensor x) { return fromOutput("relu", x, Backend::relu, Backend::reluBackward); }

    public static Tensor add(Tensor a, Tensor c) { return addScaled(a, 1f, c, 1f); }

    public static Tensor sub(Tensor a, Tensor c) { return addScaled(a, 1f, c, -1f); }

    /** alpha * a + beta * c. */
    public static Tensor addScaled(Tensor a, float alpha, Tensor c, float beta) {
        Backend b = a.backend();
        Tensor y = out(b, a.shape());
        b.addScaled(a, alpha, c, beta, y);
        if (any(a, c)) record("add", y, gy -> {
            if (needs(a) && needs(c) && alpha == 1f && beta == 1f) {
                Tape.passToBoth(y, a, c); // a plain sum: one buffer for both (a copy only where either has one)
                return;
            }
            if (needs(a) && needs(c)) Tape.accumulateScaled(a, gy, alpha);
            if (needs(c)) Tape.pass(y, c, beta); // last: may take gy itself
            else Tape.pass(y, a, alpha);
        });
        return y;
    }

    /** relu(a + c) in one op: a residual block's output. */
    public static Tensor addRelu(Tensor a, Tensor c) {
        Backend b = a.backend();
        Tensor y = out(b, a.shape());
        b.addRelu(a, c, y);
        if (any(a, c)) record("addRelu", y, gyIn -> {
            Tensor gy = Tape.ownGrad(y); // in place below: gy is this op's own and spent after this node
            b.reluBackward(y, gy, gy);
            if (needs(a) && needs(c)) Tape.passToBoth(y, a, c); // one buffer for both (a copy only where either has one)
            else Tape.pass(y, needs(c) ? c : a, 1f);
        });
        return y;
    }

    public static Tensor mul(Tensor a, Tensor c) {
        Backend b = a.backend();
        Tensor y = out(b, a.shape());
        b.mul(a, c, y);
        if (any(a, c)) record("mul", y, gy -> {
            if (needs(a)) {
                Tensor d = b.empty(a.shape());
                b.mul(gy, c, d);
                accumulate(a, d);
            }
            if (needs(c)) {
                Tensor d = b.empty(c.shape());
                b.mul(gy, a, d);
                accumulate(c, d);
            }
        });
        return y;
    }

    public static Tensor scale(Tensor x, float s) {
        Backend b = x.backend();
        Tensor y = out(b, x.shape());
        b.scale(x, s, y);
        if (any(x)) record("scale", y, gy -> {
            Tensor d = b.empty(x.shape());
            b.scale(gy, s, d);
            accumulate(x, d);
        });
        return y;
    }

    public static Tensor sigmoid(Tensor x) {
        Backend b = x.backend();
        Tensor y = out(b, x.shape());
        b.sigmoid(x, y);
        if (any(x)) record("sigmoid", y, gy -> {
            Tensor t = b.empty(x.shape());
            b.mul(y, y, t);
            b.addScaled(y, 1f, t, -1f, t); // y - y^2
            b.mul(gy, t, t);
            accumulate(x, t);
        });
        return y;
    }

    /** Softmax over dim 1. */
    public static Tensor softmax(Tensor x) { return fromOutput("softmax", x, Backend::softmax, Backend::softmaxBackward); }

    // ------------------------------------------------------------------ shape
    /** Same data, new shape. The view is tracked; gradients are copied back into x's shape. */
    public static Tensor reshape(Tensor x, int... shape) {
        Tensor y = track(x.view(shape));
        if (any(x)) record("reshape", y, gy -> {
            Tensor d = x.backend().empty(x.shape());
            x.backend().copy(gy, 0, d, 0, gy.numel());
            accumulate(x, d);
        });
        return y;
    }

    public static Tensor concatChannels(List<Tensor> xs) {
        Tensor first = xs.getFirst();
        Backend b = first.backend();
        int[] shape = first.shape();
        int c = 0;
        for (Tensor t : xs) c += t.dim(1);
        shape[1] = c;
        Tensor y = out(b, shape);
        int c0 = 0;
        for (Tensor t : xs) {
            b.copyChannels(t, 0, y, c0, t.dim(1), false);
            c0 += t.dim(1);
        }
        if (any(xs.toArray(new Tensor[0]))) record("concat", y, gy -> {
            int k = 0;
            for (Tensor t : xs) {
                if (needs(t)) {
                    Tensor d = b.empty(t.shape());
                    b.copyChannels(gy, k, d, 0, t.dim(1), false);
                    accumulate(t, d);
                }
                k += t.dim(1);
            }
        });
        return y;
    }

    public static Tensor sliceChannels(Tensor x, int c0, int count) {
        Backend b = x.backend();
        int[] shape = x.shape();
        shape[1] = count;
        Tensor y = out(b, shape);
        b.copyChannels(x, c0, y, 0, count, false);
        if (any(x)) record("slice", y, gy -> {
            Tensor d = Tensor.zeros(b, x.shape());
            b.copyChannels(gy, 0, d, c0, count, false);
            accumulate(x, d);
        });
        return y;
    }

    // ------------------------------------------------------------------ pooling and resize
    public static Tensor maxPool2d(Tensor x, ConvSpec s, boolean ceil) {
        Backend b = x.backend();
        Tensor y = out(b, x.dim(0), x.dim(1), s.poolOutH(x.dim(2), ceil), s.poolOutW(x.dim(3), ceil));
        b.maxPool2d(x, s, ceil, y);
        if (any(x)) record("maxPool2d", y, gy -> {
            Tensor dx = b.empty(x.shape());
            b.maxPool2dBackward(x, s, ceil, gy, dx);
            accumulate(x, dx);
        });
        return y;
    }

    public static Tensor avgPool2d(Tensor x, ConvSpec s, boolean ceil) {
        Backend b = x.backend();
        Tensor y = out(b, x.dim(0), x.dim(1), s.poolOutH(x.dim(2), ceil), s.poolOutW(x.dim(3), ceil));
        b.avgPool2d(x, s, ceil, y);
        if (any(x)) record("avgPool2d", y, gy -> {
            Tensor dx = b.empty(x.shape());
            b.avgPool2dBackward(s, ceil, gy, dx);
            accumulate(x, dx);
        });
        return y;
    }

    /** Mean over H and W: N x C x H x W -> N x C x 1 x 1. */
    public static Tensor globalAvgPool(Tensor x) {
        return avgPool2d(x, new ConvSpec(x.dim(2), x.dim(3), 1, 1, 0, 0, 1, 1), false);
    }

    public static Tensor resizeBilinear(Tensor x, int h, int w, boolean alignCorners) {
        Backend b = x.backend();
        Tensor y = out(b, x.dim(0), x.dim(1), h, w);
        b.resizeBilinear(x, alignCorners, y);
        if (any(x)) record("resize", y, gy -> {
            Tensor dx = b.empty(x.shape());
            b.resizeBilinearBackward(gy, alignCorners, dx);
            accumulate(x, dx);
        });
        return y;
    }

    // ------------------------------------------------------------------ linear
    /** y = x w^T + bias for x N x K, w M x K, bias M (nullable). */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        Backend b = x.backend();
        int n = x.dim(0), m = w.dim(0);
        Tensor y = out(b, n, m);
        if (bias != null) for (int i = 0; i < n; i++) b.copy(bias, 0, y, (long) i * m, m);
        b.gemm(false, true, 1f, x, w, bias != null ? 1f : 0f, y);
        if (any(x, w, bias)) record("linear", y, gy -> {
            if (needs(x)) {
                Tensor dx = b.empty(x.shape());
                b.gemm(false, false, 1f, gy, w, 0f, dx);
                accumulate(x, dx);
            }
            if (needs(w)) b.gemm(true, false, 1f, gy, x, 1f, gradBuffer(w));
            if (needs(bias)) b.channelSum(gy, gradBuffer(bias), true);
        });
        return y;
    }

    // ------------------------------------------------------------------ losses (scalar outputs of shape [1])
    private static Tensor lossNode(String op, Tensor logits, float value, Tensor dlogits) {
        Backend b = logits.backend();
        // the value the loss op read back becomes a kernel argument (fill), not another upload
        Tensor loss = track(b.empty(1));
        b.fill(loss, value);
        if (dlogits != null) {
            track(dlogits);
            record(op, loss, gy -> {
                // d = dlogits * gy[0] on the backend (gy as the one channel's scale): no read of gy to the host
                Tensor d = b.empty(logits.shape());
                int n = Math.toIntExact(dlogits.numel());
                b.channelAffine(dlogits.view(1, 1, n), gy.view(1), null, d.view(1, 1, n));
                accumulate(logits, d);
            });
        }
        return loss;
    }

    public static Tensor multilabelSoftMarginLoss(Tensor logits, Tensor targets) {
        Tensor d = needs(logits) ? logits.backend().empty(logits.shape()) : null;
        float v = logits.backend().multilabelSoftMarginLoss(logits, targets, d, 1f);
        return lossNode("multilabelSoftMargin", logits, v, d);
    }

    public static Tensor bceWithLogits(Tensor logits, Tensor targets) {
        Tensor d = needs(logits) ? logits.backend().empty(logits.shape()) : null;
        float v = logits.backend().bceWithLogitsLoss(logits, targets, d, 1f);
        return lossNode("bceWithLogits", logits, v, d);
    }

    /** Cross-entropy over dim 1; labels N x (spatial) as floats; classWeights nullable. */
    public static Tensor crossEntropy(Tensor logits, Tensor labels, Tensor classWeights, int ignoreIndex) {
        Tensor d = needs(logits) ? logits.backend().empty(logits.shape()) : null;
        float v = logits.backend().crossEntropyLoss(logits, labels, classWeights, ignoreIndex, d, 1f);
        return lossNode("crossEntropy", logits, v, d);
    }
}
