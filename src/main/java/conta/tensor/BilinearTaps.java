package conta.tensor;

/**
 * PyTorch's upsample_bilinear2d coordinate rule along one axis: for each output index the two source indices and
 * their weights. Shared by the CPU backend's resize and the host label maps (HostWsss.upsampleArgmax), which must
 * compute the same interpolated values to the bit.
 */
public record BilinearTaps(int[] i0, int[] i1, float[] w0, float[] w1) {
    public static BilinearTaps of(int in, int out, boolean alignCorners) {
        int[] i0 = new int[out], i1 = new int[out];
        float[] w0 = new float[out], w1 = new float[out];
        float scale = alignCorners ? (out > 1 ? (float) (in - 1) / (out - 1) : 0f) : (float) in / out;
        for (int o = 0; o < out; o++) {
            float src = alignCorners ? scale * o : Math.max(0f, scale * (o + 0.5f) - 0.5f);
            int a = Math.min((int) src, in - 1);
            int b = a + (a < in - 1 ? 1 : 0);
            float l1 = src - a;
            i0[o] = a;
            i1[o] = b;
            w0[o] = 1f - l1;
            w1[o] = l1;
        }
        return new BilinearTaps(i0, i1, w0, w1);
    }
}
