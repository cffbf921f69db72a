package conta.tensor;

/** Geometry of a 2-d convolution or pooling window (PyTorch conventions, symmetric padding). */
public record ConvSpec(int kh, int kw, int strideH, int strideW, int padH, int padW, int dilH, int dilW) {
    public static ConvSpec of(int k, int stride, int pad, int dil) { return new ConvSpec(k, k, stride, stride, pad, pad, dil, dil); }

    public int outH(int h) { return (h + 2 * padH - dilH * (kh - 1) - 1) / strideH + 1; }

    public int outW(int w) { return (w + 2 * padW - dilW * (kw - 1) - 1) / strideW + 1; }

    /** Output size with PyTorch's ceil_mode for pooling (a window must start inside the input or left padding). */
    public int outCeil(int in, int k, int stride, int pad, int dil) {
        int span = in + 2 * pad - dil * (k - 1) - 1;
        int o = Math.ceilDiv(span, stride) + 1;
        if ((o - 1) * stride >= in + pad) o--;
        return o;
    }
}
