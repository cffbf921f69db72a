package conta.tensor;

/**
 * The primitive ops a device provides. Layers and models are written only against this interface (through
 * {@link conta.autograd.F}); the CPU backend is the reference and the CUDA backend implements the same contract.
 *
 * <p>All tensors are contiguous float32 NCHW as every op sees them (a backend may keep them in another physical layout
 * between its own ops, as the CPU backend keeps training activations in oneDNN's blocked layout, converting whenever
 * they are read otherwise). Outputs are passed in, allocated by the caller with the right shape.
 * Backward ops <em>accumulate</em> into parameter gradients (dw, db, dgamma, dbeta) and <em>overwrite</em> input
 * gradients (dx), unless a method says otherwise.
 */
public interface Backend extends AutoCloseable {
    String name();

    // ---- memory ----
    Tensor empty(int... shape);

    void upload(Tensor t, float[] src);

    float[] download(Tensor t);

    void fill(Tensor t, float value);

    /** dst[dstOff..dstOff+n) = src[srcOff..srcOff+n) (flat element offsets). */
    void copy(Tensor src, long srcOff, Tensor dst, long dstOff, long n);

    /**
     * Channel block copy between two 4-d tensors with the same N, H, W: dst[:, dstC0+c] (+)= src[:, srcC0+c] for c < count.
     * Concat and slice, forward and backward, are all this op.
     */
    void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int count, boolean accumulate);

    // ---- elementwise (same shapes unless stated) ----
    /** out = alpha*a + beta*b. out may alias a or b. */
    void addScaled(Tensor a, float alpha, Tensor b, float beta, Tensor out);

    /** out = a * b elementwise. */
    void mul(Tensor a, Tensor b, Tensor out);

    /** out = x * s. */
    void scale(Tensor x, float s, Tensor out);

    void relu(Tensor x, Tensor y);

    /** dx = dy where y > 0 else 0 (y is the ReLU output). */
    void reluBackward(Tensor y, Tensor dy, Tensor dx);

    void sigmoid(Tensor x, Tensor y);

    /** Softmax over dim 1 of an N x C x (spatial...) tensor. */
    void softmax(Tensor x, Tensor y);

    /** dx = y * (dy - sum_c dy*y). */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /** y[n,c,...] = x[n,c,...] * scale[c] + shift[c] (shift may be null). Frozen batch norm and per-channel bias. */
    void channelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y);

    /** Sum over all dims except 1 into out[C] (accumulating if accumulate). */
    void channelSum(Tensor x, Tensor out, boolean accumulate);

    /** out[C] (+)= sum over all dims except 1 of a*b. */
    void channelDot(Tensor a, Tensor b, Tensor out, boolean accumulate);

    /** Sum of all elements (in double). */
    double sum(Tensor x);

    // ---- linear algebra ----
    /** C = alpha * op(A) op(B) + beta * C for row-major 2-d tensors. */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    // ---- convolution ----
    void conv2d(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y);

    /** dx overwritten (if not null); dw and db accumulated (if not null). */
    void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db);

    // ---- batch norm (training: batch statistics) ----
    /**
     * y = (x - mean_B) / sqrt(var_B + eps) * gamma + beta; updates running stats with PyTorch's momentum and unbiased
     * variance. saveMean and saveInvStd [C] keep what backward needs.
     */
    void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                        Tensor y, Tensor saveMean, Tensor saveInvStd);

    void batchNormBackward(Tensor x, Tensor gamma, Tensor dy, Tensor saveMean, Tensor saveInvStd,
                           Tensor dx, Tensor dgamma, Tensor dbeta);

    // ---- fused pairs: the default composes the primitives; a backend overrides to save passes over memory ----
    /** y = relu(batchNorm(x)), as batchNormTrain followed by relu. */
    default void batchNormReluTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                                    float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
        relu(y, y);
    }

    /** Backward of batchNormReluTrain; y is its output (the ReLU mask). dx overwritten, dgamma / dbeta accumulated. */
    default void batchNormReluBackward(Tensor x, Tensor gamma, Tensor y, Tensor dy, Tensor saveMean, Tensor saveInvStd,
                                       Tensor dx, Tensor dgamma, Tensor dbeta) {
        try (Tensor masked = empty(dy.shape())) {
            reluBackward(y, dy, masked);
            batchNormBackward(x, gamma, masked, saveMean, saveInvStd, dx, dgamma, dbeta);
        }
    }

    /** y = relu(x * scale[c] + shift[c]): frozen batch norm + ReLU. */
    default void channelAffineRelu(Tensor x, Tensor scale, Tensor shift, Tensor y) {
        channelAffine(x, scale, shift, y);
        relu(y, y);
    }

    /**
     * Backward of y = [relu](x * scale[c] + shift[c]) (frozen BN, its ReLU when y is given): with g = dy, or dy where
     * y > 0, dx = g * scale[c] (if dx is not null), sumG[c] = sum g and sumGX[c] = sum g * x (each if not null; for
     * the gradients of gamma and beta). All outputs overwritten.
     */
    default void channelAffineBackward(Tensor x, Tensor y, Tensor dy, Tensor scale, Tensor dx, Tensor sumG, Tensor sumGX) {
        Tensor g = y == null ? dy : empty(dy.shape());
        if (y != null) reluBackward(y, dy, g);
        if (sumGX != null) channelDot(g, x, sumGX, false);
        if (sumG != null) channelSum(g, sumG, false);
        if (dx != null) channelAffine(g, scale, null, dx);
        if (g != dy) g.close();
    }

    /** y = relu(a + b): a residual block's output. */
    default void addRelu(Tensor a, Tensor b, Tensor y) {
        addScaled(a, 1f, b, 1f, y);
        relu(y, y);
    }

    // ---- pooling ----
    void maxPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y);

    /** Routes dy to the first maximum of each window (recomputed from x). */
    void maxPool2dBackward(Tensor x, ConvSpec s, boolean ceil, Tensor dy, Tensor dx);

    /** Average pooling, padding counted in the divisor (PyTorch count_include_pad=True). */
    void avgPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y);

    void avgPool2dBackward(ConvSpec s, boolean ceil, Tensor dy, Tensor dx);

    // ---- resize ----
    /** Bilinear resize of the spatial dims, PyTorch align_corners semantics. */
    void resizeBilinear(Tensor x, boolean alignCorners, Tensor y);

    void resizeBilinearBackward(Tensor dy, boolean alignCorners, Tensor dx);

    // ---- fused losses: return the mean loss and write d(loss)/d(logits) * gradScale into dlogits (if not null) ----
    /** PyTorch multilabel_soft_margin_loss, mean over batch. logits and targets N x C. */
    float multilabelSoftMarginLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale);

    /** PyTorch BCEWithLogitsLoss, mean over all elements. */
    float bceWithLogitsLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale);

    /**
     * Cross-entropy over dim 1 of N x C x H x W logits against N x H x W labels stored as floats; pixels whose label
     * equals ignoreIndex are skipped. classWeights (C, nullable) as in PyTorch's weight argument: the mean divides by the
     * sum of the weights of the counted pixels.
     */
    float crossEntropyLoss(Tensor logits, Tensor labels, Tensor classWeights, int ignoreIndex, Tensor dlogits, float gradScale);

    // ---- optimizer ----
    /** torch.optim.SGD step: g = grad + wd*p; buf = momentum*buf + g (buf = g on first step); p -= lr*buf. */
    void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay, boolean firstStep);

    // ---- layer helpers that keep the layer path on the device (no host round trip per forward) ----
    /**
     * Frozen batch norm folded into a per-channel affine map, all [C]: invStd = 1/sqrt(var + eps) (in double, rounded
     * to float), scale = gamma * invStd, shift = beta - mean * scale (float products, no fused multiply-add).
     */
    void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd);

    /**
     * dgamma += invStd * (sumGX - mean * sumG) per channel (in double, rounded to float before the add): frozen BN's
     * gamma gradient from the per-channel sums of g and g * x that channelAffineBackward produces. All [C].
     */
    void batchNormFoldGammaGrad(Tensor invStd, Tensor mean, Tensor sumG, Tensor sumGX, Tensor dgamma);

    /**
     * One strided copy of an h x w window per plane: dst[p, dstTop + r, dstLeft + q] = (or +=, accumulate)
     * src[p, srcTop + r, srcLeft + q] for every plane p of N*C (src and dst agree on N and C, rank 4) — a crop, a pad
     * into a filled tensor, or their gradients. src and dst must not overlap.
     */
    void copyWindow(Tensor src, int srcTop, int srcLeft, Tensor dst, int dstTop, int dstLeft, int h, int w, boolean accumulate);

    /**
     * The WSSS ops (CAMs, seeds, confounder masks, random walk, confusion) on this backend's tensors. Default: the CPU
     * implementation, which reads and writes the tensors through download/upload; a device backend returns its own.
     */
    default WsssOps wsss() { return new HostWsss(this); }

    /** Wait for queued work (no-op on CPU). */
    default void synchronize() { }

    /**
     * The folder of the pipeline run this backend now serves, given before the run's first op: a backend keeps there
     * what a resumed run must repeat to give the same sums (the CUDA graph path's measured engine choices). Default:
     * nothing is kept.
     */
    default void useRunFolder(java.nio.file.Path dir) { }

    @Override
    default void close() { }
}
