package conta.tensor;

/**
 * Naive, obviously-correct double-precision forward reference for every {@link Backend} op, on flat {@code double[]}
 * arrays in NCHW order with the shape passed explicitly. Written from the PyTorch documentation and kernels' formulas,
 * independently of the CPU backend; clarity over speed (nested loops, no tricks).
 *
 * <p>Conventions: {@code hw} is the product of the spatial dims; 4-d tensors are {@code n x c x h x w}; arrays passed
 * in are never modified unless a method says so ({@link #sgdStep}).
 */
public final class RefOps {
    private RefOps() { }

    // ------------------------------------------------------------------ indexing
    static int idx(int n, int c, int h, int w, int C, int H, int W) { return ((n * C + c) * H + h) * W + w; }

    // ------------------------------------------------------------------ convolution
    /** Output size of a convolution / non-ceil pooling: floor((in + 2p - d(k-1) - 1) / s) + 1. */
    public static int convOut(int in, int k, int stride, int pad, int dil) {
        return Math.floorDiv(in + 2 * pad - dil * (k - 1) - 1, stride) + 1;
    }

    /**
     * y[n,o,oh,ow] = bias[o] + sum_{c,i,j} x[n,c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] * w[o,c,i,j]
     * (zero outside the input). x: n x c x h x w, w: o x c x kh x kw, bias: o or null. groups = 1.
     */
    public static double[] conv2d(double[] x, int N, int C, int H, int W, double[] wt, int O, double[] bias, ConvSpec s) {
        int OH = convOut(H, s.kh(), s.strideH(), s.padH(), s.dilH());
        int OW = convOut(W, s.kw(), s.strideW(), s.padW(), s.dilW());
        double[] y = new double[N * O * OH * OW];
        for (int n = 0; n < N; n++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                        double acc = bias == null ? 0 : bias[o];
                        for (int c = 0; c < C; c++)
                            for (int i = 0; i < s.kh(); i++)
                                for (int j = 0; j < s.kw(); j++) {
                                    int ih = oh * s.strideH() - s.padH() + i * s.dilH();
                                    int iw = ow * s.strideW() - s.padW() + j * s.dilW();
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    acc += x[idx(n, c, ih, iw, C, H, W)] * wt[idx(o, c, i, j, C, s.kh(), s.kw())];
                                }
                        y[idx(n, o, oh, ow, O, OH, OW)] = acc;
                    }
        return y;
    }

    // ------------------------------------------------------------------ batch norm
    /** Result of a training-mode batch norm: output, batch mean, 1/sqrt(biased var + eps), updated running stats. */
    public record BnResult(double[] y, double[] mean, double[] invStd, double[] runMean, double[] runVar) { }

    /**
     * PyTorch BatchNorm (training): per channel over N and spatial dims, mean and biased variance normalise;
     * running_mean = (1-m)*running_mean + m*mean, running_var = (1-m)*running_var + m*var*cnt/(cnt-1).
     */
    public static BnResult batchNormTrain(double[] x, int N, int C, int HW, double[] gamma, double[] beta,
                                          double[] runMean, double[] runVar, double momentum, double eps) {
        int cnt = N * HW;
        double[] mean = new double[C], invStd = new double[C], rm = new double[C], rv = new double[C];
        double[] y = new double[x.length];
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int n = 0; n < N; n++) for (int i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
            double m = s / cnt;
            double ss = 0;
            for (int n = 0; n < N; n++) for (int i = 0; i < HW; i++) {
                double d = x[(n * C + c) * HW + i] - m;
                ss += d * d;
            }
            double varB = ss / cnt;
            double varU = ss / (cnt - 1);
            mean[c] = m;
            invStd[c] = 1.0 / Math.sqrt(varB + eps);
            for (int n = 0; n < N; n++) for (int i = 0; i < HW; i++) {
                int k = (n * C + c) * HW + i;
                y[k] = (x[k] - m) * invStd[c] * gamma[c] + beta[c];
            }
            rm[c] = (1 - momentum) * runMean[c] + momentum * m;
            rv[c] = (1 - momentum) * runVar[c] + momentum * varU;
        }
        return new BnResult(y, mean, invStd, rm, rv);
    }

    /** y[n,c,...] = x[n,c,...] * scale[c] + shift[c] (shift null: 0). */
    public static double[] channelAffine(double[] x, int N, int C, int HW, double[] scale, double[] shift) {
        double[] y = new double[x.length];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++) for (int i = 0; i < HW; i++) {
            int k = (n * C + c) * HW + i;
            y[k] = x[k] * scale[c] + (shift == null ? 0 : shift[c]);
        }
        return y;
    }

    // ------------------------------------------------------------------ elementwise
    public static double[] relu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
        return y;
    }

    public static double sigmoid(double v) { return 1.0 / (1.0 + Math.exp(-v)); }

    public static double[] sigmoid(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = sigmoid(x[i]);
        return y;
    }

    /** Softmax over dim 1 of an N x C x (HW) tensor. */
    public static double[] softmax(double[] x, int N, int C, int HW) {
        double[] y = new double[x.length];
        for (int n = 0; n < N; n++) for (int i = 0; i < HW; i++) {
            double mx = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < C; c++) mx = Math.max(mx, x[(n * C + c) * HW + i]);
            double z = 0;
            for (int c = 0; c < C; c++) z += Math.exp(x[(n * C + c) * HW + i] - mx);
            for (int c = 0; c < C; c++) y[(n * C + c) * HW + i] = Math.exp(x[(n * C + c) * HW + i] - mx) / z;
        }
        return y;
    }

    /** out = alpha*a + beta*b. */
    public static double[] addScaled(double[] a, double alpha, double[] b, double beta) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = alpha * a[i] + beta * b[i];
        return y;
    }

    public static double[] mul(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] * b[i];
        return y;
    }

    public static double[] scale(double[] x, double s) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * s;
        return y;
    }

    public static double sum(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s;
    }

    /** Returns (accumulate ? out : 0) + per-channel sum over N and spatial dims of x (N x C x HW). */
    public static double[] channelSum(double[] x, int N, int C, int HW, double[] out, boolean accumulate) {
        double[] r = new double[C];
        for (int c = 0; c < C; c++) {
            double s = accumulate ? out[c] : 0;
            for (int n = 0; n < N; n++) for (int i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
            r[c] = s;
        }
        return r;
    }

    /** Returns (accumulate ? out : 0) + per-channel sum over N and spatial dims of a*b. */
    public static double[] channelDot(double[] a, double[] b, int N, int C, int HW, double[] out, boolean accumulate) {
        double[] r = new double[C];
        for (int c = 0; c < C; c++) {
            double s = accumulate ? out[c] : 0;
            for (int n = 0; n < N; n++) for (int i = 0; i < HW; i++) {
                int k = (n * C + c) * HW + i;
                s += a[k] * b[k];
            }
            r[c] = s;
        }
        return r;
    }

    /**
     * Returns a copy of dst (N x dstC x HW) with dst[:, dstC0+c] (+)= src[:, srcC0+c] (src N x srcC x HW) for c < count.
     */
    public static double[] copyChannels(double[] src, int srcC, int srcC0, double[] dst, int dstC, int dstC0, int count,
                                        int N, int HW, boolean accumulate) {
        double[] r = dst.clone();
        for (int n = 0; n < N; n++) for (int c = 0; c < count; c++) for (int i = 0; i < HW; i++) {
            int d = (n * dstC + dstC0 + c) * HW + i;
            double v = src[(n * srcC + srcC0 + c) * HW + i];
            r[d] = accumulate ? r[d] + v : v;
        }
        return r;
    }

    // ------------------------------------------------------------------ gemm
    /**
     * C' = alpha * op(A) op(B) + beta * C, row-major; op(A) is M x K (A stored K x M when transA), op(B) K x N
     * (B stored N x K when transB), C M x N. c may be null when beta == 0.
     */
    public static double[] gemm(boolean transA, boolean transB, double alpha, double[] a, double[] b, double beta,
                                double[] c, int M, int N, int K) {
        double[] r = new double[M * N];
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int k = 0; k < K; k++) {
                    double av = transA ? a[k * M + i] : a[i * K + k];
                    double bv = transB ? b[j * K + k] : b[k * N + j];
                    s += av * bv;
                }
                r[i * N + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * N + j]);
            }
        return r;
    }

    // ------------------------------------------------------------------ pooling
    /**
     * PyTorch pooling_output_shape: floor_or_ceil((in + 2p - d(k-1) - 1) / s) + 1, and in ceil mode the last window
     * must start inside the input or the left padding (else one fewer).
     */
    public static int poolOut(int in, int k, int stride, int pad, int dil, boolean ceil) {
        int num = in + 2 * pad - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0);
        int o = Math.floorDiv(num, stride) + 1;
        if (ceil && (o - 1) * stride >= in + pad) o--;
        return o;
    }

    /** Max over each window of the (-inf padded) input; supports dilation. */
    public static double[] maxPool2d(double[] x, int N, int C, int H, int W, ConvSpec s, boolean ceil) {
        int OH = poolOut(H, s.kh(), s.strideH(), s.padH(), s.dilH(), ceil);
        int OW = poolOut(W, s.kw(), s.strideW(), s.padW(), s.dilW(), ceil);
        double[] y = new double[N * C * OH * OW];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++)
            for (int oh = 0; oh < OH; oh++) for (int ow = 0; ow < OW; ow++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < s.kh(); i++) for (int j = 0; j < s.kw(); j++) {
                    int ih = oh * s.strideH() - s.padH() + i * s.dilH();
                    int iw = ow * s.strideW() - s.padW() + j * s.dilW();
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue; // padding is -inf
                    m = Math.max(m, x[idx(n, c, ih, iw, C, H, W)]);
                }
                y[idx(n, c, oh, ow, C, OH, OW)] = m;
            }
        return y;
    }

    /**
     * Average pooling, count_include_pad=True, as PyTorch's kernel: hstart = oh*s - p, hend = min(hstart + k, H + p),
     * divisor = (hend - hstart) * (wend - wstart) (computed before clipping to the input, so in ceil mode a window
     * running past the padded edge is divided by its clipped size); the sum runs over the window clipped to the input.
     * Dilation is not supported (PyTorch's avg_pool2d has none).
     */
    public static double[] avgPool2d(double[] x, int N, int C, int H, int W, ConvSpec s, boolean ceil) {
        if (s.dilH() != 1 || s.dilW() != 1) throw new IllegalArgumentException("avg pool has no dilation");
        int OH = poolOut(H, s.kh(), s.strideH(), s.padH(), 1, ceil);
        int OW = poolOut(W, s.kw(), s.strideW(), s.padW(), 1, ceil);
        double[] y = new double[N * C * OH * OW];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++)
            for (int oh = 0; oh < OH; oh++) for (int ow = 0; ow < OW; ow++) {
                int hs = oh * s.strideH() - s.padH(), ws = ow * s.strideW() - s.padW();
                int he = Math.min(hs + s.kh(), H + s.padH()), we = Math.min(ws + s.kw(), W + s.padW());
                int divisor = (he - hs) * (we - ws);
                double acc = 0;
                for (int ih = Math.max(hs, 0); ih < Math.min(he, H); ih++)
                    for (int iw = Math.max(ws, 0); iw < Math.min(we, W); iw++) acc += x[idx(n, c, ih, iw, C, H, W)];
                y[idx(n, c, oh, ow, C, OH, OW)] = acc / divisor;
            }
        return y;
    }

    // ------------------------------------------------------------------ resize
    /** Source coordinate of output pixel dst along one axis (PyTorch upsample_bilinear2d with output size given). */
    public static double srcCoord(int dst, int in, int out, boolean alignCorners) {
        if (alignCorners) return out > 1 ? dst * (double) (in - 1) / (out - 1) : 0.0;
        double src = (dst + 0.5) * in / out - 0.5;
        return Math.max(0.0, src);
    }

    /** Bilinear resize of n x c x h x w to n x c x oh x ow. */
    public static double[] resizeBilinear(double[] x, int N, int C, int H, int W, int OH, int OW, boolean alignCorners) {
        double[] y = new double[N * C * OH * OW];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++)
            for (int oh = 0; oh < OH; oh++) for (int ow = 0; ow < OW; ow++) {
                double sh = srcCoord(oh, H, OH, alignCorners), sw = srcCoord(ow, W, OW, alignCorners);
                int h0 = (int) Math.floor(sh), w0 = (int) Math.floor(sw);
                if (h0 > H - 1) h0 = H - 1;
                if (w0 > W - 1) w0 = W - 1;
                int h1 = Math.min(h0 + 1, H - 1), w1 = Math.min(w0 + 1, W - 1);
                double lh = sh - h0, lw = sw - w0;
                double v = (1 - lh) * ((1 - lw) * x[idx(n, c, h0, w0, C, H, W)] + lw * x[idx(n, c, h0, w1, C, H, W)])
                        + lh * ((1 - lw) * x[idx(n, c, h1, w0, C, H, W)] + lw * x[idx(n, c, h1, w1, C, H, W)]);
                y[idx(n, c, oh, ow, C, OH, OW)] = v;
            }
        return y;
    }

    // ------------------------------------------------------------------ losses
    /** log(sigmoid(v)), stable for both signs. */
    public static double logSigmoid(double v) {
        return v >= 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v));
    }

    /** multilabel_soft_margin_loss: mean_n [ -(1/C) sum_c (y log s(x) + (1-y) log s(-x)) ], logits/targets N x C. */
    public static double multilabelSoftMarginLoss(double[] x, double[] t, int N, int C) {
        double total = 0;
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int c = 0; c < C; c++) {
                int k = n * C + c;
                s += t[k] * logSigmoid(x[k]) + (1 - t[k]) * logSigmoid(-x[k]);
            }
            total += -s / C;
        }
        return total / N;
    }

    /** BCEWithLogitsLoss (reduction mean): mean over all elements of -(y log s(x) + (1-y) log s(-x)). */
    public static double bceWithLogitsLoss(double[] x, double[] t) {
        double s = 0;
        for (int k = 0; k < x.length; k++) s += -(t[k] * logSigmoid(x[k]) + (1 - t[k]) * logSigmoid(-x[k]));
        return s / x.length;
    }

    /**
     * cross_entropy over dim 1 (N x C x HW logits, N x HW float labels), reduction mean with weight and ignore_index:
     * sum_{i not ignored} w[y_i] * (-log softmax(x_i)[y_i]) / sum_{i not ignored} w[y_i]  (w = 1 when weights null).
     */
    public static double crossEntropyLoss(double[] x, double[] labels, double[] weights, int ignoreIndex,
                                          int N, int C, int HW) {
        double num = 0, den = 0;
        for (int n = 0; n < N; n++) for (int i = 0; i < HW; i++) {
            int lab = (int) labels[n * HW + i];
            if (lab == ignoreIndex) continue;
            double mx = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < C; c++) mx = Math.max(mx, x[(n * C + c) * HW + i]);
            double z = 0;
            for (int c = 0; c < C; c++) z += Math.exp(x[(n * C + c) * HW + i] - mx);
            double logp = x[(n * C + lab) * HW + i] - mx - Math.log(z);
            double w = weights == null ? 1 : weights[lab];
            num += -w * logp;
            den += w;
        }
        return num / den;
    }

    // ------------------------------------------------------------------ optimizer
    /**
     * torch.optim.SGD (dampening 0, no nesterov), in place on p and buf:
     * g = grad + wd*p; buf = first ? g : momentum*buf + g; p -= lr*buf.
     */
    public static void sgdStep(double[] p, double[] grad, double[] buf, double lr, double momentum, double wd,
                               boolean firstStep) {
        for (int i = 0; i < p.length; i++) {
            double g = grad[i] + wd * p[i];
            buf[i] = firstStep ? g : momentum * buf[i] + g;
            p[i] -= lr * buf[i];
        }
    }
}
