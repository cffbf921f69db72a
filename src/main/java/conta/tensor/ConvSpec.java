package conta.tensor;

/** Geometry of a 2-d convolution or pooling window (PyTorch conventions, symmetric padding). */
public record ConvSpec(int kh, int kw, int strideH, int strideW, int padH, int padW, int dilH, int dilW) {
    public static ConvSpec of(int k, int stride, int pad, int dil) { return new ConvSpec(k, k, stride, stride, pad, pad, dil, dil); }

    public int outH(int h) { return (h + 2 * padH - dilH * (kh - 1) - 1) / strideH + 1; }

    public int outW(int w) { return (w + 2 * padW - dilW * (kw - 1) - 1) / strideW + 1; }

    /** Pooling output size with PyTorch's rules: ceil mode keeps a last window only if it starts inside input or left padding. */
    public static int poolOut(int in, int k, int stride, int pad, int dil, boolean ceil) {
        int span = in + 2 * pad - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0);
        int o = Math.floorDiv(span, stride) + 1;
        if (ceil && (o - 1) * stride >= in + pad) o--;
        return o;
    }

    public int poolOutH(int h, boolean ceil) { return poolOut(h, kh, strideH, padH, dilH, ceil); }

    public int poolOutW(int w, boolean ceil) { return poolOut(w, kw, strideW, padW, dilW, ceil); }
}
