package conta.tensor.cpu;

import static conta.tensor.cpu.CpuBackend.F;
import static conta.tensor.cpu.CpuBackend.seg;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Dilated "same" convolutions whose off-centre taps only ever read padding: with stride 1 and padding dil·(k-1)/2,
 * output pixel y reads input y + j·dil (j = -(k-1)/2 .. (k-1)/2), which lies outside a map of H rows for every y once
 * dil >= H. DeepLab-v2's ASPP (rates 6/12/18/24) on the small maps of its multi-scale inputs is mostly such
 * convolutions (at 112 px crops: 15, 11 and 8 px maps, 8 of its 12 branches), and oneDNN has no fast kernel for
 * dilations that large (it runs them as im2col + gemm, ~10% of a DeepLab training step there). They are exactly
 * a 1x1 convolution with the kernel's centre weights: the same sums over the same products, without the zeros.
 * The weight gradient of every other tap is exactly zero (each product has a padding zero), so the backward adds
 * the 1x1 gradient to the centre taps and leaves the others as they were.
 *
 * <p>Used by the oneDNN path of {@link CpuBackend} (training) and by {@link DnnlGraph} (inference plans, where the
 * rate-24 branch on the 21x21 map of a 321 px input's 0.5 scale otherwise needed the graph's fallback away from
 * oneDNN's reference kernel); the im2col reference computes every tap and so checks this one.
 */
final class CentreTap {
    static final ConvSpec ONE = ConvSpec.of(1, 1, 0, 1);
    /** -Dconta.conv.centreTap=false runs every tap (for benchmarks: bench/RESULTS.md). */
    private static final boolean ENABLED = conta.io.SystemProps.flag("conta.conv.centreTap", true);

    private CentreTap() { }

    /** Whether a convolution of spec s over h x w maps reads data only through its kernel's centre. */
    static boolean applies(ConvSpec s, int h, int w) {
        if (!ENABLED || s.kh() == 1 && s.kw() == 1) return false;
        return s.kh() % 2 == 1 && s.kw() % 2 == 1 && s.strideH() == 1 && s.strideW() == 1
                && s.padH() == s.dilH() * (s.kh() - 1) / 2 && s.padW() == s.dilW() * (s.kw() - 1) / 2
                && (s.kh() == 1 || s.dilH() >= h) && (s.kw() == 1 || s.dilW() >= w);
    }

    /** The centre weights [cout, cin, 1, 1] of w [cout, cin, kh, kw], in a new tensor. */
    static Tensor centre(Tensor w) {
        int co = w.dim(0), ci = w.dim(1), kh = w.dim(2), kw = w.dim(3), taps = kh * kw, c = centreIndex(kh, kw);
        Tensor wc = w.backend().empty(co, ci, 1, 1);
        MemorySegment src = seg(w), dst = seg(wc);
        for (long i = 0, n = (long) co * ci; i < n; i++) dst.setAtIndex(F, i, src.getAtIndex(F, i * taps + c));
        return wc;
    }

    /** The centre weights [cout, cin, 1, 1] of OIHW weights w of the given shape. */
    static float[] centre(float[] w, int[] shape) {
        int taps = shape[2] * shape[3], c = centreIndex(shape[2], shape[3]);
        float[] wc = new float[shape[0] * shape[1]];
        for (int i = 0; i < wc.length; i++) wc[i] = w[i * taps + c];
        return wc;
    }

    /** dw[:, :, centre] += dwc[:, :, 0, 0]. */
    static void addToCentre(Tensor dwc, Tensor dw) {
        int kh = dw.dim(2), kw = dw.dim(3), taps = kh * kw, c = centreIndex(kh, kw);
        MemorySegment src = seg(dwc), dst = seg(dw);
        for (long i = 0, n = dwc.numel(); i < n; i++) {
            long j = i * taps + c;
            dst.setAtIndex(F, j, dst.getAtIndex(F, j) + src.getAtIndex(F, i));
        }
    }

    /** The centre tap's offset within one kh x kw kernel (row-major). */
    private static int centreIndex(int kh, int kw) { return (kh / 2) * kw + kw / 2; }
}
